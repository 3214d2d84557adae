"""Diagnostics: problems in user input, as data.

Every stage that inspects user input returns diagnostics instead of raising. A diagnostic is located
(`file:line:col` plus a JSON pointer inside the document) so the CLI, the JSON output and GitHub
annotations can all point at the same place. Codes are stable: tools and people grep for them, and
`docs/diagnostics.md` documents each one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Severity(StrEnum):
    """How bad a diagnostic is: errors fail validation, warnings only annotate."""

    ERROR = "error"
    WARNING = "warning"


#: Stable diagnostic codes and a one-line title each (the catalogue in docs/diagnostics.md).
CODES: dict[str, str] = {
    # Layer 1: reading and parsing files.
    "MO001": "YAML syntax error",
    "MO002": "tab character used for indentation",
    "MO003": "duplicate mapping key",
    "MO004": "YAML tag not allowed",
    "MO005": "unresolved merge-conflict markers",
    "MO006": "file is not valid UTF-8",
    "MO007": "binary file (NUL byte)",
    "MO008": "document is not a mapping",
    "MO009": "alias expansion over the limit",
    "MO010": "nesting deeper than the limit",
    "MO011": "file larger than the limit",
    "MO012": "scalar larger than the limit",
    "MO013": "empty file or document",
    "MO014": "file cannot be read",
    "MO015": "complex mapping key",
    "MO016": "YAML version other than 1.2",
    "MO017": "YAML file the engine does not read",
    "MO018": "an environment's models folder is a symbolic link",
    "MO019": "an environment's models folder is missing while its state records models",
    "MO020": "file or command argument that leads outside the repository",
    "MO021": "file a setting names that cannot be read (not a regular file, too large)",
    "MO022": "folder named like a YAML file",
    "MO023": "file directly in environments/",
    # Layer 2: documents against the schema of their kind.
    "MO100": "unknown apiVersion",
    "MO101": "unknown kind",
    "MO102": "missing required field",
    "MO103": "unknown field",
    "MO104": "wrong type",
    "MO105": "invalid value",
    "MO106": "invalid duration",
    "MO107": "invalid size or quantity",
    "MO108": "invalid version for the model's versionScheme",
    "MO109": "literal value where a secret reference is required",
    "MO110": "kind not allowed in this file",
    "MO111": "invalid name",
    "MO112": "invalid container image reference",
    "MO113": "secret too short to mask",
    "MO115": "URL with credentials in it",
    "MO116": "file path that leaves the repository",
    "MO120": "local runtime deadline or traffic longer than allowed",
    "MO125": "unknown placeholder in the cluster's serviceUrl",
    "MO126": "cluster pollInterval longer than its timeout",
    "MO130": "business metric that shadows the catalogue or that the metric source cannot read",
    # Model registry artifacts, resolved by plan and apply (modelops.registries).
    "MO140": "model registry tracking server that cannot be used",
    "MO141": "unknown registered model",
    "MO142": "unknown alias or version of a registered model",
    "MO143": "registered model version whose files cannot be read",
    "MO144": "registered model version whose files do not match artifact.sha256",
    "MO150": "maintenance window that never opens, or stays open under 1m or over 7 days",
    "MO151": "maintenance channel tag without a version number",
    "MO152": "maintenance channel keyed by an image with a tag or digest",
    "MO155": "load test or traffic verification beyond its bounds",
    "MO156": "load test whose timeout is shorter than its load",
    "MO157": "traffic verification without an active endpoint to probe",
    "MO158": "traffic verification that needs more probes in a row than it sends",
    "MO145": "rollout notification channel that no EscalationPolicy, or more than one, sends",
    "MO146": "channel setting the exported Alertmanager configuration cannot express without a secret",
    # Layer 3: meaning across documents.
    "MO201": "unknown reference",
    "MO202": "duplicate name",
    "MO203": "environment name does not match its directory",
    "MO204": "canary weights must increase",
    "MO205": "minReplicas greater than maxReplicas",
    "MO206": "repeat interval shorter than group interval",
    "MO207": "freeze window ends before it starts",
    "MO208": "promotion chain has a cycle",
    "MO209": "thresholds out of order or not finite",
    "MO210": "unused definition",
    "MO211": "setting the target ignores or cannot express",
    "MO212": "threshold unit does not fit the metric",
    "MO213": "rename or retirement that contradicts the configuration",
    "MO220": "alert rule on a metric the environment does not have",
    "MO221": "escalation threshold for an alert type no model of the policy has",
    "MO222": "escalation thresholds per alert type on a rule that counts per policy",
    "MO230": "artifact.sha256 beside a registry alias",
    "MO231": "registry credentials sent over plain http",
    "MO232": "one artifact digest under different versions of a model across environments",
    "MO233": "version changes but the artifact digest does not (plan)",
    "MO234": "artifact digest changes under the same version (plan)",
    "MO240": "maintenance windows that never close",
    "MO241": "maintenance channel for an image no model of the environment runs",
    "MO235": "rollout notification that would page for routine events",
    "MO214": "model the local runtime cannot serve as configured",
    "MO215": "local target settings that are ignored",
    "MO216": "prometheus metric source without url outside a real local runtime",
    "MO217": "Rollout that promotes itself before modelops' preview tests can reach it",
    "MO245": "load test without limits",
    "MO246": "load test percentile over too few requests",
    "MO247": "load test limits out of order",
    "MO248": "traffic verification a gitops target cannot run",
    # Layer 4: guardrails.
    "MO301": "guardrail violated",
    "MO302": "guardrail schema is not a valid JSON Schema",
    # Command input that is not YAML (paths, flags that name things).
    "MO401": "path is not part of the ops repository",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in user input.

    `line` and `column` are 1-based; `path` is a JSON pointer inside the document (`/spec/scaling`),
    empty for file-level problems. `span` is how many characters the caret under the snippet covers.
    `sensitive` marks diagnostics whose source text may hold a credential: renderers mask the span.
    """

    severity: Severity
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str = ""
    hint: str | None = None
    span: int = 1
    sensitive: bool = False

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def dotted_path(self) -> str:
        """The JSON pointer as a reader writes it: `/spec/tests/0/name` -> `spec.tests[0].name`."""
        return dotted(self.path)

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "hint": self.hint,
        }


def error(code: str, message: str, **where: object) -> Diagnostic:
    return _make(Severity.ERROR, code, message, where)


def warning(code: str, message: str, **where: object) -> Diagnostic:
    return _make(Severity.WARNING, code, message, where)


def _make(severity: Severity, code: str, message: str, where: dict[str, object]) -> Diagnostic:
    if code not in CODES:  # a typo here would publish an undocumented code
        raise ValueError(f"unknown diagnostic code {code}")
    return replace(Diagnostic(severity, code, message), **where)  # type: ignore[arg-type]


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Stable reading order: by file, then position, then code."""
    return sorted(diagnostics, key=lambda d: (d.file or "", d.line or 0, d.column or 0, d.code, d.message))


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer, escaping `~` and `/` as RFC 6901 requires."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_parts(ptr: str) -> list[str]:
    if not ptr:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]


def dotted(ptr: str) -> str:
    out = ""
    for part in pointer_parts(ptr):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def clip(text: str, limit: int = 60) -> str:
    """User text as a message quotes it: cut to `limit` characters, so a message never carries a whole file."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def did_you_mean(word: str, candidates: Sequence[str] | Iterable[str]) -> str | None:
    """The closest candidate to a misspelt word (or the one it abbreviates), or None when nothing is close."""
    options = list(candidates)
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    prefixed = [c for c in options if len(word) >= 3 and c.lower().startswith(word.lower())]
    return prefixed[0] if len(prefixed) == 1 else None


def suggestion(word: str, candidates: Iterable[str]) -> str:
    """` (did you mean "x"?)` or the empty string, for appending to a message."""
    best = did_you_mean(word, candidates)
    return f' (did you mean "{best}"?)' if best else ""

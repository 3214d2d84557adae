"""What the configuration asks of this machine: the files it names, the commands it runs from the repository,
the secrets it refers to.

Checked afresh on every validation and never remembered by the cache: the file system and the environment
variables are not part of the configuration's text, and a link planted beside an unchanged file must not be
recalled as valid.

- A file the configuration names (`spec.metrics.path`; `serving.local.requests`; an `auth` block's `tls.ca`,
  `tls.cert` and `tls.key` when written as a path) and an environment's usage history
  (`environments/<env>/usage.csv` or `.json`) are read only if they are regular files inside the repository,
  within a size limit (`modelops.base.paths.read_inside`). What the reader would refuse is an error here, located
  at the setting that names the file: MO020 when the path (or a link on the way) leads outside the repository,
  MO021 when it is not a regular file or too large. A file that does not exist yet is not reported: a job may
  produce it before the command that reads it, which then says it is missing.
- A command (`spec.tests[].command`, `serving.local.command`) runs from the repository root with the user's
  rights: modelops cannot sandbox it. What it does check: an argument that is a relative path (`eval.py`,
  `./scripts/check.sh`, `../x`) must stay inside the repository, as written and through links (MO020). An
  absolute path (`/usr/bin/python3`) names the machine openly, in the diff a reviewer reads, and is allowed, as
  is a program found on PATH; what the program then opens is its own business.
- A secret reference whose variable is set to a value shorter than `MIN_MASKABLE` characters cannot be masked
  (see `modelops.config.scalars.secretref`): MO113, a warning, only when the variable is set, never showing it.
- A URL setting whose variable is set to a URL with `user:password@` in it: MO115 (`modelops.validate.urls`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.base.diagnostics import Diagnostic, clip, error, pointer
from modelops.base.layout import usage_files
from modelops.base.paths import DATA_LIMIT, Refusal, contained, goes_up, probe_inside, size_text
from modelops.config.loader import SourceDocument
from modelops.config.repo import Sources
from modelops.config.scalars.secretref import MIN_MASKABLE, REFERENCE, maskable
from modelops.config.spec.http import MAX_TLS_FILE
from modelops.validate.findings import Findings
from modelops.validate.urls import credentials_in_urls


@dataclass(frozen=True, slots=True)
class Named:
    """A file a setting names: where the setting is (document, JSON pointer), the path, and its size limit."""

    document: SourceDocument
    ptr: str
    path: str
    limit: int
    what: str


def check_host(root: Path, sources: Sources, environ: Mapping[str, str] | None = None) -> list[Diagnostic]:
    """The diagnostics above, for the documents `sources` loaded."""
    findings = Findings(sources)
    escapes: dict[str, str | None] = {}  # by argument: thousands of models run the same few commands
    for document in sources.documents():
        for named in _named_files(document):
            _check_file(root, named, findings)
        for where, argv in _commands(document):
            for i, arg in enumerate(argv):
                if isinstance(arg, str):
                    if arg not in escapes:
                        escapes[arg] = _argument_escapes(root, arg)
                    if escapes[arg] is not None:
                        _escaping_argument(document, pointer(*where, i), arg, escapes[arg] or "", findings)
    found = list(findings.diagnostics)
    found += _usage_files(root, sources)
    found += _short_secrets(sources, os.environ if environ is None else environ)
    found += credentials_in_urls(sources, os.environ if environ is None else environ)
    return found


# -- files --------------------------------------------------------------------------------------------------------


def _named_files(document: SourceDocument) -> Iterator[Named]:
    kind, spec = document.data.get("kind"), _mapping(document.data.get("spec"))
    if kind == "Environment":
        metrics = _mapping(spec.get("metrics"))
        if metrics.get("source") == "file" and isinstance(metrics.get("path"), str):
            yield Named(document, "/spec/metrics/path", metrics["path"], DATA_LIMIT, "metrics file")
    if kind == "Model":
        local = _mapping(_mapping(spec.get("serving")).get("local"))
        if isinstance(local.get("requests"), str):
            yield Named(document, "/spec/serving/local/requests", local["requests"], DATA_LIMIT, "requests file")
    if kind not in _WITH_AUTH:
        return
    for ptr, tls in _tls_blocks(document.data, ""):
        for name in ("ca", "cert", "key"):
            value = tls.get(name)
            # a reference names a path on the machine; a path that leaves the repository as written is MO116
            if isinstance(value, str) and not value.startswith(("$", "/", "~")) and ".." not in value.split("/"):
                yield Named(document, f"{ptr}/{name}", value, MAX_TLS_FILE, f"TLS {name} file")


#: The kinds whose settings may hold an `auth` block (the Prometheus source, the webhook target, channels).
_WITH_AUTH = ("Environment", "EscalationPolicy")


def _tls_blocks(node: Any, ptr: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every `auth.tls` mapping in a document, with its JSON pointer."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = ptr + pointer(str(key))
            if key == "auth" and isinstance(value, dict) and isinstance(value.get("tls"), dict):
                yield here + "/tls", value["tls"]
            yield from _tls_blocks(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _tls_blocks(value, ptr + pointer(i))


def _check_file(root: Path, named: Named, findings: Findings) -> None:
    refusal = probe_inside(root, named.path, named.limit)
    if refusal is None or refusal.missing:
        return
    message = f"the {named.what} {clip(named.path)} cannot be read: {refusal.reason}"
    findings.error(_code(refusal), message, named.document, named.ptr, hint=_hint(refusal, named.limit))


def _code(refusal: Refusal) -> str:
    return "MO020" if refusal.outside else "MO021"


def _hint(refusal: Refusal, limit: int) -> str:
    if refusal.outside:
        return ("modelops reads only files inside the repository: commit the file and name it relative to the "
                "repository root (a link is followed only when it stays inside)")
    return f"modelops reads regular files of at most {size_text(limit)}: replace it with one, or remove it"


def _usage_files(root: Path, sources: Sources) -> list[Diagnostic]:
    """The usage history beside each environment file loaded here, located at the file itself (no setting names
    it). Whatever sits at the name counts, as for the reader: a FIFO there is refused, not skipped."""
    found = []
    for rel in sources.files:
        parts = rel.split("/")
        if len(parts) != 3 or parts[0] != "environments" or parts[2] not in ("environment.yaml", "environment.yml"):
            continue
        usage = next((f for f in usage_files(parts[1]) if os.path.lexists(root / f)), None)
        refusal = probe_inside(root, usage, DATA_LIMIT) if usage is not None else None
        if refusal is not None and not refusal.missing:
            found.append(error(_code(refusal), f"the usage history {usage} cannot be read: {refusal.reason}",
                               file=usage, line=1, column=1, hint=_hint(refusal, DATA_LIMIT)))
    return found


# -- commands -----------------------------------------------------------------------------------------------------


def _commands(document: SourceDocument) -> Iterator[tuple[tuple[str | int, ...], list[Any]]]:
    """Each command a model runs from the repository root, with where it is (the parts of its JSON pointer)."""
    if document.data.get("kind") != "Model":
        return
    spec = _mapping(document.data.get("spec"))
    tests = spec.get("tests")
    for i, test in enumerate(tests if isinstance(tests, list) else []):
        if isinstance(test, dict) and isinstance(test.get("command"), list):
            yield ("spec", "tests", i, "command"), test["command"]
    local = _mapping(_mapping(spec.get("serving")).get("local"))
    if isinstance(local.get("command"), list):
        yield ("spec", "serving", "local", "command"), local["command"]


def _escaping_argument(document: SourceDocument, ptr: str, arg: str, problem: str, findings: Findings) -> None:
    findings.error("MO020", f"the command's argument {clip(arg)} leads outside the repository: {problem}", document,
                   ptr, hint="a command runs from the repository root: name scripts and files inside it, relative to "
                             "the root (an absolute path such as /usr/bin/python3 names a program of the machine "
                             "openly, and is allowed)")


def _argument_escapes(root: Path, arg: str) -> str | None:
    """Why an argument, read as a relative path, leads outside the repository (None: it does not, or it is not a
    relative path: an option, a URL, an absolute path, a word without a slash that names nothing in the
    repository). A path with a slash is followed through the links on its way even when its file does not exist
    yet (a folder linked elsewhere)."""
    if not arg or arg.startswith(("-", "/")) or "://" in arg:
        return None
    if ".." in arg and goes_up(arg):
        return "it goes up out of the repository root (..)"
    path = root / arg
    if ("/" not in arg and not os.path.lexists(path)) or contained(path, root):
        return None
    return f"it resolves to {os.path.realpath(path)} through a symbolic link, outside the repository"


# -- secrets ------------------------------------------------------------------------------------------------------


def _short_secrets(sources: Sources, environ: Mapping[str, str]) -> list[Diagnostic]:
    """MO113 where a reference's variable is set to a value too short to mask. The texts are searched first: most
    repositories refer to no such variable, and then no document is walked."""
    short = {name for name, value in environ.items() if value and not maskable(value)}
    findings = Findings(sources)
    for source in sources.files.values():
        named = short.intersection(REFERENCE.findall(source.text)) if "${env:" in source.text else set()
        for document in source.documents if named else ():
            for ptr, variable in _references(document.data, ""):
                if variable in named:
                    findings.warning(
                        "MO113", f"${{env:{variable}}} is set to a value of {len(environ[variable])} character"
                                 f"{'s' if len(environ[variable]) != 1 else ''}, too short to mask: it would appear "
                                 "as it is in messages, logs and reports", document, ptr,
                        hint=f"modelops masks secrets of at least {MIN_MASKABLE} characters (a shorter one would "
                             f'garble ordinary words: "con" in "connection"); give {variable} a longer value')
    return findings.diagnostics


def _references(node: Any, ptr: str) -> Iterator[tuple[str, str]]:
    """Every `${env:NAME}` in a document's strings: (JSON pointer, NAME)."""
    if isinstance(node, str):
        for match in REFERENCE.finditer(node):
            yield ptr, match.group(1)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _references(value, ptr + pointer(str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _references(value, ptr + pointer(i))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

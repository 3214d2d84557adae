"""Secret references: `${env:NAME}`, resolved from the environment only when a value is needed; and masking, which
keeps resolved values out of everything written.

Masking replaces a secret where it stands as a whole token (`scrub`): "apikey" is masked in "user apikey refused"
but not in "apikeys", and a user name "admin" leaves "administrator" alone. A value that looks like a token (8+
characters with a digit, or 20+) is masked wherever it appears, even glued to other text (`%2Fs3cr3tvalue` in
an encoded URL): no word contains one by accident. A value shorter than `MIN_MASKABLE` characters is never
masked: replacing "con" everywhere turned "connection refused" into "***nection refused", and hid nothing a
reader could not guess. `modelops validate` warns (MO113) when a reference resolves to such a value.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError

PATTERN = r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$"
#: one `${env:NAME}` reference inside text (the variable name is group 1)
REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
#: Text in which every `${` begins a reference (what `parse_template` accepts, for editors)
TEMPLATE_PATTERN = r"^(?:[^$]|\$(?!\{)|\$\{env:[A-Za-z_][A-Za-z0-9_]*\})*$"
_OPENING = re.compile(r"\$\{")
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|API_?KEY|PRIVATE|CREDENTIAL|AUTH", re.IGNORECASE)
_LOOSE = re.compile(r"\$\{\s*env\s*:\s*([^}]*)\}|\$\{([^}:]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, order=True, slots=True)
class SecretRef:
    """A pointer to a secret; `str()` gives the reference, never the value."""

    variable: str

    def __str__(self) -> str:
        return "${env:" + self.variable + "}"

    def resolve(self, environ: Mapping[str, str] | None = None) -> str:
        """The secret's value. Raises `ScalarError` when the variable is unset or empty."""
        value = (os.environ if environ is None else environ).get(self.variable, "")
        if not value:
            raise ScalarError(f"environment variable {self.variable} is not set (needed by {self})")
        return value


def parse_secret_ref(value: object) -> SecretRef:
    # Messages never repeat the literal: it may be the very credential we must not print.
    if not isinstance(value, str):
        raise ScalarError(f'expected a secret reference such as "${{env:NAME}}", got {type(value).__name__}')
    match = REFERENCE.fullmatch(value.strip())
    if match:
        return SecretRef(match.group(1))
    loose = _LOOSE.search(value)
    if loose:
        name = _variable(next(g for g in loose.groups() if g is not None))
        raise ScalarError(f'malformed secret reference: write "${{env:{clip(name)}}}"')
    raise ScalarError('literal value where a secret reference is required: write "${env:NAME}" and set NAME')


@dataclass(frozen=True, slots=True)
class Template:
    """Text that may hold `${env:NAME}` references (an HTTP header value such as "Bearer ${env:MODEL_TOKEN}").

    `str()` gives the text as written; the references are resolved only by `resolve`, when the text is used."""

    text: str
    refs: tuple[SecretRef, ...] = ()

    def __str__(self) -> str:
        return self.text

    def resolve(self, environ: Mapping[str, str] | None = None) -> str:
        """The text with each reference replaced by its value. Raises `ScalarError` when a variable is unset."""
        return REFERENCE.sub(lambda match: SecretRef(match.group(1)).resolve(environ), self.text)

    @property
    def literal(self) -> str:
        """The text without its references: what is written in the file itself."""
        return REFERENCE.sub("", self.text)


def parse_template(value: object) -> Template:
    """Text with optional `${env:NAME}` references; a malformed reference (`${SLACK_URL}`) is an error."""
    if not isinstance(value, str):
        raise ScalarError(f"expected text, got {type(value).__name__}")
    refs = tuple(SecretRef(match.group(1)) for match in REFERENCE.finditer(value))
    bad = next((m.start() for m in _OPENING.finditer(value) if not REFERENCE.match(value, m.start())), None)
    if bad is not None:
        loose = _LOOSE.search(value[bad:])
        name = _variable(next((g for g in loose.groups() if g is not None), "") if loose else "")
        raise ScalarError(f'malformed secret reference: write "${{env:{clip(name)}}}"')
    return Template(value, refs)


def _variable(written: str) -> str:
    """A valid variable name close to what was written (`slack-url` -> `SLACK_URL`), so the suggestion parses."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", written.strip()).strip("_").upper()
    return ("_" + name if name[:1].isdigit() else name) or "NAME"


def refs_in(value: object) -> set[SecretRef]:
    """Every secret reference inside a configuration value (pydantic models, mappings, sequences)."""
    if isinstance(value, SecretRef):
        return {value}
    if isinstance(value, Template):
        return set(value.refs)
    if isinstance(value, Mapping):
        return {ref for item in value.values() for ref in refs_in(item)}
    if isinstance(value, (list, tuple)):
        return {ref for item in value for ref in refs_in(item)}
    fields = getattr(type(value), "model_fields", None)  # a pydantic model, without importing pydantic here
    return {ref for name in fields or () for ref in refs_in(getattr(value, name))}


def sensitive_values(refs: Iterable[SecretRef], environ: Mapping[str, str]) -> list[str]:
    """Values to keep out of anything written: the secrets the configuration refers to, and any variable whose
    name says it is one (a CI token that a test command, which inherits the environment, could print)."""
    named = [environ.get(ref.variable, "") for ref in refs]
    named += [value for key, value in environ.items() if _SECRET_NAME.search(key) and len(value) >= 8]
    return [value for value in named if value]


def fragments(value: str) -> list[str]:
    """A resolved secret and the pieces of it a server may echo back alone ("no such hook /services/T0/..."):
    for a URL, its path and query, its credentials, and every path segment or query value that looks like a
    token (a plain word such as `deploy` is left alone: masking it everywhere would garble messages)."""
    found = [value]
    parts = urllib.parse.urlsplit(value)
    if parts.scheme and parts.netloc:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        found += [p for p in (path, parts.netloc.rpartition("@")[0]) if len(p) >= 8]
        found += [p for p in [*parts.path.split("/"), *(v for _, v in urllib.parse.parse_qsl(parts.query))]
                  if _token_like(p)]
    return found


def _token_like(text: str) -> bool:
    return len(text) >= 20 or (len(text) >= 8 and any(c.isdigit() for c in text))


#: The shortest value masking replaces: shorter ones are ordinary text ("con", "dev"), and masking them would
#: garble every message that contains them while hiding nothing.
MIN_MASKABLE = 4
#: A letter or digit: a secret that begins (ends) with one is masked only where none stands before (after) it.
_WORD_BEFORE = r"(?<![^\W_])"
_WORD_AFTER = r"(?![^\W_])"


def maskable(value: str) -> bool:
    """Whether `scrub` masks this value (it is at least `MIN_MASKABLE` characters long)."""
    return len(value) >= MIN_MASKABLE


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every fragment of the resolved `secrets` replaced by `***`, where it stands as a whole token
    (or anywhere, for a token-like value); values shorter than `MIN_MASKABLE` are left alone."""
    pieces = {f for secret in secrets if secret for f in fragments(secret) if maskable(f)}
    if not pieces:
        return text
    pattern = "|".join(_masked(piece) for piece in sorted(pieces, key=lambda p: (-len(p), p)))  # longest first
    return re.sub(pattern, "***", text)


def _masked(piece: str) -> str:
    """The pattern of one value: itself, bounded by non-alphanumerics where it begins or ends with one."""
    if _token_like(piece):
        return re.escape(piece)
    before = _WORD_BEFORE if piece[0].isalnum() else ""
    after = _WORD_AFTER if piece[-1].isalnum() else ""
    return before + re.escape(piece) + after

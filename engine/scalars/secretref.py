"""Secret references: `${env:NAME}`, resolved from the environment only when a value is needed."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from engine.scalars import ScalarError

PATTERN = r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$"
_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
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
    match = _REF.fullmatch(value.strip())
    if match:
        return SecretRef(match.group(1))
    loose = _LOOSE.search(value)
    if loose:
        name = next(g for g in loose.groups() if g is not None).strip() or "NAME"
        raise ScalarError(f'malformed secret reference: write "${{env:{name}}}"')
    raise ScalarError('literal value where a secret reference is required: write "${env:NAME}" and set NAME')

"""Version schemes: how a model's versions are written and which of two versions is the newer.

- `semver` (the default): semver.org 2.0.0, `1.4.2`, `2.0.0-rc.1`; ordered by semver precedence.
- `integer`: a model registry's version numbers, `3`, `17` (MLflow numbers every registered model's versions
  1, 2, 3, ...); ordered as numbers. The default of a model whose artifact comes from a registry.
- `calver`: a calendar version, a year (`2024` or `24`) and one to three more numbers, `2024.06.1`, `24.04`;
  ordered number by number.
- `any`: any label (letters, digits, `.`, `_`, `+`, `-`), such as a git SHA; no order, so a change of version is
  always a move forward (an upgrade, with its gates), never an inferred rollback.

The order decides what a plan calls an upgrade and what a rollback (`modelops.core.diff`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError
from modelops.config.scalars.semver import parse_semver

Scheme = Literal["semver", "integer", "calver", "any"]
SCHEMES: tuple[Scheme, ...] = ("semver", "integer", "calver", "any")

#: The largest registry version (15 digits): JSON numbers are exact up to 2^53, and no registry gets near it.
MAX_INTEGER = 10**15 - 1
INTEGER_PATTERN = r"^(0|[1-9][0-9]{0,14})$"
CALVER_PATTERN = r"^([0-9]{4}|[0-9]{2})(\.[0-9]{1,6}){1,3}$"
ANY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$"
_INTEGER = re.compile(INTEGER_PATTERN)
_CALVER = re.compile(CALVER_PATTERN)
_ANY = re.compile(ANY_PATTERN)


@dataclass(frozen=True, slots=True)
class Version:
    """A version as written (`text`), read in its scheme; `key` orders versions of one scheme (None: `any`)."""

    text: str
    scheme: Scheme
    key: tuple[object, ...] | None

    def __str__(self) -> str:
        return self.text


def version_text(value: object) -> str:
    """The text of a version as YAML gives it: a string, or a whole number (`version: 3`) as its digits."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScalarError(f"expected a version such as \"1.4.2\" or 3, got {_kind(value)}")
    if isinstance(value, int):
        if value < 0:
            raise ScalarError(f"expected a version such as \"1.4.2\" or 3, got the negative number {value}")
        return str(value)
    if not value:
        raise ScalarError("empty version; write the version to serve, such as \"1.4.2\"")
    return value


def parse_version(value: object, scheme: Scheme) -> Version:
    """`value` read in `scheme`; `ScalarError` says what the scheme expects."""
    if scheme == "semver":
        return Version(str(value), scheme, _semver_key(value))
    text = version_text(value)
    if scheme == "integer":
        if not _INTEGER.match(text):
            raise ScalarError(f'invalid version "{clip(text)}" for versionScheme integer: expected a whole number '
                              "such as 3, as a model registry numbers its versions")
        return Version(text, scheme, (int(text),))
    if scheme == "calver":
        if not _CALVER.match(text):
            raise ScalarError(f'invalid version "{clip(text)}" for versionScheme calver: expected a year and one to '
                              'three numbers, dot-separated, such as "2024.06.1" or "24.04"')
        return Version(text, scheme, tuple(int(part) for part in text.split(".")))
    if not _ANY.match(text):
        raise ScalarError(f'invalid version "{clip(text)}": expected letters, digits, ".", "_", "+" or "-" (at most '
                          "128 characters, starting with a letter or digit)")
    return Version(text, scheme, None)


def _semver_key(value: object) -> tuple[object, ...]:
    try:
        return parse_semver(value).precedence()
    except ScalarError as exc:
        if (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, str) and _INTEGER.match(value)):
            # a registry's version number: say how to declare one
            raise ScalarError(f"{exc}; for a model registry's version numbers set versionScheme: integer") from None
        raise


def precedes(older: str, newer: str, scheme: Scheme) -> bool | None:
    """Whether version `older` sorts before `newer` in `scheme`; None when they cannot be compared (the scheme is
    `any`, or one of them was recorded under another scheme)."""
    try:
        first, second = parse_version(older, scheme), parse_version(newer, scheme)
    except ScalarError:
        return None
    if first.key is None or second.key is None:
        return None
    return first.key < second.key


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    return "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else type(value).__name__

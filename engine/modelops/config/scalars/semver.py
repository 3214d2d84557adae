"""Semantic versions (semver.org 2.0.0): `1.4.2`, `2.0.0-rc.1`, `1.0.0+build.7`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError

_NUM = r"0|[1-9][0-9]*"
_PRE_ID = r"0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*"
PATTERN = (
    rf"^({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-((?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_SEMVER = re.compile(PATTERN)


@dataclass(frozen=True, slots=True)
class SemVer:
    """A parsed semantic version; ordering follows semver precedence (build metadata ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        return text + (f"+{self.build}" if self.build else "")

    def precedence(self) -> tuple[object, ...]:
        # A release sorts after its pre-releases; numeric identifiers sort before alphanumeric ones.
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, not self.prerelease, pre)

    def __lt__(self, other: SemVer) -> bool:
        return self.precedence() < other.precedence()


def parse_semver(value: object) -> SemVer:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ScalarError(
            f'expected a semantic version such as "1.4.2", got the number {value}; write all three parts and quote it'
        )
    if not isinstance(value, str):
        raise ScalarError(f'expected a semantic version such as "1.4.2", got {type(value).__name__}')
    text = value.strip()
    if text[:1] in ("v", "V") and _SEMVER.match(text[1:]):
        raise ScalarError(f'semantic versions have no "v" prefix: write "{clip(text[1:])}" instead of "{clip(text)}"')
    match = _SEMVER.match(text)
    if not match:
        raise ScalarError(_explain(text))
    major, minor, patch, pre, build = match.groups()
    return SemVer(int(major), int(minor), int(patch), tuple(pre.split(".")) if pre else (), build or "")


def _explain(text: str) -> str:
    core = re.split(r"[-+]", text, maxsplit=1)[0]
    parts = core.split(".")
    if len(parts) != 3:
        return f'invalid semantic version "{clip(text)}": expected MAJOR.MINOR.PATCH (three numbers), such as "1.4.2"'
    if any(p.startswith("0") and len(p) > 1 for p in parts if p.isdigit()):
        return f'invalid semantic version "{clip(text)}": numbers must not have leading zeros'
    return (f'invalid semantic version "{clip(text)}": expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], such as '
            '"2.0.0-rc.1"')

"""Durations in Prometheus notation: `500ms`, `30s`, `5m`, `1h30m`, `7d`, `2w`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError

UNITS_MS: dict[str, int] = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
# What the parser accepts, for editors: units from largest to smallest, each at most once, at least one.
PATTERN = r"^(?=[0-9])([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$"
#: The longest duration: nothing the engine waits for, repeats or looks back over is longer, and a bound keeps
#: absurd values out of the configs it renders (Alertmanager's repeat_interval, Prometheus' `for`).
MAX = 3650 * UNITS_MS["d"]
_MAX_TEXT = "10 years (3650d)"
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w)")
_EXAMPLES = '"30s", "5m", "1h30m"'


@dataclass(frozen=True, order=True, slots=True)
class Duration:
    """A non-negative span of time with millisecond resolution."""

    ms: int

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        if self.ms == 0:
            return "0s"
        out, rest = "", self.ms
        for unit, size in UNITS_MS.items():
            count, rest = divmod(rest, size)
            if count:
                out += f"{count}{unit}"
        return out


def parse_duration(text: object) -> Duration:
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ScalarError(f"expected a duration such as {_EXAMPLES}, got {type(text).__name__}")
    if isinstance(text, int):
        raise ScalarError(f'missing unit in duration {text} (did you mean "{text}s"?); units: ms, s, m, h, d, w')
    value = text.strip()
    if not value:
        raise ScalarError(f"empty duration; expected something like {_EXAMPLES}")
    if value.isdigit():
        raise ScalarError(f'missing unit in duration "{clip(value)}" (did you mean "{clip(value)}s"?); units: ms, s, '
                          "m, h, d, w")
    return Duration(_sum_parts(value))


def _sum_parts(value: str) -> int:
    pos, total, last_size = 0, 0, None
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        size = UNITS_MS[match.group(2)]
        if last_size is not None and size >= last_size:
            raise ScalarError(f'units in duration "{clip(value)}" must go from largest to smallest, each once (e.g. '
                              '"1h30m")')
        if len(match.group(1)) > 12:  # longer than any bound, and too long for int() past 4,300 digits
            raise _too_long(value)
        total, pos, last_size = total + int(match.group(1)) * size, match.end(), size
    if pos != len(value):
        raise ScalarError(
            f'invalid duration "{clip(value)}": expected numbers with units ms, s, m, h, d or w, such as {_EXAMPLES}'
        )
    if total > MAX:
        raise _too_long(value)
    return total


def _too_long(value: str) -> ScalarError:
    return ScalarError(f'duration "{clip(value)}" is longer than {_MAX_TEXT}, the longest modelops accepts')

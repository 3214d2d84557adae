"""CPU quantities in Kubernetes notation: `4`, `0.5`, `500m`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError

MAX_MILLICORES = 10**9  # a million cores: beyond any machine
PATTERN = r"^([0-9]+(\.[0-9]+)?|[0-9]+m)$"
_CPU = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m?)")


@dataclass(frozen=True, order=True, slots=True)
class Cpu:
    """An amount of CPU in millicores, remembered with the notation the user wrote."""

    millicores: int
    text: str

    @property
    def cores(self) -> float:
        return self.millicores / 1000

    def __str__(self) -> str:
        return self.text


def parse_cpu(value: object) -> Cpu:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ScalarError(f'expected a CPU amount such as "4", "0.5" or "500m", got {type(value).__name__}')
    if isinstance(value, float) and not math.isfinite(value):
        raise ScalarError("CPU amount must be a finite number")
    text = str(value).strip()
    match = _CPU.fullmatch(text)
    if not match or (match.group(2) and "." in match.group(1)):
        raise ScalarError(f'invalid CPU amount "{clip(text)}": use cores ("4", "0.5") or millicores ("500m")')
    number, milli = match.groups()
    if len(number.partition(".")[0]) > 10:  # checked first: keeps int() and float() in their range
        raise _too_large(text)
    millicores = int(number) if milli else round(float(number) * 1000)
    if millicores > MAX_MILLICORES:
        raise _too_large(text)
    if millicores <= 0:
        raise ScalarError(f'CPU amount "{clip(text)}" must be greater than zero')
    return Cpu(millicores, text)


def _too_large(text: str) -> ScalarError:
    return ScalarError(f'CPU amount "{clip(text)}" is too large: at most a million cores')

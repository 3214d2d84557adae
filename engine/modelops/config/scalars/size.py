"""Byte sizes in Kubernetes quantity notation: `512Mi`, `16Gi`, `1G`, `1500000`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError

SUFFIXES: dict[str, int] = {
    "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
}
MAX = 2**60  # 1 EiB: far beyond any machine, and a bound that keeps the arithmetic finite
PATTERN = r"^[0-9]+(\.[0-9]+)?(k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$"
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)")


@dataclass(frozen=True, order=True, slots=True)
class Size:
    """A number of bytes, remembered with the notation the user wrote."""

    bytes: int
    text: str

    @property
    def gib(self) -> float:
        return self.bytes / 2**30

    def __str__(self) -> str:
        return self.text


def parse_size(value: object) -> Size:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScalarError(f'expected a size such as "512Mi" or "16Gi", got {type(value).__name__}')
    text = str(value).strip()
    match = _SIZE.fullmatch(text)
    if not match:
        raise ScalarError(f'invalid size "{clip(text)}": expected a number with an optional suffix such as "512Mi" '
                          'or "16Gi"')
    number, suffix = match.groups()
    if suffix not in SUFFIXES:
        hint = f' (did you mean "{number}{suffix[0].upper()}i"?)' if suffix[:1].lower() in "kmgtp" else ""
        raise ScalarError(f'unknown size suffix "{clip(suffix)}" in "{clip(text)}"{hint}; use Ki, Mi, Gi, Ti or k, '
                          "M, G, T")
    amount = float(number) * SUFFIXES[suffix]
    if amount > MAX:  # also a number too long for a float (inf), which no int() could take
        raise ScalarError(f'size "{clip(text)}" is over 1 EiB, the largest modelops accepts')
    return Size(int(amount), text)

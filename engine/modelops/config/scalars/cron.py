"""Five-field cron expressions (crontab(5)): `0 8 * * 1-5`, `*/15 9-17 * JAN-MAR MON,WED,FRI`.

A schedule's `cron` is the start of a KEDA cron trigger; a value out of its field's range ("61 8 * * *") is
refused here, naming the field, instead of reaching the autoscaler. Each field is `*`, a value, a range `a-b`,
either with a step `/n`, or a comma-separated list of those. Months and weekdays may be names (JAN-DEC,
SUN-SAT, any case); day of week 0 and 7 are both Sunday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_EXAMPLE = '"0 8 * * 1-5"'


@dataclass(frozen=True, slots=True)
class _Field:
    """One field: its name in messages, its range, its names (value of the first) and regex fragments."""

    name: str
    low: int
    high: int
    value: str  # a number in range, as a regex (editors check ranges through the published pattern)
    step: str  # a step from 1 to `high`, as a regex
    names: tuple[str, ...] = ()
    first_name: int = 0

    @property
    def shown(self) -> str:
        numbers = f"{self.low}-{self.high}"
        return f"{numbers} or {self.names[0]}-{self.names[-1]}" if self.names else numbers

    def number(self, token: str) -> int | None:
        """The value of a number or a name of this field, or None when the token is neither."""
        if token.isascii() and token.isdigit() and len(token) <= 2:
            return int(token)
        upper = token.upper() if token.isascii() else ""  # "ſun".upper() is "SUN": only ASCII names count
        return self.names.index(upper) + self.first_name if upper in self.names else None


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.lower()}]" for c in word)


FIELDS = (
    _Field("minute", 0, 59, r"[0-5]?[0-9]", r"0?[1-9]|[1-5][0-9]"),
    _Field("hour", 0, 23, r"[01]?[0-9]|2[0-3]", r"0?[1-9]|1[0-9]|2[0-3]"),
    _Field("day of month", 1, 31, r"0?[1-9]|[12][0-9]|3[01]", r"0?[1-9]|[12][0-9]|3[01]"),
    _Field("month", 1, 12, r"0?[1-9]|1[0-2]|" + "|".join(map(_any_case, _MONTHS)), r"0?[1-9]|1[0-2]",
           _MONTHS, 1),
    _Field("day of week", 0, 7, r"0?[0-7]|" + "|".join(map(_any_case, _WEEKDAYS)), r"0?[1-7]", _WEEKDAYS, 0),
)


def _field_pattern(field: _Field) -> str:
    item = rf"(\*|({field.value})(-({field.value}))?)(/({field.step}))?"
    return rf"{item}(,{item})*"


# What the parser accepts, for editors: every field's ranges, lists and steps; only "a range that goes backwards"
# (5-1) is beyond a pattern, and the schema's `format: cron` names it for tools that check formats.
PATTERN = "^" + r"[ \t]+".join(_field_pattern(f) for f in FIELDS) + "$"
_SEPARATOR = re.compile(r"[ \t]+")


@dataclass(frozen=True, slots=True)
class Cron:
    """A checked cron expression: its text (as written) and the values each field selects."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0-6, Sunday 0 (a 7 is folded into 0)

    def __str__(self) -> str:
        return self.text


def parse_cron(text: object) -> Cron:
    if not isinstance(text, str):
        raise ScalarError(f"expected a cron expression such as {_EXAMPLE}, got {type(text).__name__}")
    parts = _SEPARATOR.split(text)
    if len(parts) != len(FIELDS) or not all(parts):
        count = len([p for p in parts if p])
        raise ScalarError(f'cron expression "{clip(text)}" has {count} field{"" if count == 1 else "s"}; expected 5 '
                          f"(minute, hour, day of month, month, day of week), such as {_EXAMPLE}")
    values = [_parse_field(part, field, text) for part, field in zip(parts, FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in values[4])
    return Cron(text, values[0], values[1], values[2], values[3], weekdays)


def _parse_field(part: str, field: _Field, text: str) -> frozenset[int]:
    selected: set[int] = set()
    for item in part.split(","):
        selected.update(_parse_item(item, field, text))
    return frozenset(selected)


def _parse_item(item: str, field: _Field, text: str) -> range:
    base, slash, step_text = item.partition("/")
    step = _step(step_text, field, text) if slash else 1
    if base == "*":
        return range(field.low, field.high + 1, step)
    start_text, dash, end_text = base.partition("-")
    start = _value(start_text, field, text)
    if not dash:  # "5/15" runs from 5 to the end of the field, as in Vixie cron and KEDA's parser
        return range(start, (field.high if slash else start) + 1, step)
    end = _value(end_text, field, text)
    if end < start:
        raise _problem(text, f'{field.name} range "{clip(base)}" goes backwards: write the smaller value first')
    return range(start, end + 1, step)


def _value(token: str, field: _Field, text: str) -> int:
    number = field.number(token)
    if number is None:
        what = f'"{clip(token)}" is not a number' + (" or a name" if field.names else "")
        raise _problem(text, f"{field.name}: {what if token else 'a value is missing'} (expected {field.shown}, *, "
                             "a list a,b, a range a-b or a step /n)")
    if not field.low <= number <= field.high:
        raise _problem(text, f"{field.name} {number} is out of range {field.shown}")
    return number


def _step(token: str, field: _Field, text: str) -> int:
    if not (token.isascii() and token.isdigit() and len(token) <= 2) or not 1 <= int(token) <= field.high:
        raise _problem(text, f'{field.name} step "/{clip(token)}" must be a number from 1 to {field.high}')
    return int(token)


def _problem(text: str, detail: str) -> ScalarError:
    return ScalarError(f'invalid cron expression "{clip(text)}": {detail}')

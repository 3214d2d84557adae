"""Number, percentage, money and request-rate formatting shared by the capacity views and the report."""

from __future__ import annotations

import math


def fmt(value: float, digits: int = 2) -> str:
    """A number with at most `digits` decimals, without trailing zeros (of the decimals: 1680 stays 1680)."""
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pct(ratio: float | None, *, signed: bool = False) -> str:
    """A ratio as a percentage: 0.234 → 23.4%."""
    if ratio is None:
        return "n/a"
    text = fmt(ratio * 100, 1) + "%"
    return f"+{text}" if signed and ratio > 0 else text


def pct_points(value: float) -> str:
    """A value already in percent: 78.23 → 78.2%."""
    return fmt(value, 1) + "%"


MONEY_DIGITS = 4  # significant digits of an amount below 1


def money(value: float, currency: str) -> str:
    """Amounts of at least 1 with cents; smaller ones (a replica-hour, a cost per request) with exactly four
    significant digits, trailing zeros kept so every small amount reads alike, and never in exponent
    notation: 2.64 USD, 0.1000 USD, 0.07500 USD, 0.00007690 USD, 0.000004016 USD."""
    rounded = float(f"{value:.{MONEY_DIGITS - 1}e}")  # 0.99996 rounds to 1.000: then it takes cents
    if rounded == 0 or abs(rounded) >= 1:
        return f"{value:,.2f} {currency}"
    decimals = MONEY_DIGITS - 1 - math.floor(math.log10(abs(rounded)))
    return f"{rounded:.{decimals}f} {currency}"


def significant(value: float, digits: int) -> str:
    """At least `digits` significant digits for values below 1 (never an exponent), two decimals above."""
    if value == 0 or abs(value) >= 1:
        return fmt(value)
    return fmt(value, digits - 1 - math.floor(math.log10(abs(value))))


def rate(value: float) -> str:
    """A request rate with the precision its size deserves: 1234, 166.6, 5.19, 0.113."""
    return fmt(value, 0 if value >= 1000 else 1 if value >= 10 else 2 if value >= 1 else 3)


def replicas(count: int) -> str:
    """A replica count with its noun: 1 replica, 3 replicas."""
    return f"{count} replica{'' if count == 1 else 's'}"

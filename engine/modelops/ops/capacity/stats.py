"""Pure statistics of capacity planning: summary statistics, percentiles, least squares (plain and with a
weekly pattern removed) and the significance of a slope (Student's t).

Functions of numbers and dates only: nothing here knows about models, samples or configuration.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

CONFIDENCE = 0.95  # a trend counts when its slope is significant at this two-sided level (Student's t)


@dataclass(frozen=True)
class Stats:
    """Mean, 95th percentile and maximum of a measurement."""

    avg: float
    p95: float
    peak: float
    count: int


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between closest ranks (NumPy's default, "R-7").

    The rank is q·(n−1) in the sorted values; a fractional rank interpolates between its neighbours.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stats(values: Iterable[float | None]) -> Stats | None:
    """Statistics of the values with data; None when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return Stats(statistics.fmean(present), percentile(present, 0.95), max(present), len(present))


@dataclass(frozen=True)
class Fit:
    """A least-squares line `y = intercept + slope·x`, with how well it fits.

    `r2` is the share of the variance of y the line explains (None when y does not vary: nothing to
    explain); `slope_se` is the standard error of the slope, `sqrt(SSE / dof / Sxx)`, where the degrees of
    freedom `dof` are the points less every parameter estimated from them (two, plus any seasonal effects).
    """

    n: int
    slope: float
    intercept: float
    r2: float | None
    slope_se: float
    dof: int

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


def least_squares(xs: Sequence[float], ys: Sequence[float], parameters: int = 2) -> Fit | None:
    """Ordinary least squares of ys on xs; None when there are too few points or x does not vary.

    slope = Sxy / Sxx, intercept = ȳ − slope·x̄, with Sxx = Σ(x−x̄)², Sxy = Σ(x−x̄)(y−ȳ);
    R² = 1 − SSE/SST with SSE = Σ(y−ŷ)², SST = Σ(y−ȳ)².
    """
    n = len(xs)
    if n != len(ys) or n <= parameters:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = my - slope * mx
    sse = math.fsum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    sst = math.fsum((y - my) ** 2 for y in ys)
    r2 = max(0.0, 1.0 - sse / sst) if sst > 0 else None
    return Fit(n, slope, intercept, r2, math.sqrt(sse / (n - parameters) / sxx), n - parameters)


def t_within(t: float, dof: int) -> float:
    """P(|T| ≤ t) for Student's t with `dof` (≥ 1) degrees of freedom.

    For whole degrees of freedom the distribution function is a finite series (Abramowitz & Stegun 26.7.3
    and 26.7.4), with θ = atan(t / √dof) and c = cos θ:
    odd dof: (2/π)·(θ + sin θ·c·(1 + 2/3·c² + 2·4/(3·5)·c⁴ + … up to c^(dof−3))), 2θ/π for dof 1;
    even dof: sin θ·(1 + 1/2·c² + 1·3/(2·4)·c⁴ + … up to c^(dof−2)).
    """
    theta = math.atan(t / math.sqrt(dof))
    c2 = math.cos(theta) ** 2
    term = total = 1.0
    if dof % 2 == 1:
        for j in range(1, (dof - 1) // 2):
            term *= 2 * j / (2 * j + 1) * c2
            total += term
        series = math.sin(theta) * math.cos(theta) * total if dof > 1 else 0.0
        return 2 / math.pi * (theta + series)
    for j in range(1, dof // 2):
        term *= (2 * j - 1) / (2 * j) * c2
        total += term
    return math.sin(theta) * total


@functools.lru_cache(maxsize=256)
def t_critical(dof: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided critical value of Student's t: P(|T| ≤ t) = confidence, by bisection of `t_within`.

    12.71 for 1 degree of freedom, 2.447 for 6, 2.042 for 30, towards 1.960 as dof grows.
    """
    if dof < 1:
        raise ValueError(f"Student's t needs at least one degree of freedom, not {dof}")
    low, high = 0.0, 1.0
    while t_within(high, dof) < confidence:
        low, high = high, high * 2
    for _ in range(100):
        middle = (low + high) / 2
        if t_within(middle, dof) < confidence:
            low = middle
        else:
            high = middle
    return high


def weekly_fit(days: Sequence[date], values: Sequence[float]) -> Fit | None:
    """Least squares of the daily values on the day number with one intercept per weekday.

    The weekday intercepts absorb the weekly pattern (a quiet weekend), so it is read neither as a trend nor
    as noise. The slope is computed by the Frisch–Waugh–Lovell theorem: subtract each weekday's mean from x
    and from y, then fit a line to what is left; that gives the same slope, residuals and standard error as
    the full regression with seven weekday terms (hence 8 parameters for the degrees of freedom), and its R²
    is the share of the variance *within* weekdays that the trend explains. The returned intercept is the
    mean of the weekday intercepts, so `at(x)` is the level of an average day.

    None unless every weekday occurs at least twice (two weeks), and when no line fits.
    """
    xs = [float((d - days[0]).days) for d in days]
    groups: dict[int, list[int]] = {}
    for i, d in enumerate(days):
        groups.setdefault(d.weekday(), []).append(i)
    if len(groups) < 7 or min(len(g) for g in groups.values()) < 2:
        return None
    x_mean = {k: statistics.fmean(xs[i] for i in g) for k, g in groups.items()}
    y_mean = {k: statistics.fmean(values[i] for i in g) for k, g in groups.items()}
    within = least_squares([x - x_mean[d.weekday()] for d, x in zip(days, xs, strict=True)],
                           [y - y_mean[d.weekday()] for d, y in zip(days, values, strict=True)], parameters=8)
    if within is None:
        return None
    intercept = statistics.fmean(y_mean[k] - within.slope * x_mean[k] for k in groups)
    return replace(within, intercept=intercept)

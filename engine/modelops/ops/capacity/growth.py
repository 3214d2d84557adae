"""The growth of a model's request rate: daily means of the usage history, the trend through them and
whether it is significant enough to project (`Growth`, `trend`)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from modelops.ops.capacity.formatting import pct
from modelops.ops.capacity.stats import Fit, least_squares, t_critical, t_within, weekly_fit
from modelops.sources.usage import Sample

MONTH_DAYS = 30.0  # growth is quoted per 30 days
MIN_TREND_DAYS = 14  # two of every weekday: enough to tell the weekly pattern from the trend
RECENT_DAYS = 7  # "now" is the last week: a whole weekly cycle
FLAT_BAND = 0.05  # growth known to within ±5%/month (the 95% interval) and not significant: flat
Verdict = Literal["trend", "flat", "noisy", "too-short"]


def daily_means(samples: Sequence[Sample]) -> list[tuple[date, float]]:
    """Mean request rate per UTC day, for the days sampled about as often as a typical day.

    Days with fewer than 80% of the median day's samples (a history that starts at noon, a scrape gap)
    are left out: with a daily cycle, half a day is not a day's mean.
    """
    by_day: dict[date, list[float]] = {}
    for sample in samples:
        if sample.requests_per_s is not None:
            by_day.setdefault(sample.at.date(), []).append(sample.requests_per_s)
    if not by_day:
        return []
    typical = statistics.median(len(v) for v in by_day.values())
    return [(day, statistics.fmean(v)) for day, v in sorted(by_day.items()) if len(v) >= 0.8 * typical]


@dataclass(frozen=True)
class Growth:
    """The trend of the request rate and whether it can be projected.

    `verdict`: `trend` (the slope is significant: projected), `flat` (no significant growth, and the data
    is precise enough to say so), `noisy` (no significant growth, but the data can not rule out real
    growth), `too-short` (fewer than `MIN_TREND_DAYS` full days). Only `trend` moves the projection;
    every other verdict keeps today's level.
    """

    verdict: Verdict
    days: int
    level: float  # requests/s on an average day now
    fit: Fit | None = None
    seasonal: bool = False
    per_month: float | None = None  # relative growth per 30 days: 0.2 = +20%
    per_month_se: float | None = None

    def projected(self, days_ahead: float) -> float:
        """The average request rate `days_ahead` after the last day of the history (negative: the trend
        line inside the history)."""
        if self.verdict != "trend" or self.fit is None:
            return self.level
        return max(0.0, self.level + self.fit.slope * days_ahead)

    @property
    def r2(self) -> float | None:
        return self.fit.r2 if self.fit is not None else None

    @property
    def confidence(self) -> float | None:
        """How sure the fit is that the slope is not zero: P(|T| <= |b| / SE) with the fit's degrees of freedom
        (a trend is at least 0.95)."""
        fit = self.fit
        if fit is None or fit.slope == 0:
            return None if fit is None else 0.0
        return 1.0 if fit.slope_se == 0 else t_within(abs(fit.slope) / fit.slope_se, fit.dof)

    def describe(self) -> str:
        """One line a person reads: the growth and how far to trust it."""
        if self.verdict == "too-short":
            return f"too short to project: {self.days} full day(s) of history, {MIN_TREND_DAYS} needed"
        rate = pct(self.per_month, signed=True) if self.per_month is not None else "?"
        spread = f" ± {pct(self.per_month_se)}" if self.per_month_se is not None else ""
        fit = f"R² {self.r2:.2f}, " if self.r2 is not None else ""
        basis = f"{fit}{self.days} days{', weekly pattern removed' if self.seasonal else ''}"
        if self.verdict == "trend":
            return f"{rate}/month{spread} ({basis})"
        if self.verdict == "flat":
            return f"flat: no significant growth ({rate}/month{spread}; {basis})"
        return f"too noisy to project: {rate}/month{spread} is not significant ({basis})"


def trend(samples: Sequence[Sample]) -> Growth:
    """The growth of the request rate (see `Growth`), from the daily means of the history.

    The fit is `weekly_fit` when the history holds every weekday twice, else a plain line. Where the trend
    is not projected, the level is the mean of the last seven daily values (a whole weekly cycle).
    """
    daily = daily_means(samples)
    if not daily:
        rates = [s.requests_per_s for s in samples if s.requests_per_s is not None]
        return Growth("too-short", 0, statistics.fmean(rates) if rates else 0.0)
    days, values = [d for d, _ in daily], [v for _, v in daily]
    recent_level = statistics.fmean(values[-RECENT_DAYS:])
    if len(daily) < MIN_TREND_DAYS:
        return Growth("too-short", len(daily), recent_level)
    xs = [float((d - days[0]).days) for d in days]
    seasonal = weekly_fit(days, values)
    fit = seasonal or least_squares(xs, values)
    if fit is None:
        return Growth("too-short", len(daily), recent_level)
    level = max(fit.at(xs[-1]), 0.0)
    per_month = fit.slope * MONTH_DAYS / level if level > 0 else None
    per_month_se = fit.slope_se * MONTH_DAYS / level if level > 0 else None
    critical = t_critical(fit.dof)
    significant = fit.slope != 0 and (fit.slope_se == 0 or abs(fit.slope) / fit.slope_se >= critical)
    if significant:
        return Growth("trend", len(daily), level, fit, seasonal is not None, per_month, per_month_se)
    verdict: Verdict = "flat" if per_month_se is not None and critical * per_month_se <= FLAT_BAND else "noisy"
    return Growth(verdict, len(daily), recent_level, fit, seasonal is not None, per_month, per_month_se)

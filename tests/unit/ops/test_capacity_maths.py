"""The regression maths of capacity planning against fixtures computed by hand (the arithmetic is in the
comments), including series that are too short, flat, noisy, or follow a weekly pattern."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from modelops.ops.capacity.formatting import money
from modelops.ops.capacity.growth import MIN_TREND_DAYS, daily_means, trend
from modelops.ops.capacity.stats import least_squares, percentile, stats, t_critical, weekly_fit
from modelops.sources.usage import Sample

MONDAY = date(2026, 10, 12)


def days(count: int) -> list[date]:
    return [MONDAY + timedelta(days=i) for i in range(count)]


def daily_samples(values: list[float]) -> list[Sample]:
    """24 hourly samples per day, each at the day's value (so the daily mean is the value)."""
    start = datetime(2026, 10, 12, tzinfo=UTC)
    return [Sample(start + timedelta(days=d, hours=h), requests_per_s=v) for d, v in enumerate(values)
            for h in range(24)]


# -- least squares --------------------------------------------------------------------------------


def test_least_squares_matches_the_hand_computation() -> None:
    # x̄ = 2, ȳ = 3; Sxx = 4+1+0+1+4 = 10; Sxy = (-2)(-2)+(-1)(0)+0+(1)(2)+(2)(1) = 8
    # slope = 0.8, intercept = 3 - 0.8·2 = 1.4; fitted 1.4 2.2 3.0 3.8 4.6
    # residuals -0.4 0.8 -1.0 1.2 -0.6 -> SSE = 3.6; SST = 4+0+1+4+1 = 10 -> R² = 0.64
    # SE(slope) = sqrt(SSE / (n-2) / Sxx) = sqrt(3.6 / 3 / 10) = sqrt(0.12)
    fit = least_squares([0, 1, 2, 3, 4], [1, 3, 2, 5, 4])
    assert fit is not None
    assert fit.slope == pytest.approx(0.8)
    assert fit.intercept == pytest.approx(1.4)
    assert fit.r2 == pytest.approx(0.64)
    assert fit.slope_se == pytest.approx(math.sqrt(0.12))
    assert fit.at(10) == pytest.approx(9.4)


def test_degrees_of_freedom_follow_the_parameters_estimated() -> None:
    fit = least_squares([0, 1, 2, 3, 4], [1, 3, 2, 5, 4], parameters=3)
    assert fit is not None and fit.slope_se == pytest.approx(math.sqrt(3.6 / 2 / 10))


def test_a_perfect_line_has_r2_one_and_no_error() -> None:
    fit = least_squares([0, 1, 2, 3], [1, 3, 5, 7])
    assert fit is not None
    assert (fit.slope, fit.intercept, fit.r2, fit.slope_se) == (pytest.approx(2), pytest.approx(1), 1.0, 0.0)


def test_a_flat_series_has_no_slope_and_no_r2() -> None:
    fit = least_squares([0, 1, 2, 3], [5, 5, 5, 5])
    assert fit is not None
    assert (fit.slope, fit.intercept, fit.r2, fit.slope_se) == (0.0, 5.0, None, 0.0)  # nothing to explain


def test_too_few_points_or_a_single_x_give_no_fit() -> None:
    assert least_squares([0, 1], [1, 2]) is None  # two points, two parameters: no degree of freedom left
    assert least_squares([3, 3, 3], [1, 2, 3]) is None  # x does not vary
    assert least_squares([], []) is None


# -- percentiles and statistics -------------------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([5, 1, 4, 2, 3], 0.95) == pytest.approx(4.8)  # rank 0.95·4 = 3.8: 4 + 0.8·(5-4)
    assert percentile([1, 2, 3, 4, 5], 0.5) == 3
    assert percentile([10, 20], 0.95) == pytest.approx(19.5)  # rank 0.95: 10 + 0.95·10
    assert percentile([7], 0.95) == 7
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_stats_ignore_no_data() -> None:
    found = stats([1.0, None, 2.0, 3.0, 4.0, 5.0])
    assert found is not None
    assert (found.avg, found.p95, found.peak, found.count) == (3.0, pytest.approx(4.8), 5.0, 5)
    assert stats([None, None]) is None


# -- daily means and the weekly pattern -----------------------------------------------------------


def test_partial_days_are_left_out_of_the_daily_means() -> None:
    start = datetime(2026, 10, 12, 12, tzinfo=UTC)  # the history starts at noon
    samples = [Sample(start + timedelta(hours=h), requests_per_s=float(h)) for h in range(60)]
    # day 1 holds hours 12..35 of the run, day 2 hours 36..59; the first half day (12 samples) is dropped
    assert daily_means(samples) == [(date(2026, 10, 13), pytest.approx(23.5)), (date(2026, 10, 14), 47.5)]
    assert daily_means([Sample(start, requests_per_s=None)]) == []


def test_a_weekly_pattern_without_growth_is_flat() -> None:
    # 10 req/s on weekdays, 4 at weekends, two weeks: within each weekday nothing changes, so the slope is 0
    # (a plain line would read the second weekend, late in the window, as a decline of -60/227.5 per day)
    values = [4.0 if d.weekday() >= 5 else 10.0 for d in days(14)]
    plain = least_squares([float(i) for i in range(14)], values)
    assert plain is not None and plain.slope == pytest.approx(-60 / 227.5)
    fit = weekly_fit(days(14), values)
    assert fit is not None
    assert (fit.slope, fit.r2, fit.slope_se) == (0.0, None, 0.0)
    assert fit.intercept == pytest.approx(58 / 7)  # the average day: (5·10 + 2·4) / 7


def test_a_weekly_pattern_with_growth_gives_the_growth() -> None:
    # y = base(weekday) + 0.5·day, base 10 on weekdays and 4 at weekends
    values = [(4.0 if d.weekday() >= 5 else 10.0) + 0.5 * i for i, d in enumerate(days(14))]
    fit = weekly_fit(days(14), values)
    assert fit is not None
    assert (fit.slope, fit.r2, fit.slope_se) == (pytest.approx(0.5), 1.0, pytest.approx(0.0, abs=1e-9))
    growth = trend(daily_samples(values))
    assert growth.verdict == "trend" and growth.seasonal
    assert growth.level == pytest.approx(58 / 7 + 0.5 * 13)  # the average day on day 13 = 14.7857
    assert growth.per_month == pytest.approx(0.5 * 30 / (58 / 7 + 6.5))  # +101.4% per 30 days
    assert growth.projected(30) == pytest.approx(58 / 7 + 6.5 + 15)


def test_the_weekly_fit_needs_every_weekday_twice() -> None:
    assert weekly_fit(days(13), [1.0 + i for i in range(13)]) is None  # Sunday occurs once
    gap = [d for d in days(15) if d.weekday() != 2 or d.day != 14]  # the first Wednesday is missing
    assert weekly_fit(gap[:14], [1.0] * 14) is None


# -- the verdicts ---------------------------------------------------------------------------------


def test_a_short_history_is_too_short_to_project() -> None:
    values = [float(10 + i) for i in range(MIN_TREND_DAYS - 1)]  # 13 days, clearly growing
    growth = trend(daily_samples(values))
    assert growth.verdict == "too-short" and growth.days == 13
    assert growth.level == pytest.approx(sum(values[-7:]) / 7)  # the last week's mean: 19
    assert growth.projected(90) == growth.level  # nothing is extrapolated
    assert growth.describe() == "too short to project: 13 full day(s) of history, 14 needed"
    assert trend([]).verdict == "too-short" and trend([]).level == 0.0


def test_a_history_shorter_than_a_day_is_too_short_and_keeps_its_mean() -> None:
    start = datetime(2026, 10, 12, 9, tzinfo=UTC)
    samples = [Sample(start + timedelta(seconds=5 * i), requests_per_s=20.0 + i % 2) for i in range(12)]
    growth = trend(samples)
    assert (growth.verdict, growth.days, growth.level) == ("too-short", 1, 20.5)


def test_a_flat_series_is_flat_and_keeps_its_level() -> None:
    growth = trend(daily_samples([120.0] * 21))
    assert growth.verdict == "flat" and growth.per_month == 0.0 and growth.per_month_se == 0.0
    assert growth.level == 120.0 and growth.projected(90) == 120.0
    assert growth.describe() == "flat: no significant growth (0%/month ± 0%; 21 days, weekly pattern removed)"


def test_noise_without_a_significant_slope_is_too_noisy_to_project() -> None:
    # 100 ± 20, alternating day by day, for 14 days. Within a weekday the two days (7 apart, so of opposite
    # parity) are 100+20 and 100-20 or the reverse: y' = ±20, x' = ∓3.5 around the weekday means.
    # Sxy = 4 weekdays·(-140) + 3·(+140) = -140, Sxx = 14·3.5² = 171.5 -> slope = -140/171.5 = -0.8163
    # SST = 14·400 = 5600, SSE = SST - slope·Sxy = 5485.7, R² = 114.29/5600 = 0.0204
    # SE = sqrt(SSE / (14 - 8) / Sxx) = 2.309: |t| = 0.35 < 2, not significant
    values = [120.0 if i % 2 == 0 else 80.0 for i in range(14)]
    growth = trend(daily_samples(values))
    slope = -140 / 171.5
    sse = 5600 - slope * -140
    assert growth.fit is not None
    assert growth.fit.slope == pytest.approx(slope)
    assert growth.r2 == pytest.approx(1 - sse / 5600)
    assert growth.fit.slope_se == pytest.approx(math.sqrt(sse / 6 / 171.5))
    level = 100 + 6.5 * slope  # the trend's average day on day 13 (mean weekday intercept 100 - 6.5·slope)
    assert growth.per_month_se == pytest.approx(math.sqrt(sse / 6 / 171.5) * 30 / level)  # 73%: wide
    assert growth.verdict == "noisy"
    assert growth.level == pytest.approx(sum(values[-7:]) / 7)  # not projected: the last week's mean
    assert growth.describe().startswith("too noisy to project: ")


def test_a_significant_slope_is_a_trend_even_with_some_noise() -> None:
    values = [100 + 2 * i + (3 if i % 2 else -3) for i in range(28)]
    growth = trend(daily_samples(values))
    assert growth.verdict == "trend"
    assert growth.fit is not None and growth.fit.slope == pytest.approx(2, abs=0.1)
    assert growth.projected(30) == pytest.approx(growth.level + 30 * growth.fit.slope)
    assert growth.describe().startswith("+") and "/month ± " in growth.describe()


# -- significance at the degrees of freedom of the fit ----------------------------------------------


@pytest.mark.parametrize(("dof", "expected"), [
    (1, 12.706), (2, 4.303), (3, 3.182), (5, 2.571), (6, 2.447), (10, 2.228), (20, 2.086), (34, 2.032),
    (120, 1.980), (10_000, 1.960)])
def test_the_critical_t_is_the_two_sided_95_percent_point(dof: int, expected: float) -> None:
    assert t_critical(dof) == pytest.approx(expected, abs=5e-4)  # the printed tables, to three decimals


def two_weeks(slope: float, noise: float) -> list[float]:
    """14 days of 100 + slope·day + e, e = ±noise on Mon, Tue, Wed, Thu (+ in week one, − in week two).

    Within each weekday e is (a, −a) around 0, and Σ x'·e = −7·Σa = 0 with x' = ∓3.5: the noise leaves the
    slope alone, and the weekly fit's SSE = 8·noise², Sxx = 14·3.5² = 171.5, 14 − 8 = 6 degrees of freedom,
    so SE = noise·√(8 / 6 / 171.5) = 0.088175·noise.
    """
    signs = [1, -1, 1, -1, 0, 0, 0]
    return [100 + slope * i + noise * signs[i % 7] * (1 if i < 7 else -1) for i in range(14)]


def test_a_trend_needs_the_t_of_its_degrees_of_freedom_not_2() -> None:
    se = math.sqrt(8 / 6 / 171.5)
    below = trend(daily_samples(two_weeks(2.3 * se, 1.0)))  # |t| = 2.3: above 2, below t(6) = 2.447
    assert below.fit is not None and below.fit.dof == 6
    assert below.fit.slope == pytest.approx(2.3 * se) and below.fit.slope_se == pytest.approx(se)
    assert below.verdict == "noisy"  # was a "trend" when any |t| ≥ 2 counted
    assert below.projected(90) == below.level
    above = trend(daily_samples(two_weeks(2.5 * se, 1.0)))  # |t| = 2.5 ≥ 2.447
    assert above.verdict == "trend"


def test_flat_needs_the_95_percent_interval_within_five_percent() -> None:
    # no slope; SE = 0.088175·noise req/s a day, 30·SE / 100 a month: with noise 0.9262 that is 2.45%,
    # so 2·SE = 4.9% (within ±5%) but t(6)·SE = 6.0%: the data can not rule out growth of 5%
    assert trend(daily_samples(two_weeks(0.0, 0.9262))).verdict == "noisy"
    assert trend(daily_samples(two_weeks(0.0, 0.75))).verdict == "flat"  # t(6)·SE = 4.9%


def test_money_is_never_in_exponent_notation() -> None:
    assert money(0.000004016, "USD") == "0.000004016 USD"
    assert money(21600.7, "USD") == "21,600.70 USD"
    assert money(0, "USD") == "0.00 USD"


def test_small_amounts_always_show_four_significant_digits() -> None:
    assert money(0.0005750116, "EUR") == "0.0005750 EUR"  # the trailing zero is kept
    assert money(0.0000769, "USD") == "0.00007690 USD"  # as many digits as 0.00007534 next to it
    assert money(0.00007534, "USD") == "0.00007534 USD"
    assert money(0.1, "USD") == "0.1000 USD"  # a replica-hour
    assert money(0.075, "USD") == "0.07500 USD"
    assert money(0.000099996, "USD") == "0.0001000 USD"  # rounding up a decade keeps four digits
    assert money(0.99996, "USD") == "1.00 USD"  # and past 1, cents
    assert money(2.64, "USD") == "2.64 USD"

"""Time as the engine records it: UTC, second resolution, ISO 8601 with a Z; and spans of time as a person reads them.

`MODELOPS_NOW` (an ISO 8601 timestamp) pins the clock, for reproducible plans in tests and for replaying
what a plan would have said at another moment (freeze windows, warm windows).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta


def now() -> datetime:
    pinned = os.environ.get("MODELOPS_NOW")
    if pinned:
        return parse_iso(pinned).astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)


def now_iso() -> str:
    return iso(now())


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def later(moment: datetime, ms: int) -> datetime:
    return moment + timedelta(milliseconds=ms)


def precise() -> datetime:
    """Now to the millisecond, for timing what the engine does (a rollout's stages). Pinned by `MODELOPS_NOW` like
    `now`: a pinned clock does not move, so whatever it times takes no time, and the record stays reproducible."""
    pinned = os.environ.get("MODELOPS_NOW")
    if pinned:
        return parse_iso(pinned).astimezone(UTC)
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def iso_ms(moment: datetime) -> str:
    """ISO 8601 with milliseconds and a Z: `2026-11-27T12:00:00.250Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}Z"


def span_ms(start: str, end: str) -> int:
    """Milliseconds from one ISO timestamp to a later one (never negative)."""
    return max(0, round((parse_iso(end) - parse_iso(start)).total_seconds() * 1000))


def readable(ms: float, *, exact: bool = False) -> str:
    """A duration as a person reads it: `0s`, `350ms`, `2.5s`, `42s`, `1m30s`, `2h5m`, `3d4h`. The one formatter of
    durations for people: messages, plans, reports, comments (never the configuration's canonical `2s500ms`,
    Prometheus' notation, which only exported files keep).

    A measured span (the default) keeps two units past ten seconds. `exact` keeps every unit, the milliseconds as a
    fraction of the seconds (`2.5s`, `1m30.5s`, `1h0.25s`): for durations the configuration sets, so that a plan
    never shows a change as `1h -> 1h`."""
    ms = round(ms)
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    if exact:
        return _exact(ms)
    if ms < 10_000:
        return f"{ms / 1000:.1f}".removesuffix(".0") + "s"
    seconds = round(ms / 1000)
    minutes, sec = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{sec}s" if sec else f"{minutes}m"
    return f"{sec}s"


def _exact(ms: int) -> str:
    out, rest = "", ms
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        count, rest = divmod(rest, size)
        out += f"{count}{unit}" if count else ""
    return out + (f"{rest / 1000:.3f}".rstrip("0").rstrip(".") + "s" if rest else "")

"""Maintenance windows: when housekeeping may run, and when the next window opens. Pure functions over time.

An environment's `spec.maintenance.windows` are recurring windows like Argo CD's sync windows: each opens at the
times its five-field cron expression selects (in its time zone) and stays open for its `duration`. Housekeeping is
the work nobody asked for in Git and that can wait: retiring a slot kept warm for rollback once its warm window
ended (scaling the old version down to zero). With windows declared, a plan schedules it only inside one, and
otherwise says when the next one opens; without windows it runs whenever it is due, as it always did.

The day fields follow cron(8): when both the day of month and the day of week are restricted, a day matching either
one is selected; otherwise a day must match both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from modelops.base.clock import iso
from modelops.config.scalars.cron import Cron, parse_cron
from modelops.config.spec.environment import MaintenanceWindow
from modelops.core.plan import Action, ActionKind

#: How far ahead a next opening is looked for: a window that opens only on 29 February still opens within it.
HORIZON_DAYS = 8 * 366
#: The longest a window may stay open (validation refuses more): what is looked back over to find an open one.
LONGEST = timedelta(days=7)
_ALL_DAYS = frozenset(range(1, 32))
_ALL_WEEKDAYS = frozenset(range(7))


@dataclass(frozen=True)
class Opening:
    """One opening of a window: from `start` to `end` (exclusive)."""

    start: datetime
    end: datetime
    window: MaintenanceWindow

    def describe(self) -> str:
        return f"{iso(self.start)} to {iso(self.end)}"


def describe_window(window: MaintenanceWindow) -> str:
    """`"0 2 * * SAT" for 4h (UTC)`, as a reader sees it in plans and reports."""
    return f'"{window.cron}" for {window.duration} ({window.timezone})'


def day_selected(cron: Cron, day: date) -> bool:
    """Whether the cron expression selects this calendar day (cron(8)'s rule for the two day fields)."""
    if day.month not in cron.months:
        return False
    weekday = (day.weekday() + 1) % 7  # cron counts from Sunday
    by_date, by_weekday = day.day in cron.days, weekday in cron.weekdays
    if cron.days != _ALL_DAYS and cron.weekdays != _ALL_WEEKDAYS:
        return by_date or by_weekday
    return by_date and by_weekday


def _starts_on(cron: Cron, day: date, zone: ZoneInfo) -> Iterator[datetime]:
    if day_selected(cron, day):
        for hour in sorted(cron.hours):
            for minute in sorted(cron.minutes):
                yield datetime.combine(day, time(hour, minute), zone)


def open_now(windows: Sequence[MaintenanceWindow], now: datetime) -> Opening | None:
    """The opening that holds `now` (the one closing last when several do), or None: every window is closed."""
    found: Opening | None = None
    for window in windows:
        zone = ZoneInfo(window.timezone)
        cron = parse_cron(window.cron)
        span = timedelta(milliseconds=window.duration.ms)
        local = now.astimezone(zone).date()
        day = (now - min(span, LONGEST)).astimezone(zone).date() - timedelta(days=1)
        while day <= local:
            for start in _starts_on(cron, day, zone):
                if start <= now < start + span and (found is None or start + span > found.end):
                    found = Opening(start, start + span, window)
            day += timedelta(days=1)
    return found


def next_opening(windows: Sequence[MaintenanceWindow], now: datetime) -> Opening | None:
    """The first opening after `now` of any window; None when no window opens within `HORIZON_DAYS`."""
    found: Opening | None = None
    for window in windows:
        zone = ZoneInfo(window.timezone)
        cron = parse_cron(window.cron)
        day = now.astimezone(zone).date()
        for _ in range(HORIZON_DAYS):
            start = next((s for s in _starts_on(cron, day, zone) if s > now), None)
            if start is not None:
                if found is None or start < found.start:
                    found = Opening(start, start + timedelta(milliseconds=window.duration.ms), window)
                break
            day += timedelta(days=1)
    return found


def never_closed(windows: Sequence[MaintenanceWindow], first: date, days: int = 366) -> bool:
    """Whether the windows together stay open every minute of `days` days from `first` (local wall-clock minutes,
    which is exact enough for telling a window that never closes)."""
    starts: list[tuple[int, int]] = []
    for window in windows:
        cron = parse_cron(window.cron)
        length = max(1, window.duration.ms // 60_000)
        for offset in range(-8, days):
            day = first + timedelta(days=offset)
            if day_selected(cron, day):
                base = offset * 1440
                starts += [(base + h * 60 + m, length) for h in cron.hours for m in cron.minutes]
    covered = 0
    for start, length in sorted(starts):
        if start > covered:
            return False
        covered = max(covered, start + length)
    return covered >= days * 1440


# -- image tags against their channel ---------------------------------------------------------------------------

_RELEASE = re.compile(r"^[vV]?([0-9]+(?:\.[0-9]+)*)(.*)$")


@dataclass(frozen=True)
class Release:
    """A tag read as a release: its version numbers and what follows them (`24.08-py3`: (24, 8) and `-py3`)."""

    numbers: tuple[int, ...]
    suffix: str


def release(tag: str | None) -> Release | None:
    """The release a tag names (`v0.6.3`, `1.4.2`, `24.08-py3`), or None when it names none (`latest`, `stable`)."""
    found = _RELEASE.match(tag or "")
    if found is None:
        return None
    return Release(tuple(int(n) for n in found.group(1).split(".")), found.group(2))


def behind(tag: str | None, channel: str) -> bool | None:
    """Whether an image tag is an older release than its channel's; None when that cannot be told (a tag that
    names no release, or another flavour of it: `-py3` against `-py2`, a pre-release against a release)."""
    mine, wanted = release(tag), release(channel)
    if mine is None or wanted is None or mine.suffix != wanted.suffix:
        return None
    width = max(len(mine.numbers), len(wanted.numbers))
    return mine.numbers + (0,) * (width - len(mine.numbers)) < wanted.numbers + (0,) * (width - len(wanted.numbers))


def mutable(tag: str | None, digest: str | None) -> bool:
    """Whether an image reference may serve other bytes tomorrow: no digest, and no tag, `latest`, or a tag that
    names no release (`stable`, `main`)."""
    return digest is None and release(tag) is None


# -- housekeeping in a plan -------------------------------------------------------------------------------------


def housekeeping(action: Action, windows: Sequence[MaintenanceWindow], environment: str, now: datetime) -> Action:
    """A reconfigure's retirement of a warm slot (its warm window ended) runs inside a maintenance window only.

    Without windows the action is as planned. Inside one, its reason says until when the window is open. Outside,
    the retirement is taken out of the action (its other steps still run) or, when it is all the action does, the
    action waits: it is blocked, with when the next window opens."""
    retire = [s for s in action.steps if s.op == "retire"]
    if not windows or action.kind is not ActionKind.RECONFIGURE or not retire or action.blocked is not None:
        return action
    current = open_now(windows, now)
    if current is not None:
        return replace(action, reason=f"{action.reason} (housekeeping, inside the maintenance window open until "
                                      f"{iso(current.end)})")
    upcoming = next_opening(windows, now)
    when = f"the next opens at {iso(upcoming.start)}" if upcoming is not None else "no window opens again"
    slots = ", ".join(str(s.args.get("slot")) for s in retire)
    rest = tuple(s for s in action.steps if s.op != "retire")
    if rest:
        return replace(action, steps=rest, reason=f"{action.reason}; retiring warm slot {slots} is housekeeping "
                                                   f"and waits for a maintenance window ({when})")
    return replace(action, blocked=f"housekeeping waits for a maintenance window of {environment} ({when}): "
                                   f"{action.reason}; retiring warm slot {slots} runs then")

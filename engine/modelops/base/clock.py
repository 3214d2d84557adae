"""Time as the engine records it: UTC, second resolution, ISO 8601 with a Z.

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

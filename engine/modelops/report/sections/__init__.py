"""The sections of `REPORT.md`, in the order they appear.

Each appears only when its `collect` returns data (see `modelops.report.section`). Later features add a
module here and one line to SECTIONS (capacity after scaling, maturity last).
"""

from __future__ import annotations

from modelops.report.section import Section
from modelops.report.sections import alerts, capacity, escalation, history, maturity, models, scaling

SECTIONS: tuple[Section, ...] = (
    models.SECTION,
    history.ROLLOUTS,
    history.SWITCHES,
    alerts.SECTION,
    escalation.SECTION,
    scaling.SECTION,
    capacity.SECTION,
    maturity.SECTION,
)

"""Post-incident reviews: `environments/<env>/incidents/<id>.md`, one per incident the state records.

A review has two parts. The engine writes the first from the incident's record (facts, response times, timeline,
the runbooks of its alert rules) and rewrites it as the incident goes on. The second, from the "Causes and actions"
heading on, is the people's: it starts blank and the engine never changes it. A review whose heading was removed
is left as it is (the engine cannot tell its part from theirs any more). Reviews are never deleted, not even when
the state stops keeping their incident.

Like REPORT.md, the generated part is a pure function of the configuration and the recorded state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from modelops.base.files import atomic_write, current_text
from modelops.base.layout import review_path
from modelops.core.model import EnvironmentConfig
from modelops.ops.incidents import seconds_between, span
from modelops.ops.lifecycle import alert_key
from modelops.report.render import render_template, tidy
from modelops.state.incidents import Incident

HEADING = "## Causes and actions"
_HEADING_LINE = re.compile(rf"^{re.escape(HEADING)}[ \t]*$", re.MULTILINE)
BLANK = f"""{HEADING}

<!-- Yours to write: modelops regenerates everything above this heading and never changes this section. -->

- **What caused it:**
- **What was done to restore service:**
- **What will keep it from happening again (actions, owners, due dates):**
"""


@dataclass
class ReviewOutcome:
    """What writing (or checking) the reviews of an environment did, by path relative to the repository root."""

    written: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # the heading was removed: left alone


def generated(env: EnvironmentConfig, incident: Incident) -> str:
    """The engine's part of a review, up to (not including) the "Causes and actions" heading."""
    return tidy(render_template("incident.md.j2", env=env.name, incident=incident, runbooks=runbooks(env, incident),
                                alerted=bool(_involved(incident)),
                                detect=span(seconds_between(incident.opened, incident.detected)),
                                mitigate=span(seconds_between(incident.opened, incident.mitigated)),
                                resolve=span(seconds_between(incident.opened, incident.resolved))))


def runbooks(env: EnvironmentConfig, incident: Incident) -> list[tuple[str, str]]:
    """(rule, URL) of the rules whose alerts are part of the incident; for an incident without alerts (a rollback),
    those of every rule of its model."""
    model = env.models.get(incident.model)
    if model is None:
        return []
    involved = _involved(incident)
    rules = env.alert_rules(model)
    found = [(rule.name, rule.runbook) for policy, rule in rules if rule.runbook and (
        not involved or alert_key(model.name, policy, rule.name) in involved)]
    return sorted(dict.fromkeys(found))


def _involved(incident: Incident) -> set[str]:
    """The alerts (`model/policy/rule`) that are part of an incident: its causes, and those of its timeline."""
    return {c.ref for c in incident.causes if c.kind == "alert"} | {e.alert for e in incident.timeline if e.alert}


def review_text(generated_part: str, existing: str | None) -> str | None:
    """The review to write: the generated part, then the people's section as it is (blank in a new review); None
    when an existing review has no heading to keep the people's part apart."""
    if existing is None:
        return f"{generated_part}\n{BLANK}"
    found = _HEADING_LINE.search(existing)
    if found is None:
        return None
    return f"{generated_part}\n{existing[found.start():]}"


def write_reviews(root: Path, env: EnvironmentConfig, incidents: Iterable[Incident]) -> ReviewOutcome:
    """Write the review of every incident whose generated part changed; the people's part is kept."""
    outcome = ReviewOutcome()
    for incident in sorted(incidents, key=lambda i: i.id):
        rel = review_path(env.name, incident.id)
        path = root / rel
        existing = current_text(path)
        text = review_text(generated(env, incident), existing)
        if text is None:
            outcome.kept.append(rel)
        elif text == existing:
            outcome.current.append(rel)
        else:
            atomic_write(path, text, root)  # never through a link out of the repository
            outcome.written.append(rel)
    return outcome


def check_reviews(root: Path, env: EnvironmentConfig, incidents: Iterable[Incident]) -> ReviewOutcome:
    """Reviews whose generated part is not what it would be now (missing ones included); nothing is written."""
    outcome = ReviewOutcome()
    for incident in sorted(incidents, key=lambda i: i.id):
        rel = review_path(env.name, incident.id)
        existing = current_text(root / rel)
        text = review_text(generated(env, incident), existing)
        if text is None:
            outcome.kept.append(rel)
        else:
            (outcome.current if text == existing else outcome.stale).append(rel)
    return outcome

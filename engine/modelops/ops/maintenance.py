"""The maintenance report: what in an environment is getting old or loose, model by model.

Four findings, from the configuration and the recorded state at a given moment (`modelops maintenance` uses the
clock; REPORT.md and `assess` use the state's last write, so that they stay functions of the committed files):

- an old version: the version a model serves was first recorded serving longer ago than `maxVersionAge` (90d unless
  `spec.maintenance` says otherwise);
- an image behind its channel: `spec.maintenance.channels` names, per image repository, the tag of the release the
  platform follows now, and the model's tag is an older release of it (a tag that names no release, or another
  flavour of it, cannot be told, and is listed as such);
- an unpinned artifact: no `sha256`, or an image with a mutable tag (none, `latest`, a tag that names no release)
  and no digest: what serves could change under the same configuration;
- a stale warm slot: a slot kept warm for rollback whose warm window ended (or that has none) while no rollout is in
  flight; the next apply retires it (inside a maintenance window, when the environment declares windows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from modelops.base.clock import iso, parse_iso
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.image import reference_parts
from modelops.config.spec.environment import Maintenance
from modelops.core.maintenance import behind, describe_window, mutable, next_opening, open_now
from modelops.core.model import EnvironmentConfig, ModelConfig
from modelops.state.format import EnvironmentState, ModelState

FindingKind = Literal["old-version", "behind-channel", "unpinned-artifact", "mutable-image", "stale-warm-slot"]
#: The order findings are listed in, and their titles.
KINDS: dict[FindingKind, str] = {"old-version": "old version", "behind-channel": "image behind its channel",
                                 "unpinned-artifact": "unpinned artifact", "mutable-image": "mutable image tag",
                                 "stale-warm-slot": "stale warm slot"}
DEFAULTS = Maintenance()


@dataclass(frozen=True)
class Finding:
    """Something to maintain on one model: what, and the change (in which file) that deals with it."""

    model: str
    kind: FindingKind
    detail: str
    fix: str
    file: str

    @property
    def title(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class EnvironmentMaintenance:
    """One environment's maintenance report, as of `at`."""

    environment: str
    at: str
    max_version_age: Duration
    windows: list[str]
    open_until: str | None  # a maintenance window is open now, until then
    next_opening: str | None
    findings: list[Finding] = field(default_factory=list)
    undetermined: list[str] = field(default_factory=list)  # images whose channel comparison cannot be made
    models: int = 0
    declared: bool = False  # the environment has a `spec.maintenance` block


def days(span: Duration) -> str:
    """A duration in days where it is whole days (`90d`), else as written (`36h`)."""
    whole, rest = divmod(span.ms, 86_400_000)
    return f"{whole}d" if whole and not rest else str(span)


def maintenance_report(env: EnvironmentConfig, state: EnvironmentState, moment: datetime) -> EnvironmentMaintenance:
    settings = env.spec.maintenance or DEFAULTS
    current = open_now(settings.windows, moment) if settings.windows else None
    upcoming = next_opening(settings.windows, moment) if settings.windows and current is None else None
    findings: list[Finding] = []
    undetermined: list[str] = []
    for name in sorted(env.models):
        model = env.models[name]
        recorded = state.models.get(name)
        findings += _old_version(model, recorded, settings, moment)
        found, unknown = _image(model, settings)
        findings += found
        undetermined += unknown
        findings += _artifact(model)
        findings += _warm(env.name, model, recorded, moment, upcoming.start if upcoming is not None else None)
    order = list(KINDS)
    findings.sort(key=lambda f: (order.index(f.kind), f.model))
    return EnvironmentMaintenance(env.name, iso(moment), settings.max_version_age,
                                  [describe_window(w) for w in settings.windows],
                                  iso(current.end) if current is not None else None,
                                  iso(upcoming.start) if upcoming is not None else None, findings,
                                  sorted(set(undetermined)), len(env.models), env.spec.maintenance is not None)


def serving_since(state: ModelState) -> str | None:
    """When the version a model serves was first recorded serving (its switches, its release, its slot)."""
    if state.version is None:
        return None
    times = [s.at for s in state.switches if s.to_version == state.version]
    times += [r.at for r in state.releases if r.revision == state.revision]
    slot = state.slots.get(state.active_slot) if state.active_slot is not None else None
    times += [slot.since] if slot is not None and slot.version == state.version else []
    return min(times, default=None)


def _old_version(model: ModelConfig, recorded: ModelState | None, settings: Maintenance,
                 moment: datetime) -> list[Finding]:
    since = serving_since(recorded) if recorded is not None else None
    if recorded is None or since is None:
        return []
    age = moment - parse_iso(since)
    if age <= timedelta(milliseconds=settings.max_version_age.ms):
        return []
    return [Finding(model.name, "old-version", f"serves {recorded.version} since {since} ({age.days} days, over "
                    f"maxVersionAge {days(settings.max_version_age)})",
                    "release a newer version (retrained, or rebuilt on current dependencies): spec.version",
                    model.file)]


def _image(model: ModelConfig, settings: Maintenance) -> tuple[list[Finding], list[str]]:
    image = model.spec.serving.image
    repository, tag, digest = reference_parts(image)
    found: list[Finding] = []
    if mutable(tag, digest):
        shown = f"tag {tag}" if tag else "no tag"
        found.append(Finding(model.name, "mutable-image", f"image {image} has {shown} and no digest: the same "
                             "configuration may serve other bytes tomorrow",
                             f"spec.serving.image: {repository}:<release tag> or {repository}@sha256:<digest>",
                             model.file))
    channel = settings.channels.get(repository)
    if channel is None:
        return found, []
    late = behind(tag, channel)
    if late is None:
        return found, [f"{image} against {repository} {channel} (not comparable)"]
    if late:
        found.append(Finding(model.name, "behind-channel", f"image {image} is behind its channel {channel}",
                             f"spec.serving.image: {repository}:{channel}", model.file))
    return found, []


def _artifact(model: ModelConfig) -> list[Finding]:
    artifact = model.spec.artifact
    if artifact.sha256 is not None:
        return []
    return [Finding(model.name, "unpinned-artifact", f"artifact {artifact.uri} has no sha256: what it serves can "
                    "change under the same version", "spec.artifact.sha256: <64 hex digits of the artifact>",
                    model.file)]


def _warm(environment: str, model: ModelConfig, recorded: ModelState | None, moment: datetime,
          window: datetime | None) -> list[Finding]:
    warm = recorded.warm_slot if recorded is not None else None
    if recorded is None or warm is None or recorded.rollout is not None:
        return []
    if warm.warm_until is not None and parse_iso(warm.warm_until) > moment:
        return []
    slot = recorded.idle_slot
    ended = f"its warm window ended at {warm.warm_until}" if warm.warm_until else "it has no warm window"
    when = f"in the next maintenance window, opening {iso(window)}" if window is not None else "at the next apply"
    return [Finding(model.name, "stale-warm-slot", f"slot {slot} keeps {warm.version} warm, and {ended}",
                    f"modelops apply --env {environment} retires it ({when})", model.file)]


def maintenance_of(env: EnvironmentConfig, state: EnvironmentState) -> EnvironmentMaintenance | None:
    """The report as of the state's last write (REPORT.md, assess); None for a state never written."""
    return maintenance_report(env, state, parse_iso(state.updated)) if state.updated else None


def count_by_kind(findings: Sequence[Finding]) -> dict[str, int]:
    found: dict[str, int] = {}
    for finding in findings:
        found[finding.kind] = found.get(finding.kind, 0) + 1
    return found

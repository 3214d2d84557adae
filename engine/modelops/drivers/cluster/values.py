"""What the cluster says about one model and about the Argo CD Application: frozen values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

#: The phases a model's workload can be in, as Argo Rollouts names them (and Argo CD's health echoes); `Missing`:
#: the object the commit renders does not exist in the cluster (not synced yet, or deleted by hand).
PHASES = ("Healthy", "Progressing", "Paused", "Degraded", "Missing")


@dataclass(frozen=True)
class Served:
    """A revision the cluster runs for a model, and the share of its traffic (percent)."""

    version: str
    revision: str
    weight: int


@dataclass(frozen=True)
class AnalysisRead:
    """The analysis run a rollout waits on or that decided it: an Argo Rollouts AnalysisRun."""

    name: str
    phase: str  # Pending | Running | Successful | Failed | Error | Inconclusive
    message: str = ""


@dataclass(frozen=True)
class ModelRead:
    """One model as the cluster runs it.

    `target` is the revision the committed rendered/ asks for; `synced` says the live workload asks for it too and
    its controller has seen that (so its phase is about the target). `serving` are the revisions taking traffic;
    `candidate` the new one under test (a blue-green preview, a canary) and `test_service` where it answers."""

    model: str
    kind: str
    name: str
    phase: str
    target: str | None
    synced: bool
    serving: tuple[Served, ...] = ()
    candidate: Served | None = None
    test_service: str | None = None
    step: str | None = None
    message: str = ""
    analysis: AnalysisRead | None = None
    scaler: str | None = None

    @property
    def settled(self) -> bool:
        """The cluster has finished with the rendered revision, one way or the other."""
        return self.synced and self.phase in ("Healthy", "Degraded")

    @property
    def reached(self) -> bool:
        """Healthy at the rendered revision, which takes all the traffic."""
        return (self.synced and self.phase == "Healthy" and len(self.serving) == 1
                and self.serving[0].revision == self.target)

    @property
    def refused(self) -> bool:
        """The controller gave up on the rendered revision (an abort, a failed analysis, a deadline)."""
        return self.synced and self.phase == "Degraded"

    @property
    def stable(self) -> Served | None:
        """The revision with the largest share of traffic."""
        return max(self.serving, key=lambda s: s.weight, default=None)

    @property
    def reason(self) -> str:
        """Why, in the cluster's words: a failed analysis run's message first, then the workload's."""
        if self.analysis is not None and self.analysis.message and self.analysis.phase in ("Failed", "Error"):
            return self.analysis.message
        return self.message

    def summary(self) -> str:
        """One line: phase, what serves, the step, the reason."""
        shown = ", ".join(f"{s.version} {s.weight}%" for s in self.serving) or "nothing serves"
        parts = [self.phase, shown]
        if self.step:
            parts.append(f"step {self.step}")
        if not self.synced and self.phase != "Missing":
            parts.append("not yet at the committed revision")
        text = " · ".join(parts)
        return f"{text}: {self.reason}" if self.reason and self.phase != "Healthy" else text


@dataclass(frozen=True)
class ApplicationRead:
    """An Argo CD Application: its sync status and revision, health, and the last sync operation."""

    name: str
    namespace: str
    sync: str  # Synced | OutOfSync | Unknown | Missing (no such Application)
    revision: str | None = None
    health: str | None = None
    operation: str | None = None  # Running | Succeeded | Failed | Error | Terminating
    message: str = ""
    path: str | None = None

    def summary(self) -> str:
        at = f" at {self.revision[:12]}" if self.revision else ""
        health = f", {self.health}" if self.health else ""
        operation = f"; last sync {self.operation}" if self.operation else ""
        why = f": {self.message}" if self.message and self.operation in ("Failed", "Error") else ""
        return f"Application {self.namespace}/{self.name}: {self.sync}{at}{health}{operation}{why}"

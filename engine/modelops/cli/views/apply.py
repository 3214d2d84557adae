"""Apply progress and outcome: readable lines on a terminal, one structured (logfmt) line per step otherwise."""

from __future__ import annotations

from dataclasses import dataclass

from modelops.base.clock import now_iso, readable
from modelops.base.console import Console
from modelops.cli.views.plan import APPLIED, counted, describe
from modelops.core.live import Drift
from modelops.core.plan import Action, Step, tally
from modelops.run.executor import ActionResult, StepOutcome
from modelops.services.apply import ApplyOutcome

_MARKS = {"ok": ("✓", "green"), "failed": ("✗", "red"), "inconclusive": ("?", "yellow"), "paused": ("‖", "yellow"),
          "deferred": ("…", "cyan")}


@dataclass
class ProgressView:
    """The executor's observer: prints as steps finish."""

    console: Console
    human: bool

    def action_started(self, action: Action) -> None:
        if self.human:
            self.console.print(f"\n{self.console.style(action.environment, 'bold')}: {action.kind.value} "
                               f"{action.target} — {action.reason}")

    def step_started(self, action: Action, index: int, total: int, step: Step) -> None:
        return None

    def step_finished(self, action: Action, index: int, total: int, step: Step, outcome: StepOutcome) -> None:
        if self.human:
            mark, colour = _MARKS[outcome.status]
            line = f"  [{index + 1}/{total}] {describe(step)}  {self.console.style(mark, colour, 'bold')} "
            self.console.print(line + f"{outcome.summary} ({readable(outcome.seconds * 1000)})")
            return
        self.console.print(logfmt(time=now_iso(), env=action.environment, target=action.target,
                                   step=f"{index + 1}/{total}", op=step.op, status=outcome.status,
                                   duration=f"{outcome.seconds:.3f}s", msg=outcome.summary))

    def waiting(self, action: Action, until: str, reason: str) -> None:
        if self.human:
            self.console.print(f"        waiting until {until} ({reason})")
        else:
            self.console.print(logfmt(time=now_iso(), env=action.environment, target=action.target,
                                       status="waiting", until=until, msg=reason))

    def action_finished(self, result: ActionResult) -> None:
        if result.status == "applied":
            return
        text = f"  {result.action.target}: {result.status.replace('_', ' ')}: {result.message}"
        self.console.print(self.console.style(text, "red" if result.status != "paused" else "yellow"))
        if result.output:
            self.console.print("\n".join(f"    | {line}" for line in result.output.splitlines()[-20:]))


def logfmt(**fields: str) -> str:
    """One structured log line: `key=value` pairs, a value quoted when it holds a space or `=`."""
    def quote(value: str) -> str:
        return f'"{value}"' if (" " in value or "=" in value or not value) else value

    return " ".join(f"{key}={quote(str(value).replace(chr(34), chr(39)))}" for key, value in fields.items())


def _blocked_lines(blocked: list[Action]) -> list[str]:
    """One line per environment and reason: a freeze holds back every action alike."""
    reasons: dict[tuple[str, str], list[str]] = {}
    for action in blocked:
        reasons.setdefault((action.environment, action.blocked or ""), []).append(action.target)
    return [f"{env}: {targets[0] if len(targets) == 1 else f'{len(targets)} actions'} blocked: {why}"
            for (env, why), targets in reasons.items()]


def _accepted(accepted: list[tuple[str, Drift]], console: Console) -> str:
    """`apply --refresh-only`: what was recorded as serving, model by model."""
    lines = [f"{env}: recorded what serves {d.model} ({d.summary})" for env, d in accepted]
    count = f"{len(accepted)} model{'s' if len(accepted) != 1 else ''}"
    lines.append(console.style(f"Refresh complete! Recorded what serves for {count}; no operation was sent.", "green",
                               "bold"))
    return "\n".join(lines)


def refreshed(outcome: ApplyOutcome) -> str:
    """The derived files an apply brought up to date though nothing ran for them."""
    return f"Refreshed {', '.join(outcome.refreshed)}: the configuration changed what they show."


def notified(outcome: ApplyOutcome, console: Console) -> list[str]:
    """The rollout notifications sent; one that failed is a warning (the apply's outcome stands)."""
    return [row.describe() if row.ok else console.style(f"warning: {row.describe()}", "yellow")
            for row in outcome.notified]


def summary(outcome: ApplyOutcome, console: Console) -> str:
    if outcome.declined:
        return "Apply cancelled."
    accepted = [(e.name, d) for e in outcome.environments if e.accepted for d in e.drift]
    if accepted:
        return _accepted(accepted, console)
    applied = [r.action for e in outcome.environments for r in e.results if r.status == "applied"]
    rolled, failed, paused = (outcome.count(s) for s in ("rolled_back", "failed", "paused"))
    counts = counted(tally(applied), APPLIED) or "nothing applied"  # models and policies apart, as plan counts them
    extra = ", ".join(f"{n} {w}" for n, w in ((rolled, "rolled back"), (failed, "failed"), (paused, "paused")) if n)
    lines = [f"{env.name}: not applied ({env.skipped})" for env in outcome.environments if env.skipped]
    blocked = outcome.blocked
    lines += _blocked_lines(blocked)
    lines += [refreshed(outcome)] if outcome.refreshed else []
    lines += notified(outcome, console)
    if outcome.failed:
        lines.append(console.style(f"Apply failed! {counts}; {extra}.", "red", "bold"))
    elif blocked:
        tail = f"; {extra}" if extra else ""
        lines.append(console.style(f"Apply incomplete! {counts}{tail}; {len(blocked)} blocked.", "yellow", "bold"))
    else:
        tail = f"; {extra}" if extra else ""
        lines.append(console.style(f"Apply complete! {counts}{tail}.", "green", "bold"))
    if outcome.committed:
        lines.append(f"Committed {outcome.committed[:12]}.")
    return "\n".join(lines)

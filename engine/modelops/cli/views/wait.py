"""The wait's progress and its outcome.

On a terminal, one line per environment is rewritten in place as the cluster moves (models, phase, step, time left);
a model's end, a gate's verdict and an Application change get lines of their own. Elsewhere (CI logs), one logfmt
line each time what the cluster says changes, never one per poll.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelops.base.clock import now_iso
from modelops.base.console import Console
from modelops.cli.views.apply import logfmt
from modelops.drivers.cluster.values import ApplicationRead, ModelRead
from modelops.run.gates import GateResult
from modelops.services.wait import ModelOutcome, WaitOutcome

_MARKS = {"healthy": ("✓", "green"), "rolled_back": ("↩", "red"), "timed_out": ("…", "yellow")}


@dataclass
class WaitView:
    """The wait's observer (see the module docstring)."""

    console: Console
    human: bool
    _said: dict[tuple[str, str], str] = field(default_factory=dict)
    _line: dict[str, dict[str, str]] = field(default_factory=dict)
    _drawn: bool = False

    def _changed(self, environment: str, key: str, text: str) -> bool:
        if self._said.get((environment, key)) == text:
            return False
        self._said[(environment, key)] = text
        return True

    def application(self, environment: str, read: ApplicationRead, commit: str | None) -> None:
        text = read.summary()
        if not self._changed(environment, "application", text):
            return
        wanted = f"waiting for {commit[:12]}" if commit else "waiting for Synced"
        if self.human:
            self._print(f"  {environment}: {text} ({wanted})")
        else:
            self._print(logfmt(time=now_iso(), env=environment, application=read.name, sync=read.sync,
                               revision=(read.revision or "-")[:12], health=read.health or "-", msg=wanted))

    def model(self, environment: str, read: ModelRead, elapsed: float, timeout: float) -> None:
        text = read.summary()
        changed = self._changed(environment, f"model/{read.model}", text)
        if self.human:
            self._line.setdefault(environment, {})[read.model] = f"{read.model} {text}"
            self._draw(environment, elapsed, timeout)
        elif changed:
            self._print(logfmt(time=now_iso(), env=environment, model=read.model, kind=read.kind,
                               phase=read.phase, step=read.step or "-", msg=text))

    def gate(self, environment: str, model: str, what: str, result: GateResult) -> None:
        if self.human:
            mark, colour = ("✓", "green") if result.ok else ("✗", "red")
            self._print(f"  {environment}/{model}: {what} {self.console.style(mark, colour, 'bold')} {result.summary}")
        else:
            self._print(logfmt(time=now_iso(), env=environment, model=model, gate=what, status=result.status,
                               msg=result.summary))

    def problem(self, environment: str, message: str) -> None:
        if self._changed(environment, "problem", message):
            self._print(f"  {environment}: {message} (trying again)" if self.human else
                        logfmt(time=now_iso(), env=environment, status="unreadable", msg=message))

    def finished(self, environment: str, outcome: ModelOutcome) -> None:
        self._line.get(environment, {}).pop(outcome.model, None)
        mark, colour = _MARKS[outcome.status]
        what = outcome.status.replace("_", " ")
        detail = f": {outcome.message}" if outcome.message else ""
        if self.human:
            self._print(f"  {environment}/{outcome.model}: {self.console.style(mark + ' ' + what, colour, 'bold')}"
                        f"{detail}")
        else:
            self._print(logfmt(time=now_iso(), env=environment, model=outcome.model, status=outcome.status,
                               serves=outcome.version or "-", msg=outcome.message or what))

    def _draw(self, environment: str, elapsed: float, timeout: float) -> None:
        parts = "; ".join(self._line.get(environment, {}).values())
        line = f"  {environment}: {parts} ({_clock(elapsed)} of {_clock(timeout)})"
        width = 119
        self.console.out.write("\r\x1b[2K" + line[:width])
        self.console.out.flush()
        self._drawn = True

    def _print(self, text: str) -> None:
        if self._drawn:  # a line of its own goes above the one being rewritten
            self.console.out.write("\r\x1b[2K")
            self._drawn = False
        self.console.print(text)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def summary(outcome: WaitOutcome, console: Console) -> str:
    """What the wait recorded, environment by environment, and the closing line."""
    lines: list[str] = []
    for env in outcome.environments:
        if env.error is not None:
            lines.append(console.style(f"{env.name}: not waited on: {env.error}", "red"))
        for done in env.outcomes:
            if done.status == "healthy":
                lines.append(f"{env.name}/{done.model}: Healthy at {done.version} (the cluster says so)")
            elif done.status == "rolled_back":
                back = f" to {done.version}" if done.version else ""
                lines.append(console.style(f"{env.name}/{done.model}: rolled back{back}: {done.message}", "red"))
            else:
                lines.append(console.style(f"{env.name}/{done.model}: {done.message}", "yellow"))
        lines += [f"{env.name}: wrote back {path}" for path in env.written_back]
        lines += [row.describe() if row.ok else console.style(f"warning: {row.describe()}", "yellow")
                  for row in env.notified]
        lines += [console.style(f"{env.name}: {problem}", "red") for problem in env.problems]
    if outcome.committed:
        pushed = f", pushed to {outcome.pushed}" if outcome.pushed else ""
        lines.append(f"Committed {outcome.committed[:12]}{pushed}.")
    total = sum(len(e.outcomes) for e in outcome.environments)
    healthy = sum(1 for e in outcome.environments for o in e.outcomes if o.status == "healthy")
    if outcome.failed:
        lines.append(console.style(f"Wait failed! {healthy} of {total} model{'s' if total != 1 else ''} Healthy in "
                                   "the cluster.", "red", "bold"))
    else:
        lines.append(console.style(f"Wait complete! {healthy} model{'s' if healthy != 1 else ''} Healthy in the "
                                   "cluster.", "green", "bold"))
    return "\n".join(lines)

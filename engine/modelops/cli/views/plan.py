"""Plans as a person reads them (Terraform-like text) and as machines read them (JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.base.console import Console
from modelops.cli.render import Renderer, uncoloured
from modelops.config.scalars.duration import Duration
from modelops.core.live import shown
from modelops.core.plan import Action, ActionKind, EnvironmentPlan, Plan, Step

VERBS = {
    ActionKind.DEPLOY: "will be deployed", ActionKind.UPGRADE: "will be upgraded",
    ActionKind.ROLLBACK: "will be rolled back", ActionKind.RECONFIGURE: "will be reconfigured",
    ActionKind.RETIRE: "will be retired", ActionKind.POLICY_ADD: "will be added",
    ActionKind.POLICY_CHANGE: "will be changed", ActionKind.POLICY_REMOVE: "will be removed",
    ActionKind.MOVE: "will be moved",
}
_LEGEND = {"+": "deploy / add", "~": "change (upgrade, rollback, reconfigure)",
           "-/+": "replace (a recreate upgrade: all traffic moves at once, without preview tests or gradual steps)",
           "-": "retire / remove", "!": "blocked: will not run (the reason is on the line above it)"}
_COLOURS = {"+": "green", "~": "yellow", "-/+": "yellow", "-": "red", "!": "red"}


def summary_line(plan: Plan) -> str:
    counts = plan.change_summary()
    drifted = _drifted(counts["drifted"])
    if not plan.has_changes:
        if counts["blocked"] or counts["drifted"]:
            held = f"{counts['blocked']} blocked" if counts["blocked"] else ""
            return (f"No changes can be applied: {', '.join(p for p in (held, drifted) if p)} (the configuration is "
                    "not what serves).")
        return "No changes. The recorded state matches the configuration."
    line = f"Plan: {counts['deploy']} to deploy, {counts['change']} to change, {counts['retire']} to retire."
    line += f" {counts['blocked']} blocked." if counts["blocked"] else ""
    return line + (f" {drifted[0].upper()}{drifted[1:]}." if drifted else "")


def _drifted(count: int) -> str:
    if not count:
        return ""
    return f"{count} model{'s' if count != 1 else ''} changed outside modelops"


REFRESH_SKIPPED = ("Refresh skipped (--refresh=false): this plan compares the configuration with the recorded state "
                   "only; what the targets serve was not read, so changes made outside modelops are not shown.")


def render_text(plan: Plan, console: Console) -> str:
    lines: list[str] = []
    if plan.options.get("refresh") is False:
        lines += [console.style(REFRESH_SKIPPED, "yellow"), ""]
    symbols = sorted({"!" if a.blocked else a.symbol for a in plan.actions}, key=list(_LEGEND).index)
    if symbols:
        lines += ["Actions are marked with these symbols:"]
        lines += [f"  {console.style(s, _COLOURS[s], 'bold')} {_LEGEND[s]}" for s in symbols]
        lines.append("")
    for env in plan.environments:
        lines += _environment(env, console)
    lines.append(console.style(summary_line(plan), "bold"))
    return "\n".join(lines)


def _environment(env: EnvironmentPlan, console: Console) -> list[str]:
    state = f"state serial {env.serial}" if env.lineage else "no recorded state yet"
    header = f"{console.style(env.name, 'bold')} (driver {env.driver}, {state})"
    if not env.actions and not env.drift and not env.live_error:
        return [f"{header}: no changes", ""]
    lines = [f"{header}:"]
    if env.live_error:
        lines.append(f"  note: the target could not be read: {env.live_error}")
    lines += _drift(env, console)
    lines += [f"  note: {note}" for note in env.notes]
    if env.approval_required and env.runnable:
        lines.append("  note: approval required: apply asks for confirmation (or --auto-approve)")
    for action in env.actions:
        lines += ["", *_action(action, console)]
    return [*lines, ""]


def _drift(env: EnvironmentPlan, console: Console) -> list[str]:
    """Like Terraform's "Objects have changed outside of Terraform": recorded -> live, field by field."""
    if not env.drift:
        return []
    title = console.style("Changed outside modelops", "yellow", "bold")
    lines = [f"  {title} (recorded -> live, read from {env.live}):"]
    for found in env.drift:
        lines.append(f"    {console.style('~', 'yellow', 'bold')} model \"{found.model}\"")
        lines += [f"        {path}: {shown(old)} -> {shown(new)}" for path, old, new in found.changes]
    lines.append(f"  Accept what serves with `modelops apply --refresh-only --env {env.name}`, or re-assert the "
                 f"configuration with `modelops apply --override-drift --env {env.name}`.")
    return lines


def _action(action: Action, console: Console) -> list[str]:
    label = _label(action)
    symbol = console.style(action.symbol, _COLOURS[action.symbol], "bold")
    if action.blocked:
        return [f"  # {label} is blocked: {action.blocked}",
                f"  {console.style('!', 'red', 'bold')} {label} ({action.kind.value}, blocked)"]
    lines = [f"  # {label} {VERBS[action.kind]}: {action.reason}", f"  {symbol} {label}"]
    lines += [f"      ~ {path}: {_value(old)} -> {_value(new)}" for path, old, new in _shown_changes(action)]
    if action.steps and not (len(action.steps) == 1 and action.steps[0].stage == "config"):
        lines.append("      steps:")
        width = len(str(len(action.steps)))
        for i, step in enumerate(action.steps, 1):
            done = " (done)" if i <= action.resume_from else ""
            lines.append(f"        {str(i).rjust(width)}. {f'[{step.stage}]':<13} {describe(step)}{done}")
    return lines


def _label(action: Action) -> str:
    if action.is_model:
        return f'model "{action.name}"'
    kind, name = action.target.split("/", 1)
    return f'{kind} "{name}"'


def _shown_changes(action: Action) -> Iterable[tuple[str, Any, Any]]:
    if action.kind in (ActionKind.DEPLOY, ActionKind.RETIRE) or not action.is_model:
        return []
    return action.changes[:12]


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not None else "(none)"
    return text if len(text) <= 60 else text[:57] + "..."


def describe(step: Step) -> str:
    """One line per step, the same words in plans, apply progress and reports."""
    a = step.args
    match step.op:
        case "verify":
            digest = f"sha256:{a['sha256'][:12]}" if a.get("sha256") else "(no digest)"
            return f"verify artifact {digest}"
        case "deploy":
            replicas = f"{a['replicas']} replica" + ("s" if a["replicas"] != 1 else "")
            return f"deploy {a['version']} to slot {a['slot']} ({a['role']}, {replicas})"
        case "test":
            return f"run tests {', '.join(a['tests'])} against slot {a['slot']}"
        case "analysis":
            return f"{_when(a['when'])}analysis {', '.join(a['analyses'])} on slot {a['slot']}"
        case "traffic":
            return _traffic(a)
        case "alerts":
            return f"roll back if {'/'.join(a['severities'])} alerts fire on slot {a['slot']}"
        case "pause":
            wait = str(Duration(a["duration_ms"])) if a.get("duration_ms") is not None else "until promoted"
            return f"pause {wait} ({a.get('reason', 'pause')})"
        case "bake":
            return f"keep slot {a['slot']} warm for {Duration(a['duration_ms'])} (instant rollback)"
        case "retire":
            return f"retire slot {a['slot']}"
        case "configure":
            return "apply configuration (scaling, alerts, escalation, tests) without a rollout"
        case "remove":
            return f"remove the model (slots {', '.join(a['slots']) or 'none'})"
        case "rename":
            return f"move the record and the slots of {a['from']} to this name (nothing redeployed)"
        case "policy":
            return "remove the policy" if a.get("digest") is None else "apply the policy"
    return step.op


def _when(when: str) -> str:
    return {"pre": "pre-promotion ", "post": "post-promotion ", "step": ""}.get(when, "")


def _traffic(args: dict[str, Any] | Any) -> str:
    weights = args["weights"]
    shares = ", ".join(f"{slot} {weight}%" for slot, weight in sorted(weights.items()))
    if args.get("batch"):
        return f"replace batch {args['batch']}: traffic {shares}"
    if args.get("switch"):
        target = next(slot for slot, weight in weights.items() if weight == 100)
        return f"switch all traffic to slot {target}"
    return f"set traffic {shares}"


def render_json(plan: Plan) -> str:
    return plan.to_json()


@dataclass(frozen=True)
class PlanOutput:
    """What `modelops plan` prints: the plan, the file it was saved to, and its pull-request Markdown (every
    part, joined; computed when first asked for, since it validates the repository again)."""

    plan: Plan
    saved: Path | None
    markdown: Callable[[], str]


def _output_text(output: PlanOutput, console: Console) -> str:
    text = render_text(output.plan, console)
    if output.saved is None:
        return text
    return (f"{text}\n\nSaved the plan to {output.saved}. Apply exactly these actions with: "
            f"modelops apply {output.saved}")


def _output_json(output: PlanOutput) -> str:
    return render_json(output.plan).rstrip()


def _output_markdown(output: PlanOutput) -> str:
    return output.markdown().rstrip()


RENDERERS: dict[str, Renderer[PlanOutput]] = {
    "text": _output_text, "json": uncoloured(_output_json), "markdown": uncoloured(_output_markdown),
}

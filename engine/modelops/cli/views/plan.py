"""Plans as a person reads them (Terraform-like text) and as machines read them (JSON).

The text and the pull-request comment (`markdown`) say the same things with the same symbols: one summary line
that counts models and policies apart, then per action its reason, its changed fields (old -> new, values in their
canonical form but durations as a person reads them: `2.5s`), its warnings and its steps by phase."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.base.clock import readable
from modelops.base.console import Console
from modelops.base.diagnostics import Diagnostic
from modelops.cli.render import Renderer, uncoloured
from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import parse_duration
from modelops.core.live import shown
from modelops.core.plan import PHASES, Action, ActionKind, EnvironmentPlan, Plan, Step

VERBS = {
    ActionKind.DEPLOY: "will be deployed", ActionKind.UPGRADE: "will be upgraded",
    ActionKind.ROLLBACK: "will be rolled back", ActionKind.RECONFIGURE: "will be reconfigured",
    ActionKind.RETIRE: "will be retired", ActionKind.POLICY_ADD: "will be added",
    ActionKind.POLICY_CHANGE: "will be changed", ActionKind.POLICY_REMOVE: "will be removed",
    ActionKind.MOVE: "will be moved",
}
LEGEND = {"+": "deploy / add", "~": "change (upgrade, rollback, reconfigure)",
           "-/+": "replace (a recreate upgrade: all traffic moves at once, without preview tests or gradual steps)",
           "-": "retire / remove", "!": "blocked: will not run (the reason is on the line above it)"}
_COLOURS = {"+": "green", "~": "yellow", "-/+": "yellow", "-": "red", "!": "red"}


#: The words of the summary's counts, as a plan says them (what would happen) and as apply says them (what did).
PLANNED = {"models": {"deploy": "to deploy", "change": "to change", "retire": "to retire"},
           "policies": {"add": "to add", "change": "to change", "remove": "to remove"}}
APPLIED = {"models": {"deploy": "deployed", "change": "changed", "retire": "retired"},
           "policies": {"add": "added", "change": "changed", "remove": "removed"}}
_NOUNS = {"models": ("model", "models"), "policies": ("policy", "policies")}


def counted(summary: Mapping[str, Any], words: Mapping[str, Mapping[str, str]] = PLANNED) -> str:
    """`3 models to deploy, 1 to retire; 2 policies to change`: models and policies apart (a policy record is no
    deployment), counts of zero left out, the noun on the first count of each; "" when everything is zero."""
    groups = []
    for group, verbs in words.items():
        counts = [(summary[group][key], verb) for key, verb in verbs.items() if summary[group][key]]
        if counts:
            one, many = _NOUNS[group]
            first = f"{counts[0][0]} {one if counts[0][0] == 1 else many} {counts[0][1]}"
            groups.append(", ".join([first, *(f"{n} {verb}" for n, verb in counts[1:])]))
    return "; ".join(groups)


def summary_line(plan: Plan) -> str:
    counts = plan.change_summary()
    drifted = _drifted(counts["drifted"])
    if not plan.has_changes:
        if counts["blocked"] or counts["drifted"]:
            held = f"{counts['blocked']} blocked" if counts["blocked"] else ""
            return (f"No changes can be applied: {', '.join(p for p in (held, drifted) if p)} (the configuration is "
                    "not what serves).")
        return "No changes. The recorded state matches the configuration."
    line = f"Plan: {counted(counts)}."
    line += f" {counts['blocked']} blocked." if counts["blocked"] else ""
    return line + (f" {drifted[0].upper()}{drifted[1:]}." if drifted else "")


def used_symbols(plan: Plan) -> list[str]:
    """The symbols the plan's actions are drawn with, in the legend's order (a legend lists only those)."""
    return sorted({"!" if a.blocked else a.symbol for a in plan.actions}, key=list(LEGEND).index)


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
    symbols = used_symbols(plan)
    if symbols:
        lines += ["Actions are marked with these symbols:"]
        lines += [f"  {console.style(s, _COLOURS[s], 'bold')} {LEGEND[s]}" for s in symbols]
        lines.append("")
    for env in plan.environments:
        lines += _environment(env, console)
    lines.append(console.style(summary_line(plan), "bold"))
    return "\n".join(lines)


def _environment(env: EnvironmentPlan, console: Console) -> list[str]:
    state = f"state serial {env.serial}" if env.lineage else "no recorded state yet"
    header = f"{console.style(env.name, 'bold')} (driver {env.target}, {state})"
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
    return ["  " + line for line in action_lines(action, console)]


def action_lines(action: Action, console: Console) -> list[str]:
    """One action as the plan shows it, from its symbol's column: the comment with its reason (or why it is
    blocked), its warnings, the symbol and label, a line per changed field and its steps. The PR comment shows the
    same lines."""
    label = action_label(action)
    warnings = [console.style(f"# {line}", "yellow") for w in action.warnings for line in warning_lines(w)]
    if action.blocked:
        return [f"# {label} is blocked: {action.blocked}", *warnings,
                f"{console.style('!', 'red', 'bold')} {label} ({action.kind.value}, blocked)"]
    symbol = console.style(action.symbol, _COLOURS[action.symbol], "bold")
    lines = [f"# {label} {VERBS[action.kind]}: {action.reason}", *warnings, f"{symbol} {label}"]
    lines += [f"    {field_symbol(old, new)} {path}: {value_text(old)} -> {value_text(new)}"
              for path, old, new in shown_changes(action)]
    if action.steps and not (len(action.steps) == 1 and action.steps[0].stage == "config"):
        lines.append("    steps:")
        width = len(str(len(action.steps)))
        for i, step in enumerate(action.steps, 1):
            done = " (done)" if i <= action.resume_from else ""
            lines.append(f"      {str(i).rjust(width)}. {f'[{step.stage}]':<{_PHASE_WIDTH}} {describe(step)}{done}")
    return lines


_PHASE_WIDTH = max(len(p) for p in PHASES) + 3  # the longest `[phase]` and a space


def warning_lines(diagnostic: Diagnostic) -> list[str]:
    """A plan's warning as validation prints one: `warning[MO233]: ...`, then its hint."""
    hint = [f"  = hint: {diagnostic.hint}"] if diagnostic.hint else []
    return [f"warning[{diagnostic.code}]: {diagnostic.message}", *hint]


def action_label(action: Action) -> str:
    """`model "sentiment"`, `AlertPolicy "model-slo"`."""
    if action.is_model:
        return f'model "{action.name}"'
    kind, name = action.target.split("/", 1)
    return f'{kind} "{name}"'


def shown_changes(action: Action) -> tuple[tuple[str, Any, Any], ...]:
    """The changed fields a reviewer sees: every one, except for a model deployed or retired (all of it is new, or
    all of it goes)."""
    return () if action.kind in (ActionKind.DEPLOY, ActionKind.RETIRE) else action.changes


def field_symbol(before: Any, after: Any) -> str:
    """`+` a field that appears, `-` one that goes, `~` one that changes (as Terraform marks attributes)."""
    return "+" if before is None else "-" if after is None else "~"


def value_text(value: Any) -> str:
    """A field's value on one short line: JSON (strings quoted, as Terraform shows them), but a duration as a
    person reads it and unquoted (`2.5s`, not `"2s500ms"`), a SHA-256 digest as the steps show it
    (`sha256:9f2c1d7a4b3e`); `(none)` for a field that is not set. A long string keeps its closing quote."""
    if value is None:
        return "(none)"
    if isinstance(value, str) and _DIGEST.fullmatch(value):
        return f"sha256:{value[:12]}"
    ms = _duration_ms(value)
    if ms is not None:
        return readable(ms, exact=True)
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= 60:
        return text
    return text[:56] + '..."' if isinstance(value, str) else text[:57] + "..."


_DIGEST = re.compile(r"[0-9a-f]{64}")


def _duration_ms(value: Any) -> int | None:
    """The milliseconds of a value written as the configuration's canonical form of a duration (how specs record
    durations), else None: anything that only parses as one (`"1000ms"`, a label) stays what it is."""
    if not isinstance(value, str) or not value[:1].isdigit():
        return None
    try:
        parsed = parse_duration(value)
    except ScalarError:
        return None
    return parsed.ms if str(parsed) == value else None


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
        case "probe":
            return f"verify the active endpoint serves {a['version']} ({a['by']}, up to {a['attempts']} probes)"
        case "pause":
            wait = readable(a["duration_ms"], exact=True) if a.get("duration_ms") is not None else "until promoted"
            return f"pause {wait} ({a.get('reason', 'pause')})"
        case "bake":
            return f"keep slot {a['slot']} warm for {readable(a['duration_ms'], exact=True)} (instant rollback)"
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

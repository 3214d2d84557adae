"""Plans and apply outcomes as GitHub Markdown: the pull-request comment and the job summary.

The plan comment follows Atlantis: the summary line first, then one section per environment with its
own summary, the actions folded in `<details>` inside a ```diff block whose lines start with the action's
symbol so GitHub colours them (`+` deploy/add, `!` change, `-` retire/remove; Terraform's `~` is not
coloured by GitHub's diff grammar, so it becomes `!`), blocked actions and guardrail warnings listed.

GitHub refuses comments over 65,535 characters. A longer plan is split into numbered parts, each valid
Markdown on its own (every part closes the fences and `<details>` it opens, and an environment that
continues repeats its heading). Each part starts with a hidden marker line,
`<!-- modelops-plan part N/M -->`: `plan --format markdown` prints the parts one after another, and a
workflow splits its output on those lines to post one comment per part (part 1 is the sticky comment).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelops.base.console import Console
from modelops.base.diagnostics import Diagnostic
from modelops.cli.views.plan import REFRESH_SKIPPED, VERBS, describe, summary_line
from modelops.core.live import shown
from modelops.core.plan import Action, ActionKind, EnvironmentPlan, Plan
from modelops.report.escape import code, md

if TYPE_CHECKING:  # the plan comment does not load the apply machinery
    from modelops.services.apply import ApplyOutcome

COMMENT_LIMIT = 65_535
_UNLIMITED = 2**62
MARKER = "<!-- modelops-plan"
PART_MARKER = re.compile(r"^<!-- modelops-plan part (\d+)/(\d+) -->$", re.MULTILINE)
GUARDRAIL_CODE = "MO301"

_DIFF_SYMBOLS = {"+": "+", "-": "-", "~": "!", "-/+": "!"}  # GitHub colours a diff line by its first character
_LEGEND = "`+` deploy or add · `!` change (upgrade, rollback, reconfigure, replace) · `-` retire or remove"


@dataclass(frozen=True)
class Group:
    """A run of items under one heading, which may be cut across parts.

    `header` opens the group; `continued` replaces it in a later part. `open`/`close` wrap the items
    (a `<details>` with a diff fence) and are repeated in every part the group reaches, so each part
    stays valid Markdown. `cut` starts the line that says an item was truncated.
    """

    header: str
    continued: str
    items: Sequence[str]
    open: str = ""
    close: str = ""
    cut: str = ""


def render_plan(plan: Plan, warnings: Sequence[Diagnostic] = (), limit: int = COMMENT_LIMIT) -> list[str]:
    """The plan comment as parts of at most `limit` characters (one part unless it is long)."""
    guardrails = [d for d in warnings if d.code == GUARDRAIL_CODE and not d.is_error]
    groups = [*_warning_groups(guardrails), *(_environment_group(env) for env in plan.environments)]
    whole = pack(_head(plan), groups, _UNLIMITED)
    if len(whole) == 1 and len(whole[0]) <= limit:
        return whole  # split only when the text would really pass the limit
    return pack(_head(plan), groups, limit)


def join_parts(parts: Sequence[str]) -> str:
    """What `plan --format markdown` prints: the parts in order (each begins with its marker line)."""
    return "\n".join(parts)


def split_parts(text: str) -> list[str]:
    """The inverse of `join_parts`: the parts of printed output, split on their marker lines."""
    starts = [m.start() for m in PART_MARKER.finditer(text)]
    return [text[a:b].rstrip("\n") + "\n" for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


# -- Building blocks --------------------------------------------------------------------------------


def _head(plan: Plan) -> str:
    lines = [f"**{md(summary_line(plan))}**", ""]
    if plan.options.get("refresh") is False:
        lines += [f"> {md(REFRESH_SKIPPED)}", ""]
    since = plan.options.get("changed_since")
    if since:
        lines += [f"Planned only what changed since {code(since)} (and what depends on it).", ""]
    if plan.actions:
        lines += [f"Symbols: {_LEGEND}", ""]
    return "\n".join(lines)


def _warning_groups(warnings: Sequence[Diagnostic]) -> list[Group]:
    if not warnings:
        return []
    items = [f"- {_where(d)}{md(d.message)}\n" for d in warnings]
    title = f"#### ⚠️ Guardrail warnings ({len(warnings)})"
    return [Group(f"{title}\n\n", "#### ⚠️ Guardrail warnings (continued)\n\n", items, "", "\n", "- ")]


def _where(d: Diagnostic) -> str:
    if not d.file:
        return ""
    return f"{code(f'{d.file}:{d.line}' if d.line else d.file)} "


def _environment_group(env: EnvironmentPlan) -> Group:
    summary = summary_line(Plan("", "", "", (env,)))
    heading = f"### {code(env.name)} · {md(summary)}"
    notes = [f"- {md(note)}" for note in env.notes]
    if env.live_error:
        notes.append(f"- ⚠️ The target could not be read: {md(env.live_error)}")
    notes += _drift(env)
    if env.approval_required and env.runnable:
        notes.append("- Approval required: apply asks for confirmation (or `--auto-approve`).")
    blocked = [a for a in env.actions if a.blocked]
    notes += [f"- ⛔ {md(_label(a))} ({md(a.kind.value)}) is blocked: {md(a.blocked)}" for a in blocked[:10]]
    if len(blocked) > 10:
        notes.append(f"- ⛔ ... and {len(blocked) - 10} more blocked actions (marked `#` below)")
    header = "\n".join([heading, "", *notes, ""]) + ("\n" if notes else "")
    if not env.actions:
        return Group(header, header, [])
    count = f"{len(env.actions)} action" + ("s" if len(env.actions) != 1 else "")
    return Group(header, f"### {code(env.name)} (continued)\n\n", [_action(a) for a in env.actions],
                 f"<details><summary>{count}</summary>\n\n```diff\n", "```\n\n</details>\n\n", "# ")


def _drift(env: EnvironmentPlan) -> list[str]:
    """Changed outside modelops: one line per model, recorded -> live, outside the fold."""
    if not env.drift:
        return []
    lines = [f"- 🔀 **Changed outside modelops** (recorded → live, read from {md(env.live or '')}):"]
    lines += [f"  - {code(d.model)}: " + "; ".join(f"{code(p)} {md(shown(b))} → {md(shown(a))}"
                                                   for p, b, a in d.changes) for d in env.drift]
    lines.append(f"  - Accept it with `modelops apply --refresh-only --env {env.name}`, or re-assert the configuration "
                 f"with `modelops apply --override-drift --env {env.name}`.")
    return lines


def _action(action: Action) -> str:
    """The diff lines of one action: the symbol at line start, details indented (uncoloured)."""
    label = _label(action)
    if action.blocked:
        return _lines([f"# {label} ({action.kind.value}) is blocked: {action.blocked}"])
    symbol = _DIFF_SYMBOLS[action.symbol]
    lines = [f"{symbol} {label} {VERBS[action.kind]}: {action.reason}"]
    if action.is_model and action.kind not in (ActionKind.DEPLOY, ActionKind.RETIRE):
        lines += [f"{symbol}     {path}: {_value(old)} -> {_value(new)}" for path, old, new in action.changes[:12]]
        if len(action.changes) > 12:
            lines.append(f"{symbol}     ... and {len(action.changes) - 12} more changes")
    width = len(str(len(action.steps)))
    for i, step in enumerate(action.steps, 1):
        if len(action.steps) == 1 and step.stage == "config":
            break
        done = " (done)" if i <= action.resume_from else ""
        lines.append(f"      {str(i).rjust(width)}. {f'[{step.stage}]':<13} {describe(step)}{done}")
    return _lines(lines)


def _lines(lines: list[str]) -> str:
    # One line per entry whatever the values hold: a newline would start an unmarked (or fence) line.
    return "".join(line.replace("\r", " ").replace("\n", " ") + "\n" for line in lines)


def _label(action: Action) -> str:
    kind, name = action.target.split("/", 1)
    return f'{kind} "{name}"'


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if value is not None else "(none)"
    return text if len(text) <= 60 else text[:57] + "..."


# -- Splitting ------------------------------------------------------------------------------------


def _part_header(head: str, number: int, total: int) -> str:
    marker = f"{MARKER} part {number}/{total} -->\n"
    if total == 1:
        return f"{marker}## modelops plan\n\n{head}\n"
    if number == 1:
        return f"{marker}## modelops plan (part 1 of {total})\n\n{head}\n"
    return f"{marker}## modelops plan (part {number} of {total}, continued)\n\n"


def pack(head: str, groups: Sequence[Group], limit: int) -> list[str]:
    """Fill parts greedily, item by item, so that every part (header included) fits in `limit`.

    Room for the part header is reserved at its longest (a five-digit part count), since the count is
    known only at the end. An item too big for an empty part is cut to fit, with a line saying so.
    """
    reserve = max(len(_part_header(head, 1, 99_999)), len(_part_header(head, 99_999, 99_999)))
    budget = limit - reserve
    if budget < 1000:
        raise ValueError(f"a limit of {limit} characters leaves no room for the plan")
    bodies: list[list[str]] = [[]]
    used = 0
    for group in groups:
        pending = list(group.items)
        header = group.header
        while True:
            wrap = len(header) + (len(group.open) + len(group.close) if pending else 0)
            taken: list[str] = []
            size = 0
            while pending and size + len(pending[0]) <= budget - used - wrap:
                size += len(pending[0])
                taken.append(pending.pop(0))
            if used > 0 and ((pending and not taken) or wrap > budget - used):
                bodies.append([])  # nothing fits in what is left of this part: start the next one
                used = 0
                continue
            if pending and not taken:  # an empty part and still too big: cut the item
                taken.append(_cut(pending.pop(0), budget - wrap, group.cut))
            chunk = header + (group.open + "".join(taken) + group.close if taken else "")
            bodies[-1].append(chunk)
            used += len(chunk)
            if not pending:
                break
            bodies.append([])
            used = 0
            header = group.continued
    bodies = [body for body in bodies if body] or [[]]
    total = len(bodies)
    return [(_part_header(head, n, total) + "".join(body)).rstrip("\n") + "\n" for n, body in enumerate(bodies, 1)]


def _cut(item: str, room: int, prefix: str) -> str:
    """The first lines of an item that fit in `room`, and a line saying how many were left out."""
    lines = item.splitlines(keepends=True)
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        note = f"{prefix}... {len(lines) - index} more lines cut to fit a GitHub comment; run `modelops plan`\n"
        if size + len(line) + len(note) > room:
            return "".join(kept) + note
        kept.append(line)
        size += len(line)
    return "".join(kept)


# -- Apply ----------------------------------------------------------------------------------------


def render_apply(outcome: ApplyOutcome) -> str:
    """The job summary of an apply: the outcome, then one row per action that ran."""
    from modelops.cli.views import apply as apply_view

    lines = ["## modelops apply", ""]
    if not outcome.environments and not outcome.declined:
        lines.append("**No changes.** The recorded state matches the configuration.")
    else:
        for line in apply_view.summary(outcome, Console()).splitlines():
            lines += [f"**{md(line)}**" if line.startswith("Apply") else md(line), ""]
    rows = [(e.name, r) for e in outcome.environments for r in e.results]
    if rows:
        lines += ["| Environment | Target | Action | Result | Detail |", "|---|---|---|---|---|"]
        lines += [f"| {code(env)} | {code(r.action.target)} | {md(r.action.kind.value)} | "
                  f"{md(r.status.replace('_', ' '))} | {md(r.message) if r.message else '-'} |" for env, r in rows]
    return "\n".join(lines) + "\n"

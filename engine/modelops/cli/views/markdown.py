"""Plans and apply outcomes as GitHub Markdown: the pull-request comment and the job summary.

The plan comment follows Atlantis: the summary line first (models and policies counted apart, as `plan` says
it), then one section per environment with its own summary, its notes and warnings, and outside any fold what a
reviewer decides on: one line per model (old -> new version, strategy) and per policy, each policy's changed
fields old -> new (`rules[latency].above.warning: 2s -> 2.5s`). Then the details, folded in `<details>` inside a
```diff block: the lines `modelops plan` prints, with the CLI's symbols (`+` `~` `-/+` `-`, `!` blocked) at line
start, so GitHub colours additions and removals. Warnings (guardrails MO301, artifact digests MO232; the plan's
MO233 and MO234 on their environment) are listed outside the folds.

GitHub refuses comments over 65,535 characters. A longer plan is split into numbered parts, each valid
Markdown on its own (every part closes the fences and `<details>` it opens, and an environment that
continues repeats its heading). Each part starts with a hidden marker line,
`<!-- modelops-plan part N/M -->`: `plan --format markdown` prints the parts one after another, and a
workflow splits its output on those lines to post one comment per part (part 1 is the sticky comment).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelops.base.console import Console
from modelops.base.diagnostics import Diagnostic
from modelops.cli.views.plan import (
    LEGEND,
    REFRESH_SKIPPED,
    action_label,
    action_lines,
    shown_changes,
    summary_line,
    used_symbols,
    value_text,
)
from modelops.core.live import shown
from modelops.core.plan import Action, ActionKind, EnvironmentPlan, Plan
from modelops.report.escape import code, md

if TYPE_CHECKING:  # the plan comment does not load the apply machinery
    from modelops.services.apply import ApplyOutcome

COMMENT_LIMIT = 65_535
_UNLIMITED = 2**62
MARKER = "<!-- modelops-plan"
PART_MARKER = re.compile(r"^<!-- modelops-plan part (\d+)/(\d+) -->$", re.MULTILINE)
#: Validation warnings a reviewer must see in the comment: guardrails, and one artifact digest under two versions.
REVIEW_CODES = ("MO301", "MO232")
#: Changed fields of one policy listed outside the fold (all of them are in the details).
_FIELDS_SHOWN = 10


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
    shown_warnings = [d for d in warnings if d.code in REVIEW_CODES and not d.is_error]
    groups = [*_warning_groups(shown_warnings), *(g for env in plan.environments for g in _environment_groups(env))]
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
    symbols = used_symbols(plan)
    if symbols:
        lines += ["Symbols: " + " · ".join(f"{code(s)} {md(LEGEND[s])}" for s in symbols), ""]
    return "\n".join(lines)


def _warning_groups(warnings: Sequence[Diagnostic]) -> list[Group]:
    if not warnings:
        return []
    items = [f"- {_where(d)}{code(d.code)} {md(d.message)}\n" for d in warnings]
    title = f"#### ⚠️ Warnings ({len(warnings)})"
    return [Group(f"{title}\n\n", "#### ⚠️ Warnings (continued)\n\n", items, "", "\n", "- ")]


def _where(d: Diagnostic) -> str:
    if not d.file:
        return ""
    return f"{code(f'{d.file}:{d.line}' if d.line else d.file)} "


def _environment_groups(env: EnvironmentPlan) -> list[Group]:
    """The environment's heading and notes with its one-line-per-action summary (outside any fold), then its
    details folded."""
    summary = summary_line(Plan("", "", "", (env,)))
    heading = f"### {code(env.name)} · {md(summary)}"
    notes = [f"- {md(note)}" for note in env.notes]
    if env.live_error:
        notes.append(f"- ⚠️ The target could not be read: {md(env.live_error)}")
    notes += _drift(env)
    if env.approval_required and env.runnable:
        notes.append("- Approval required: apply asks for confirmation (or `--auto-approve`).")
    blocked = [a for a in env.actions if a.blocked]
    notes += [f"- ⛔ {md(action_label(a))} ({md(a.kind.value)}) is blocked: {md(a.blocked)}" for a in blocked[:10]]
    if len(blocked) > 10:
        notes.append(f"- ⛔ ... and {len(blocked) - 10} more blocked actions (marked `!` below)")
    notes += [f"- ⚠️ {code(w.code)} {md(w.message)}" + (f" — {md(w.hint)}" if w.hint else "")
              for a in env.actions for w in a.warnings]
    header = "\n".join([heading, "", *notes, ""]) + ("\n" if notes else "")
    if not env.actions:
        return [Group(header, header, [])]
    continued = f"### {code(env.name)} (continued)\n\n"
    ordered = [*(a for a in env.actions if a.is_model), *(a for a in env.actions if not a.is_model)]
    count = f"{len(env.actions)} action" + ("s" if len(env.actions) != 1 else "")
    return [Group(header, continued, [_summary(a) for a in ordered], "", "\n"),
            Group("", continued, [_action(a) for a in env.actions],
                  f"<details><summary>Details: {count}</summary>\n\n```diff\n", "```\n\n</details>\n\n", "# ")]


def _summary(action: Action) -> str:
    """One list item per action, the CLI's symbol first: a model's old -> new version and strategy; a policy's
    changed fields, old -> new, each on a line of its own. Its `*` bullet keeps it a list apart from the notes'
    `-` list above it (Markdown merges two lists of one bullet into one)."""
    symbol = code("!" if action.blocked else action.symbol)
    held = " (blocked)" if action.blocked else ""
    if action.is_model:
        return f"* {symbol} {code(action.name)}: {_model_change(action)}{held}\n"
    kind, name = action.target.split("/", 1)
    what = {ActionKind.POLICY_ADD: " (new)", ActionKind.POLICY_REMOVE: " (removed)"}.get(action.kind, "")
    fields = shown_changes(action)
    lines = [f"* {symbol} {md(kind)} {code(name)}{what}{held}"]
    lines += [f"  - {code(path)}: {md(value_text(old))} → {md(value_text(new))}"
              for path, old, new in fields[:_FIELDS_SHOWN]]
    if len(fields) > _FIELDS_SHOWN:
        lines.append(f"  - ... and {len(fields) - _FIELDS_SHOWN} more fields (in the details below)")
    return "\n".join(lines) + "\n"


def _model_change(action: Action) -> str:
    """`1.4.2` → `1.5.0` · blueGreen; what a reconfiguration changes; where a move comes from."""
    before, after = action.before or {}, action.after or {}
    old, new, strategy = before.get("version"), after.get("version"), after.get("strategy")
    if action.kind is ActionKind.MOVE:
        return f"renamed from {code(before.get('name', ''))}, nothing redeployed"
    if action.kind is ActionKind.RETIRE:
        return f"{code(old)} → retired" if old else "retired"
    if action.kind is ActionKind.RECONFIGURE:
        fields = sorted({path.split(".", 1)[0].split("[", 1)[0] for path, _, _ in action.changes})
        changed = f" ({', '.join(code(f) for f in fields)})" if fields else ""
        return f"{code(new)} · reconfigure{changed}"
    if old is None or action.kind is ActionKind.DEPLOY:
        versions = f"{code(new)} (new)"
    else:
        versions = f"{code(old)} → {code(new)}" if old != new else f"{code(new)} (new revision)"
    how = f"rollback, {strategy}" if action.kind is ActionKind.ROLLBACK else strategy
    return f"{versions} · {md(how)}" if how else versions


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
    """The lines `modelops plan` prints for the action, its symbol at line start (so GitHub colours `+` and `-`),
    a blank line after it."""
    return _lines([*action_lines(action, Console()), ""])


def _lines(lines: list[str]) -> str:
    # One line per entry whatever the values hold: a newline would start an unmarked (or fence) line.
    return "".join(line.replace("\r", " ").replace("\n", " ") + "\n" for line in lines)


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
    known only at the end. An item too big for an empty part is cut to fit, with a line saying so: in the room left
    in the current part when that is at least `_CUT_ROOM` (a new part would cut it all the same), else in a new one.
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
            room = budget - used - wrap
            shell = len(group.continued) + len(group.open) + len(group.close)  # around an item in a part of its own
            oversized = bool(pending) and len(pending[0]) > budget - shell
            if used > 0 and ((pending and not taken and not (oversized and room >= _CUT_ROOM)) or room < 0):
                bodies.append([])  # nothing fits in what is left of this part: start the next one
                used = 0
                continue
            if pending and not taken:  # too big for any part: cut the item
                taken.append(_cut(pending.pop(0), room, group.cut))
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


#: The least room left in a part worth cutting an item too big for any part into (less: it goes to a new part).
_CUT_ROOM = 1000


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

"""The plan as a PR comment: summary first, a line per model and policy outside the fold (a policy's changed fields
old -> new), then `<details>` and ```diff per environment with the CLI's lines and symbols, warnings listed, and
numbered parts under GitHub's 65,535-character limit, each valid Markdown."""

from __future__ import annotations

import re

import pytest
from modelops.base.console import Console
from modelops.base.diagnostics import Diagnostic, Severity, warning
from modelops.cli.views.markdown import COMMENT_LIMIT, join_parts, render_plan, split_parts
from modelops.cli.views.plan import render_text
from modelops.core.plan import Action, ActionKind, EnvironmentPlan, Plan, Step


def action(env: str, name: str, kind: ActionKind = ActionKind.UPGRADE, steps: int = 3, blocked: str | None = None,
           reason: str = "upgrade 1.0.0 -> 1.1.0 (blueGreen)") -> Action:
    changes = (("version", "1.0.0", "1.1.0"),) if kind is ActionKind.UPGRADE else ()
    return Action(kind, env, f"model/{name}", {"version": "1.0.0"}, {"version": "1.1.0", "strategy": "blueGreen"},
                  reason, tuple(Step(f"step {i} of {name}", "release") for i in range(steps)), blocked, 0, changes)


def policy_change(env: str, key: str, *changes: tuple[str, object, object]) -> Action:
    return Action(ActionKind.POLICY_CHANGE, env, key, {"digest": "sha256:a"}, {"digest": "sha256:b"},
                  "policy changed, used by sentiment", (Step("policy", "config", {"policy": key}),), None, 0, changes)


def plan(*envs: tuple[str, list[Action]]) -> Plan:
    return Plan("id", "0", "2026-01-01T00:00:00Z",
                tuple(EnvironmentPlan(name, "local", "lin", 3, "sha256:x", name == "production", tuple(actions))
                      for name, actions in envs))


def assert_valid_markdown(part: str) -> None:
    """Each part stands alone: fences and <details> balanced, its marker first."""
    assert re.match(r"<!-- modelops-plan part \d+/\d+ -->\n## modelops plan", part)
    assert sum(line.startswith("```") for line in part.splitlines()) % 2 == 0
    assert part.count("<details>") == part.count("</details>")
    fence = False
    for line in part.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif fence:
            assert line == "" or line[:1] in ("+", "~", "-", "!", "#", " "), line  # the CLI's symbol (or nothing) first
    assert not fence


def test_small_plan_is_one_part_with_summary_first() -> None:
    text = render_plan(plan(("staging", [action("staging", "sentiment"),
                                         action("staging", "new", ActionKind.DEPLOY, reason="new model"),
                                         action("staging", "old", ActionKind.RETIRE, steps=1, reason="removed")]),
                            ("production", [])))
    assert len(text) == 1
    part = text[0]
    assert_valid_markdown(part)
    lines = part.splitlines()
    assert lines[:4] == ["<!-- modelops-plan part 1/1 -->", "## modelops plan", "",
                         "**Plan: 1 model to deploy, 1 to change, 1 to retire.**"]
    assert "### `staging` · Plan: 1 model to deploy, 1 to change, 1 to retire." in lines
    assert "### `production` · No changes. The recorded state matches the configuration." in lines
    # outside the fold, one line per model: the CLI's symbol, old -> new version, strategy
    fold = lines.index("<details><summary>Details: 3 actions</summary>")
    assert lines.index("* `~` `sentiment`: `1.0.0` → `1.1.0` · blueGreen") < fold
    assert lines.index("* `+` `new`: `1.1.0` (new) · blueGreen") < fold
    assert lines.index("* `-` `old`: `1.0.0` → retired") < fold
    # inside it, what `modelops plan` prints, symbols and all
    assert '# model "sentiment" will be upgraded: upgrade 1.0.0 -> 1.1.0 (blueGreen)' in lines
    assert '~ model "sentiment"' in lines
    assert '    ~ version: "1.0.0" -> "1.1.0"' in lines
    assert '+ model "new"' in lines and '- model "old"' in lines
    assert "      1. [release]   step 0 of sentiment" in lines
    assert "Symbols: `+` deploy / add · `~` change (upgrade, rollback, reconfigure) · `-` retire / remove" in lines


def test_the_comment_shows_the_lines_the_cli_prints() -> None:
    the_plan = plan(("staging", [action("staging", "sentiment"), policy_change("staging", "AlertPolicy/slo",
                                                                              ("rules[latency].for", "5m", "7m"))]))
    fold = render_plan(the_plan)[0].split("```diff\n", 1)[1].split("```", 1)[0]
    cli = render_text(the_plan, Console())
    for line in fold.splitlines():
        assert not line or f"  {line}" in cli.splitlines(), line


def test_a_policy_threshold_change_is_shown_outside_the_fold() -> None:
    the_plan = plan(("production", [policy_change("production", "AlertPolicy/llm-slo",
                                                  ("rules[latency].above.warning", "2s", "2s500ms"),
                                                  ("rules[latency].for", "1m30s", "5m"),
                                                  ("rules[errors].above.critical", 0.05, 0.1))]))
    part = render_plan(the_plan)[0]
    head = part.split("<details>", 1)[0]
    assert "**Plan: 1 policy to change.**" in head
    assert "* `~` AlertPolicy `llm-slo`" in head
    assert "  - `rules[latency].above.warning`: 2s → 2.5s" in head  # durations as a person reads them
    assert "  - `rules[latency].for`: 1m30s → 5m" in head
    assert "  - `rules[errors].above.critical`: 0.05 → 0.1" in head
    assert "2s500ms" not in part


def test_a_long_list_of_policy_fields_is_cut_outside_the_fold_but_not_inside() -> None:
    fields = [(f"routes[{i}].channels", ["a"], ["a", "b"]) for i in range(14)]
    part = render_plan(plan(("staging", [policy_change("staging", "EscalationPolicy/oncall", *fields)])))[0]
    head, fold = part.split("<details>", 1)
    assert "`routes[9].channels`" in head and "`routes[10].channels`" not in head
    assert "  - ... and 4 more fields (in the details below)" in head
    assert all(f"~ routes[{i}].channels" in fold for i in range(14))


def test_plan_warnings_are_listed_under_their_environment() -> None:
    warned = Action(ActionKind.UPGRADE, "staging", "model/sentiment", {"version": "1.4.2"},
                    {"version": "1.5.0", "strategy": "canary"}, "upgrade 1.4.2 -> 1.5.0 (canary)", (), None, 0, (),
                    (warning("MO233", "sentiment 1.5.0 keeps the artifact digest of 1.4.2 (sha256:9f2c1d7a4b3e)",
                             hint="set artifact.sha256"),))
    part = render_plan(plan(("staging", [warned])))[0]
    assert ("- ⚠️ `MO233` sentiment 1.5.0 keeps the artifact digest of 1.4.2 (sha256:9f2c1d7a4b3e) — set "
            "artifact.sha256") in part.split("<details>", 1)[0]
    assert "# warning[MO233]: sentiment 1.5.0 keeps the artifact digest" in part  # and in the details, as the CLI


def test_blocked_actions_and_guardrail_warnings_are_listed() -> None:
    warning = Diagnostic(Severity.WARNING, "MO301", 'guardrail "ownership": models should carry a team label',
                         "environments/staging/models/x.yaml", 6, 3)
    other = Diagnostic(Severity.WARNING, "MO110", "empty file", "environments/staging/models/empty.yaml")
    part = render_plan(plan(("production", [action("production", "sentiment", blocked="freeze window until X")])),
                       [warning, other])[0]
    assert_valid_markdown(part)
    assert "#### ⚠️ Warnings (1)" in part
    assert ('- `environments/staging/models/x.yaml:6` `MO301` guardrail "ownership": models should carry a team label'
            in part)
    assert "empty file" not in part
    assert '- ⛔ model "sentiment" (upgrade) is blocked: freeze window until X' in part
    assert '# model "sentiment" is blocked: freeze window until X' in part
    assert '! model "sentiment" (upgrade, blocked)' in part
    assert "* `!` `sentiment`: `1.0.0` → `1.1.0` · blueGreen (blocked)" in part
    assert "Approval required" not in part  # nothing runnable to approve


def test_values_can_not_break_out_of_the_diff_block() -> None:
    hostile = action("staging", "m", reason="line one\n```\n<!-- modelops-plan part 9/9 -->\n# injected")
    part = render_plan(plan(("staging", [hostile])))[0]
    assert_valid_markdown(part)
    assert len(split_parts(part)) == 1


def big_plan(envs: int = 3, per_env: int = 150, steps: int = 12) -> Plan:
    return plan(*((f"env-{e}", [action(f"env-{e}", f"model-{e}-{i:03d}", steps=steps) for i in range(per_env)])
                  for e in range(envs)))


def test_a_long_plan_is_split_into_numbered_parts_under_the_limit() -> None:
    big = big_plan()
    single = "".join(render_plan(big, limit=10_000_000))
    assert len(single) > COMMENT_LIMIT  # the whole plan would not fit in one comment
    parts = render_plan(big)
    assert len(parts) > 1
    for number, part in enumerate(parts, 1):
        assert len(part) <= COMMENT_LIMIT
        assert part.startswith(f"<!-- modelops-plan part {number}/{len(parts)} -->\n")
        assert_valid_markdown(part)
    assert f"## modelops plan (part 1 of {len(parts)})" in parts[0]
    assert "**Plan: 450 models to change.**" in parts[0]
    assert "(continued)" in parts[1]
    every = "".join(parts)
    for e in range(3):
        for i in range(150):
            assert every.count(f'# model "model-{e}-{i:03d}" will be upgraded') == 1  # no action lost or doubled
            assert every.count(f"* `~` `model-{e}-{i:03d}`:") == 1
    assert split_parts(join_parts(parts)) == parts


@pytest.mark.parametrize("limit", [4_000, 12_345, COMMENT_LIMIT])
def test_parts_fill_up_to_the_limit_exactly(limit: int) -> None:
    parts = render_plan(big_plan(envs=2, per_env=60, steps=5), limit=limit)
    assert all(len(p) <= limit for p in parts)
    assert all(len(p) > limit * 0.8 for p in parts[:-1])  # greedy: earlier parts are nearly full


def test_the_split_happens_exactly_when_the_text_passes_the_limit() -> None:
    small = plan(("staging", [action("staging", f"m{i}") for i in range(40)]))
    whole = render_plan(small, limit=10_000_000)[0]
    assert render_plan(small, limit=len(whole)) == [whole]
    parts = render_plan(small, limit=len(whole) - 1)
    assert len(parts) == 2 and all(len(p) < len(whole) for p in parts)


def test_an_action_too_big_for_one_comment_is_cut_with_a_note() -> None:
    huge = plan(("staging", [action("staging", "giant", steps=5000)]))
    parts = render_plan(huge, limit=20_000)
    assert len(parts) == 1 and len(parts[0]) <= 20_000
    assert_valid_markdown(parts[0])
    assert re.search(r"^# \.\.\. \d+ more lines cut to fit a GitHub comment; run `modelops plan`$", parts[0],
                     re.MULTILINE)

"""Observe, then act: each failure a user met when modelops trusted only what it recorded, replayed through the CLI.

A rename that would retire a serving model, a reverted state.json that would retire the slot that serves, traffic
moved by hand that nobody saw, declared tests that never ran, a forward move called a rollback: each now ends
safely (held back with its reason, or done right), and nothing that serves is taken away by a step nobody asked
for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.repo import Result, bump, write

STAGING_SENTIMENT = "environments/staging/models/sentiment.yaml"
PRODUCTION_SENTIMENT = "environments/production/models/sentiment.yaml"


def table(repo: Path, env: str = "staging") -> dict:  # type: ignore[type-arg]
    return json.loads((repo / f".modelops/live/{env}.json").read_text())  # type: ignore[no-any-return]


def state(repo: Path, env: str = "staging") -> dict:  # type: ignore[type-arg]
    return json.loads((repo / f"environments/{env}/state.json").read_text())  # type: ignore[no-any-return]


def traffic(repo: Path, model: str, env: str = "staging") -> dict[str, int]:
    """Where the local target sends the model's requests (slots with a share)."""
    return {slot: w for slot, w in table(repo, env)["models"][model]["traffic"].items() if w}


def switch_by_hand(repo: Path, model: str, slot: str, env: str = "staging") -> None:
    data = table(repo, env)
    data["models"][model]["traffic"] = {slot: 100}
    (repo / f".modelops/live/{env}.json").write_text(json.dumps(data))


@pytest.fixture
def upgraded(served_repo: Path, cli: Callable[..., Result]) -> Path:
    """Staging applied, then sentiment upgraded 1.4.2 -> 1.5.0 (blue-green: green serves, blue warm)."""
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    bump(served_repo, STAGING_SENTIMENT, "1.4.2", "1.5.0")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    assert traffic(served_repo, "sentiment") == {"green": 100}
    return served_repo


# -- drift is shown, and never acted on blindly -------------------------------------------------------------


def test_traffic_moved_by_hand_shows_in_plan_and_status_and_holds_the_model_back(
        upgraded: Path, cli: Callable[..., Result]) -> None:
    switch_by_hand(upgraded, "sentiment", "blue")
    plan = cli("--repo", upgraded, "plan", "--env", "staging", "--detailed-exitcode")
    assert plan.code == 2, plan.output  # Git and what serves differ
    assert "Changed outside modelops (recorded -> live, read from .modelops/live/staging.json" in plan.out
    assert "traffic.blue: 0% -> 100%" in plan.out and "traffic.green: 100% -> 0%" in plan.out
    assert "No changes can be applied: 1 model changed outside modelops" in plan.out
    body = json.loads(cli("--repo", upgraded, "plan", "--env", "staging", "--format", "json").out)
    assert body["environments"][0]["drift"] == [{"model": "sentiment", "changes": [
        {"path": "traffic.blue", "recorded": "0%", "live": "100%"},
        {"path": "traffic.green", "recorded": "100%", "live": "0%"}]}]
    status = cli("--repo", upgraded, "status", "--env", "staging")
    assert "1.4.2 (blue 100%) *" in status.out and "sentiment: traffic.blue: 0% -> 100%" in status.out
    markdown = cli("--repo", upgraded, "plan", "--env", "staging", "--format", "markdown").out
    assert "**Changed outside modelops**" in markdown and "`traffic.blue` 0% → 100%" in markdown


def test_refresh_only_records_what_serves_and_sends_nothing(upgraded: Path, cli: Callable[..., Result]) -> None:
    switch_by_hand(upgraded, "sentiment", "blue")
    log_before = (upgraded / ".modelops/live/staging.log").read_text()
    accepted = cli("--repo", upgraded, "apply", "--env", "staging", "--refresh-only", "--auto-approve")
    assert accepted.code == 0, accepted.output
    assert "Refresh complete! Recorded what serves for 1 model; no operation was sent." in accepted.out
    assert (upgraded / ".modelops/live/staging.log").read_text() == log_before  # the target was not asked anything
    sentiment = state(upgraded)["models"]["sentiment"]
    assert (sentiment["active_slot"], sentiment["version"], sentiment["traffic"]) == ("blue", "1.4.2", {"blue": 100})
    # the record now says what serves; the YAML still says 1.5.0: a forward move, with its gates
    plan = cli("--repo", upgraded, "plan", "--env", "staging")
    assert "upgrade 1.4.2 -> 1.5.0 (blueGreen)" in plan.out and "Changed outside" not in plan.out


def test_override_drift_re_asserts_the_configuration_through_its_gates(upgraded: Path,
                                                                       cli: Callable[..., Result]) -> None:
    switch_by_hand(upgraded, "sentiment", "blue")
    done = cli("--repo", upgraded, "apply", "--env", "staging", "--override-drift", "--auto-approve")
    assert done.code == 0, done.output
    assert "upgrade 1.4.2 -> 1.5.0" in done.out and "run tests smoke, eval against slot green" in done.out
    assert traffic(upgraded, "sentiment") == {"green": 100}
    assert cli("--repo", upgraded, "plan", "--env", "staging", "--detailed-exitcode").code == 0


def test_a_reverted_state_file_does_not_retire_the_slot_that_serves(upgraded: Path, cli: Callable[..., Result],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """state.json reverted to the upgrade's (green serves, blue warm for 10 minutes) after a rollback that put blue
    back: once the warm window has passed, the record alone would retire blue, which serves everyone."""
    after_upgrade = (upgraded / "environments/staging/state.json").read_text()
    assert cli("--repo", upgraded, "rollback", "sentiment", "--env", "staging", "--auto-approve").code == 0
    assert traffic(upgraded, "sentiment") == {"blue": 100}
    (upgraded / "environments/staging/state.json").write_text(after_upgrade)  # `git checkout` of an old state
    bump(upgraded, STAGING_SENTIMENT, "1.4.2", "1.5.0")  # the YAML as it was with that state
    monkeypatch.setenv("MODELOPS_NOW", "2099-01-01T00:00:00Z")  # the warm window is long over
    done = cli("--repo", upgraded, "apply", "--env", "staging", "--auto-approve")
    assert "changed outside modelops (traffic.blue: 0% -> 100%" in done.out, done.output
    assert 'model "sentiment" (reconfigure, blocked)' in done.out
    assert traffic(upgraded, "sentiment") == {"blue": 100}  # nothing that serves was touched
    assert "blue" in table(upgraded)["models"]["sentiment"]["slots"]


def test_a_plan_from_the_record_alone_says_so_first(upgraded: Path, cli: Callable[..., Result]) -> None:
    switch_by_hand(upgraded, "sentiment", "blue")
    offline = cli("--repo", upgraded, "plan", "--env", "staging", "--refresh=false")
    assert offline.code == 0
    assert offline.out.startswith("Refresh skipped (--refresh=false): this plan compares the configuration with the "
                                  "recorded state only")
    assert "Changed outside" not in offline.out
    markdown = cli("--repo", upgraded, "plan", "--env", "staging", "--refresh=false", "--format", "markdown").out
    assert "> Refresh skipped (--refresh=false)" in markdown


# -- renames and retirements --------------------------------------------------------------------------------


def test_a_rename_in_a_gated_environment_never_takes_the_model_away(served_repo: Path,
                                                                    cli: Callable[..., Result]) -> None:
    """sentiment renamed search-sentiment in production only: the new name waits for staging (promotesFrom), and
    the old one is not retired meanwhile."""
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    renamed = served_repo / PRODUCTION_SENTIMENT
    renamed.write_text(renamed.read_text().replace("  name: sentiment\n", "  name: search-sentiment\n"))
    plan = cli("--repo", served_repo, "plan", "--env", "production", "--detailed-exitcode")
    assert plan.code == 2
    assert "it reappears as search-sentiment (the same version and artifact)" in plan.out or \
           "its replacement search-sentiment (the same revision) is blocked" in plan.out, plan.out
    done = cli("--repo", served_repo, "apply", "--env", "production", "--auto-approve", "--allow-retire")
    assert "nothing applied; 2 blocked" in done.out, done.output  # the replacement is blocked, so the retirement too
    assert "sentiment" in table(served_repo, "production")["models"]
    assert "sentiment" in state(served_repo, "production")["models"]


def test_previous_names_move_a_model_with_no_redeploy(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    history = state(served_repo)["models"]["sentiment"]["history"]
    path = served_repo / STAGING_SENTIMENT
    path.write_text(path.read_text().replace("  name: sentiment\n",
                                             "  name: search-sentiment\n  previousNames: [sentiment]\n"))
    plan = cli("--repo", served_repo, "plan", "--env", "staging")
    assert 'model "search-sentiment" will be moved: renamed from sentiment (serving 1.4.2)' in plan.out, plan.out
    log_before = (served_repo / ".modelops/live/staging.log").read_text().count("\n")
    done = cli("--repo", served_repo, "apply", "--env", "staging", "--auto-approve")
    assert done.code == 0, done.output
    sent = (served_repo / ".modelops/live/staging.log").read_text().splitlines()[log_before:]
    assert [json.loads(line)["op"] for line in sent] == ["rename"]  # no deploy, no traffic change
    models = state(served_repo)["models"]
    assert "sentiment" not in models and models["search-sentiment"]["history"] == history
    assert "sentiment" not in state(served_repo).get("retired", {})  # moved, not retired
    assert traffic(served_repo, "search-sentiment") == {"blue": 100}
    again = cli("--repo", served_repo, "plan", "--env", "staging", "--detailed-exitcode")
    assert again.code == 0, again.output


def test_a_retired_model_keeps_its_history(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    (served_repo / "environments/staging/models/summarizer.yaml").unlink()
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    recorded = state(served_repo)
    assert "summarizer" not in recorded["models"]
    assert recorded["retired"]["summarizer"]["last"]["version"] == "0.3.0-rc.1"
    history = cli("--repo", served_repo, "history", "summarizer", "--env", "staging")
    assert history.code == 0 and "deploy" in history.out and "0.3.0-rc.1" in history.out
    report = (served_repo / "environments/staging/REPORT.md").read_text()
    assert "## Retired" in report and "| `summarizer` | 0.3.0-rc.1 |" in report


def test_retiring_in_production_needs_consent(served_repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    (served_repo / "environments/production/models/embedder.yaml").unlink()
    held = cli("--repo", served_repo, "apply", "--env", "production", "--auto-approve")
    assert "production requires approval, and retiring takes embedder away from its users" in held.out, held.output
    assert "embedder" in table(served_repo, "production")["models"]
    env_file = served_repo / "environments/production/environment.yaml"
    env_file.write_text(env_file.read_text().replace("  approval: required\n",
                                                     "  approval: required\n  retire: [embedder]\n"))
    done = cli("--repo", served_repo, "apply", "--env", "production", "--auto-approve")
    assert done.code == 0 and "1 model retired" in done.out, done.output
    assert "embedder" not in table(served_repo, "production")["models"]


# -- gates always run ---------------------------------------------------------------------------------------


def test_a_recreate_model_is_tested_before_it_serves_and_rolled_back_when_its_test_fails(
        served_repo: Path, cli: Callable[..., Result]) -> None:
    """summarizer has no strategy (recreate) and one declared test: a version that fails it never serves."""
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    path = served_repo / "environments/staging/models/summarizer.yaml"
    path.write_text(path.read_text().replace("0.3.0-rc.1", "0.3.0").replace('"0.80"', '"0.99"'))
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code == 1, done.output
    assert "test smoke failed" in done.out
    summarizer = state(served_repo)["models"]["summarizer"]
    assert summarizer["version"] == "0.3.0-rc.1" and summarizer["desired_rejected"]["version"] == "0.3.0"
    assert traffic(served_repo, "summarizer") == {"blue": 100}


def test_a_first_deploy_is_judged_by_its_post_promotion_analysis(served_repo: Path,
                                                                 cli: Callable[..., Result]) -> None:
    """fraud-detector's first version measures an error rate of 0.5: its canary's analyses judge it after it takes
    the traffic, and it is rolled back (nothing serves rather than a broken version)."""
    metrics = served_repo / "examples/metrics/staging.json"
    data = json.loads(metrics.read_text())
    data["models"]["fraud-detector"]["error_rate"] = 0.5
    metrics.write_text(json.dumps(data))
    done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert done.code == 1, done.output
    assert "post-promotion analysis error-budget, latency on slot blue" in done.out
    fraud = state(served_repo)["models"]["fraud-detector"]
    assert fraud["desired_rejected"]["version"] == "3.2.0" and fraud["version"] is None
    assert not table(served_repo)["models"].get("fraud-detector", {}).get("slots")


def test_a_test_that_never_runs_is_a_located_warning(repo: Path, cli: Callable[..., Result]) -> None:
    path = repo / STAGING_SENTIMENT
    path.write_text(path.read_text().replace("previewTests: [smoke, eval]", "previewTests: [smoke]"))
    done = cli("--repo", repo, "validate")
    assert done.code == 0
    assert ('environments/staging/models/sentiment.yaml:28:13: warning[MO210] spec.tests[1].name: test "eval" never '
            "runs: spec.strategy.blueGreen.previewTests lists only smoke") in done.out, done.out


def test_a_forward_move_to_a_warm_version_is_an_upgrade_that_a_freeze_holds(
        served_repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    bump(served_repo, STAGING_SENTIMENT, "1.4.2", "1.5.0")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    bump(served_repo, PRODUCTION_SENTIMENT, "1.4.2", "1.5.0")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "production").code == 0
    assert cli("--repo", served_repo, "rollback", "sentiment", "--env", "production", "--auto-approve").code == 0
    # 1.5.0 is still warm in production's idle slot; the YAML says 1.4.2 now. Moving to 1.5.0 again is forward.
    bump(served_repo, PRODUCTION_SENTIMENT, "1.4.2", "1.5.0")
    monkeypatch.setenv("MODELOPS_NOW", "2027-12-24T00:00:00Z")  # inside the year-end freeze
    plan = cli("--repo", served_repo, "plan", "--env", "production", "--retry-rejected")
    assert "production is frozen until 2028-01-04T00:00:00Z (year-end change freeze)" in plan.out, plan.out
    assert "(upgrade, blocked)" in plan.out and "rollback" not in plan.out.split("Plan:")[0].split("blocked")[-1]


def test_idempotency_keys_never_repeat_through_remove_re_add_remove(served_repo: Path, cli: Callable[..., Result],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform that replays its first answer for a key it has seen (as Stripe-style APIs do) would make a
    re-added model's deploy a no-op if keys repeated: every operation must run."""
    from tests.support.http import shut
    from tests.support.platform import Platform, serve, staging_on_webhook

    platform = Platform()
    server, url = serve(platform)
    monkeypatch.setenv("DEPLOY_WEBHOOK_URL", url)
    staging_on_webhook(served_repo, "DEPLOY_WEBHOOK_URL", max_retries=1)
    model = served_repo / "environments/staging/models/summarizer.yaml"
    text = model.read_text()
    try:
        for step in ("add", "remove", "add", "remove", "add"):
            if step == "add":
                write(served_repo, "environments/staging/models/summarizer.yaml", text)
            else:
                model.unlink()
            done = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging", "--allow-dirty")
            assert done.code == 0, done.output
            assert ("summarizer" in platform.models) == (step == "add")
    finally:
        shut(server)
    assert all(count == 1 for count in platform.executed.values())  # each key acted on once
    assert all(count == 1 for count in platform.requests.values())  # and never sent twice
    summarizer = [k for k in platform.executed if "/summarizer/" in k]
    assert len(summarizer) == len(set(summarizer)) == 3 * 2 + 2  # three deploys (deploy, switch), two removals


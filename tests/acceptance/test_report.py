"""`modelops report` and the reports `apply` renders: golden files from real applies, determinism,
`--check`, sections that appear only with data, escaping, no secrets, diagrams Mermaid parses, and the reports
and plan comment as a person sees them, rendered in a browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import git
import pytest
from modelops.report.fmt import NBSP
from modelops.report.write import render_environment
from modelops.workspace import Workspace

from tests.support import browser
from tests.support.repo import ROOT, Result, bump, snapshot, write
from tests.support.report import apply_history, commit_all, mermaid_check, normalised

GOLDENS = ROOT / "tests" / "cases" / "report-example"
ENVIRONMENTS = ("staging", "production")


@pytest.fixture
def history_repo(served_repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Path:
    apply_history(served_repo, cli, monkeypatch)
    return served_repo


def report(repo: Path, env: str) -> str:
    return (repo / f"environments/{env}/REPORT.md").read_text(encoding="utf-8")


def test_apply_renders_the_reports_and_commits_them_with_the_state(history_repo: Path,
                                                                   cli: Callable[..., Result]) -> None:
    head = git.Repo(history_repo).head.commit
    assert head.message.startswith("modelops apply: staging")
    assert set(head.stats.files) == {"environments/staging/state.json", "environments/staging/REPORT.md",
                                     "environments/staging/incidents/staging-sentiment-20260304T1130.md"}
    staging = report(history_repo, "staging")
    assert "| `sentiment`<br>team=nlp, tier=gold | 1.6.0-broken.1 ⛔ rejected | 1.5.0 ⚠️ | green 100% |" in staging
    assert f"1.6.0-broken.1 was rejected at 2026-03-04{NBSP}11:30: test smoke failed" in staging
    # the first finding of the list at the top: the version the YAML asks for was rejected
    attention = staging.split("## Attention\n", 1)[1].split("\n## ", 1)[0]
    first = next(line for line in attention.splitlines() if line.startswith("- "))
    assert first.startswith("- ⛔ **Rejected** `sentiment`: 1.6.0-broken.1 was rejected")
    checked = cli("--repo", history_repo, "report", "--check")
    assert checked.code == 0, checked.output
    assert checked.out.count("is up to date.") == 2


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_golden_reports_of_the_example(history_repo: Path, env: str, update_goldens: bool) -> None:
    actual = normalised(report(history_repo, env))
    golden = GOLDENS / f"{env}.REPORT.md"
    if update_goldens:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), "no golden yet: run pytest --update-goldens -k golden_reports and review it"
    assert actual == golden.read_text(encoding="utf-8")


def test_same_inputs_give_the_same_bytes(history_repo: Path, cli: Callable[..., Result],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    first = [render_environment(Workspace.load(history_repo), env).text for env in ENVIRONMENTS]
    second = [render_environment(Workspace.load(history_repo), env).text for env in ENVIRONMENTS]
    assert first == second
    assert first == [report(history_repo, env) for env in ENVIRONMENTS]
    before = snapshot(history_repo / "environments")
    again = cli("--repo", history_repo, "report")
    assert again.code == 0 and "Wrote" not in again.out
    assert snapshot(history_repo / "environments") == before  # an up-to-date report is not even rewritten
    monkeypatch.setenv("MODELOPS_CACHE", "off")
    assert cli("--repo", history_repo, "report", "--check").code == 0  # the same bytes without the parse cache


def test_check_names_stale_and_missing_reports_and_writes_nothing(history_repo: Path,
                                                                 cli: Callable[..., Result]) -> None:
    slo = history_repo / "policies/alerts/model-slo.yaml"
    slo.write_text(slo.read_text().replace("{warning: 500ms, critical: 2s}", "{warning: 800ms, critical: 2s}"))
    (history_repo / "environments/production/REPORT.md").unlink()
    before = snapshot(history_repo)
    result = cli("--repo", history_repo, "report", "--check")
    assert result.code == 1
    assert "environments/staging/REPORT.md is stale." in result.out
    assert "environments/production/REPORT.md is missing." in result.out
    assert snapshot(history_repo) == before
    fixed = cli("--repo", history_repo, "report", "--env", "staging")
    assert fixed.out.strip() == "Wrote environments/staging/REPORT.md."
    assert "| above 800ms | at or above 2s |" in report(history_repo, "staging")
    assert cli("--repo", history_repo, "report", "--check", "--env", "staging").code == 0
    assert cli("--repo", history_repo, "report", "--check").code == 1  # production is still missing


@pytest.mark.slow  # an external tool (node)
def test_diagrams_parse_with_mermaid(history_repo: Path) -> None:
    paths = [history_repo / f"environments/{env}/REPORT.md" for env in ENVIRONMENTS]
    checked = mermaid_check(*paths)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    kinds = re.findall(r": (\S+) ok$", checked.stdout, re.MULTILINE)
    assert kinds.count("timeline") == 2 and kinds.count("flowchart-v2") == 4


@pytest.mark.slow  # an external tool (chromium)
def test_reports_and_the_plan_comment_read_well_in_a_browser(history_repo: Path, cli: Callable[..., Result]) -> None:
    """Rendered as GitHub renders them, every diagram draws without error and legibly, every table fits the column
    without breaking a word, and production's first screen names its most urgent findings."""
    why = browser.missing()
    if why:
        pytest.skip(why)
    bump(history_repo, "environments/staging/models/sentiment.yaml", "1.6.0-broken.1", "1.7.0")
    bump(history_repo, "policies/alerts/model-slo.yaml", "{warning: 500ms, critical: 2s}",
         "{warning: 800ms, critical: 2500ms}")
    comment = cli("--repo", history_repo, "plan", "--format", "markdown")
    assert comment.code == 0, comment.output
    docs = [browser.Document(env, report(history_repo, env)) for env in ENVIRONMENTS]
    measured = browser.render([*docs, browser.Document("comment", comment.out, comment=True)])
    assert [f"{m['name']}: {line}" for m in measured for line in browser.problems(m)] == []
    staging, production, pr = measured
    drawn = [d["type"] for d in production["diagrams"]]
    assert drawn == ["timeline", "flowchart-v2", "flowchart-v2", *["xychart"] * 4]
    assert len(staging["diagrams"]) == 8 and pr["tables"] == [] and len(production["tables"]) >= 10
    attention = next(h["top"] for h in production["headings"] if h["text"] == "Attention")
    assert attention < browser.WINDOW[1] / 2  # the first screen, with room for the findings under it


def test_sections_appear_only_when_they_have_data(repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", repo, "report").code == 0
    text = report(repo, "staging")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    # nothing recorded yet: no rollout history, no traffic switches
    assert headings == ["Attention", "Models", "Metrics", "Alert rules", "Escalation routing", "Scaling", "Capacity",
                        "Operations maturity"]
    assert "- **Recorded state:** never applied" in text
    assert "| `sentiment`<br>team=nlp, tier=gold | 1.4.2 | - | - | NotDeployed | - |" in text
    assert ("- 🕓 **Not deployed** `embedder`, `fraud-detector`, `recommender`, `sentiment`, `summarizer`: "
            "configured, never applied") in text
    for rel in repo.glob("environments/staging/models/*.yaml"):
        rel.write_text(re.sub(r"\n  (scaling|alerts|escalation):.*", "", rel.read_text()))
    (repo / "environments/staging/usage.json").unlink()
    assert cli("--repo", repo, "report", "--env", "staging").code == 0
    # fixed replicas; the metrics its source gives monitor, without rules
    assert re.findall(r"^## (.+)$", report(repo, "staging"), re.MULTILINE) == ["Attention", "Models", "Metrics",
                                                                               "Scaling", "Operations maturity"]


def test_reports_hold_no_secrets(served_repo: Path, cli: Callable[..., Result],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"SLACK_WEBHOOK_URL": "https://hooks.slack.example/T0/B0/s3cr3t-slack",
               "PAGERDUTY_ROUTING_KEY": "pd-s3cr3t-key", "SMTP_PASSWORD": "smtp-s3cr3t"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    apply_history(served_repo, cli, monkeypatch)
    for env in ENVIRONMENTS:
        text = report(served_repo, env)
        assert not [v for v in secrets.values() if v in text]
        assert "${env:" not in text and "smtp.example.com" not in text and "ml-oncall@example.com" not in text
        assert "pager (pagerduty)" in text  # channels appear by name and type only


@pytest.mark.slow  # an external tool (node)
def test_names_labels_and_urls_are_escaped(repo: Path, cli: Callable[..., Result]) -> None:
    model = repo / "environments/staging/models/summarizer.yaml"
    model.write_text(model.read_text().replace("labels: {team: nlp, tier: bronze}",
                                               'labels: {team: "<b>nlp</b> | *core* `x`", tier: bronze}'))
    policy = repo / "policies/escalation/growth-oncall.yaml"
    policy.write_text(policy.read_text().replace('channel: "#growth-alerts"', 'channel: "#growth \\"alerts\\" <&>"')
                      .replace("match: {severity: critical}", """match: {team: 'gro#wth "a" <&>'}"""))
    slo = repo / "policies/alerts/model-slo.yaml"
    slo.write_text(slo.read_text().replace("https://runbooks.example.com/modelops/error-rate",
                                           "https://runbooks.example.com/error_(rate)<v2>"))
    result = cli("--repo", repo, "report", "--env", "staging")
    assert result.code == 0, result.output
    text = report(repo, "staging")
    assert "<b>" not in text
    assert r"&lt;b&gt;nlp&lt;/b&gt; \| \*core\* \`x\`" in text
    models_table = text.split("## Models", 1)[1].split("##", 1)[0]
    widths = {len(re.findall(r"(?<!\\)\|", row)) for row in models_table.splitlines() if row.startswith("|")}
    assert widths == {7}  # every row still has 6 cells: the escaped pipe did not split one
    assert "[high-error-rate](https://runbooks.example.com/error_%28rate%29%3Cv2%3E)" in text
    assert '"1. team = gro#35;wth #quot;a#quot; #lt;#amp;#gt;"' in text  # Mermaid entity codes in the label
    assert 'slack-growth (slack #growth "alerts" &lt;&amp;&gt;)' in text  # HTML escaping in the channel list
    checked = mermaid_check(repo / "environments/staging/REPORT.md")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_report_needs_a_valid_configuration(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "policies/scaling/broken.yaml", "apiVersion: modelops.dev/v1\nkind: ScalingPolicy\n"
                                                "metadata: {name: x}\n")
    before = snapshot(repo)
    result = cli("--repo", repo, "report")
    assert result.code == 1 and "error[" in result.out
    assert snapshot(repo) == before


def test_every_apply_keeps_the_report_current(history_repo: Path, cli: Callable[..., Result],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    handle = git.Repo(history_repo)
    bump_back = history_repo / "environments/staging/models/sentiment.yaml"
    bump_back.write_text(bump_back.read_text().replace("1.6.0-broken.1", "1.7.0"))
    commit_all(handle, "sentiment 1.7.0")
    monkeypatch.setenv("MODELOPS_NOW", "2026-03-05T08:00:00Z")
    assert cli("--repo", history_repo, "apply", "--auto-approve", "--commit", "--env", "staging").code == 0
    staging = report(history_repo, "staging")
    assert "| `sentiment`<br>team=nlp, tier=gold | 1.7.0 | 1.7.0 | blue 100% |" in staging
    assert "1.7.0 ⛔" not in staging and "The YAML still asks for it" not in staging  # Git moved past it
    assert f"| 2026-03-05{NBSP}08:00 | `sentiment` | 4 upgrade 1.5.0 → 1.7.0 | blueGreen | ✅ Promoted |" in staging
    assert cli("--repo", history_repo, "report", "--check").code == 0

"""Template safety: configuration text that is Markdown, HTML, Mermaid, YAML or Go-template syntax is rendered
escaped in every output, and every output still parses with the real parser or tool.

The hostile text goes everywhere the configuration allows free text (model labels and annotations, alert
rule labels, summaries and descriptions, runbook URLs, Slack channel and user names, guardrail messages,
freeze reasons) and DNS-valid names that other languages read as something else (`yes`, `null`, `end`).
Outputs: REPORT.md (Markdown, HTML, Mermaid: `node scripts/mermaid-check.mjs`), the pull-request comment
(`plan --format markdown`), `plan --format json`, and the exports (Prometheus rules and their promtool
tests, Alertmanager configuration and its amtool route tests, Kubernetes manifests), parsed as YAML 1.1
(PyYAML, as the Go tools read it) and YAML 1.2 (ruamel), and run through promtool, amtool and
kubernetes-validate when they are installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml
from ruamel.yaml import YAML

from tests.support.k8s import validate_manifests
from tests.support.repo import Result, bump
from tests.support.report import mermaid_check

pytestmark = pytest.mark.slow  # hostile text through promtool, amtool and mermaid

#: Markdown, HTML, Mermaid, YAML, shell and Go-template syntax in one value, with a quote of each kind, a
#: backslash, a line break and a GitHub team mention. Markdown or HTML that survives unescaped shows as
#: `<script>` or `](javascript:`; a mention that survives pings the team.
HOSTILE = ('x <script>alert(1)</script> <img src=x onerror=alert(1)> | *b* _i_ `c` [l](javascript:x) ]] --> '
           '@acme/oncall %% #35; "q" \'s\' \\ & {{ $value }} {{ end ${env:SECRET} $(id) \n--- &a *a !!python/object: x')
#: Summaries and descriptions are Prometheus templates on purpose (`{{ $labels.model }}`): no unclosed action.
TEMPLATED = HOSTILE.replace(" {{ end", "")
#: A runbook must be an http(s) URL without spaces; everything else Markdown or HTML might read goes in.
RUNBOOK = "https://runbooks.example.com/a\"b'c<d>e|f`g(h)[i]*j*_k_%20{{x}}"
#: DNS labels that YAML 1.1 or Mermaid read as something other than a name.
NAMES = ("yes", "null", "end")

RAW_MARKUP = re.compile(r"<script|<img|(?<!\\)\]\(javascript:")  # `\]` is an escaped bracket: no link
#: An @-mention as GitHub finds it in rendered text: `@` not after a word character, then a user or team name.
MENTION = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9]")
#: What GitHub does not scan for mentions: fenced blocks (diff, Mermaid) and inline code spans.
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
CODE_SPAN = re.compile(r"(`+).+?\1")
BROKEN_MENTION = "@\u200dacme/oncall"  # the mention with a zero-width joiner: reads the same, pings nobody
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool missing (make test installs it)")
needs_amtool = pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool missing (make test installs it)")


def q(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def make_hostile(repo: Path) -> Path:
    for env in ("staging", "production"):
        bump(repo, f"environments/{env}/models/sentiment.yaml", "labels: {team: nlp, tier: gold}",
            f"labels: {{team: nlp, tier: gold, note: {q(HOSTILE)}}}\n  annotations: {{why: {q(HOSTILE)}}}")
    bump(repo, "policies/alerts/model-slo.yaml", '      runbook: "https://runbooks.example.com/modelops/high-latency"',
        f"      runbook: {q(RUNBOOK)}\n      summary: {q(TEMPLATED)}\n      description: {q(TEMPLATED)}\n"
        f"      labels: {{note: {q(HOSTILE)}}}")
    bump(repo, "policies/escalation/ml-oncall.yaml", 'channel: "#ml-alerts"',
        f"channel: {q(HOSTILE)}, username: {q(HOSTILE)}")
    bump(repo, "policies/guardrails/ownership.yaml", "message: models should carry a team label",
        f"message: {q(HOSTILE)}")
    bump(repo, "environments/production/environment.yaml", "reason: year-end change freeze", f"reason: {q(HOSTILE)}")
    source = (repo / "environments/staging/models/summarizer.yaml").read_text()
    for name in NAMES:  # no team label: the ownership guardrail warns with its hostile message
        (repo / f"environments/staging/models/{name}.yaml").write_text(
            source.replace("name: summarizer", f'name: "{name}"').replace("team: nlp, ", ""))
    return repo


@pytest.fixture
def hostile(served_repo: Path, cli: Callable[..., Result]) -> Path:
    make_hostile(served_repo)
    done = cli("--repo", served_repo, "validate")
    assert done.code == 0, done.output  # hostile, but valid: every renderer gets to see it
    return served_repo


def go_template_literal(text: str) -> str:
    """What Prometheus and Alertmanager print for a value the exporter wrote (`{{ "{{" }}` prints `{{`)."""
    return text.replace('{{ "{{" }}', "{{")


def go_template_hidden() -> str:
    """HOSTILE as the exporters write it where Prometheus or Alertmanager expand templates."""
    return HOSTILE.replace("{{", '{{ "{{" }}')


def yaml_both(text: str) -> Iterator[Any]:
    """Every document as YAML 1.1 (PyYAML, like the Go tools) and as YAML 1.2 (ruamel): they must agree."""
    old = [d for d in pyyaml.safe_load_all(text) if d is not None]
    new = [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]
    assert old == new, "YAML 1.1 and 1.2 readers see different values"
    yield from old


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def markdown_is_balanced(text: str) -> None:
    fences = [line for line in text.splitlines() if line.lstrip().startswith(("```", "~~~"))]
    assert len(fences) % 2 == 0, "an unbalanced code fence"
    for tag in ("details", "summary"):
        assert text.count(f"<{tag}>") == text.count(f"</{tag}>"), tag
    diagrams = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    # inside a fence markup is text (each diff line starts with its symbol: no fence ends early)
    prose = FENCED.sub("", text)
    assert not RAW_MARKUP.search(prose), RAW_MARKUP.search(prose)
    assert not any("<" in d for d in diagrams)  # Mermaid labels carry entity codes (#lt;), never markup
    assert not MENTION.search(mentionable(text)), MENTION.search(mentionable(text))


def mentionable(text: str) -> str:
    """The text GitHub scans for @-mentions: without code blocks, backslash escapes and code spans."""
    return CODE_SPAN.sub("", re.sub(r"\\.", "", FENCED.sub("", text)))


# -- reports ------------------------------------------------------------------------------------------


def test_report_escapes_every_value_and_its_diagrams_parse(hostile: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", hostile, "apply", "--auto-approve", "--env", "staging").code == 0
    assert cli("--repo", hostile, "report").code == 0
    for env in ("staging", "production"):
        path = hostile / f"environments/{env}/REPORT.md"
        text = path.read_text()
        markdown_is_balanced(text)
        assert "x &lt;script&gt;alert(1)&lt;/script&gt;" in text  # present, as text
        assert BROKEN_MENTION in text
        assert "\\[l\\](javascript:x)" in text
        rows = [r for r in text.split("## Models", 1)[1].split("\n## ", 1)[0].splitlines() if r.startswith("|")]
        assert len({len(re.findall(r"(?<!\\)\|", r)) for r in rows}) == 1, rows
        assert "(slack x &lt;script&gt;alert(1)&lt;/script&gt;" in text  # the channel, listed under its diagram
        checked = mermaid_check(path)
        assert checked.returncode == 0, checked.stdout + checked.stderr


# -- pull-request comment and JSON plan ---------------------------------------------------------------


def test_plan_comment_escapes_values_and_stays_well_formed(hostile: Path, cli: Callable[..., Result]) -> None:
    first = cli("--repo", hostile, "plan", "--format", "markdown")
    assert first.code == 0, first.output
    markdown_is_balanced(first.out)
    assert 'guardrail "ownership": x &lt;script&gt;' in first.out  # the guardrail message, escaped
    assert BROKEN_MENTION in first.out
    assert cli("--repo", hostile, "apply", "--auto-approve", "--env", "staging").code == 0
    for rel in ("environments/staging/models/sentiment.yaml", "policies/alerts/model-slo.yaml"):
        bump(hostile, rel, q(HOSTILE), q(HOSTILE.replace("x <script>", "y <script>")))
    again = cli("--repo", hostile, "plan", "--format", "markdown", "--env", "staging")
    assert again.code == 0, again.output
    markdown_is_balanced(again.out)
    for block in re.findall(r"```diff\n(.*?)\n```", again.out, re.S):
        assert all(line[:1] in " +-~!#@" or not line for line in block.splitlines()), block  # no line escaped
    plan = json.loads(cli("--repo", hostile, "plan", "--format", "json").out)
    assert plan["format_version"]  # JSON is data: values are carried exactly, escaped only by JSON itself


@pytest.mark.parametrize(("text", "shown"), [
    ("ask @acme/oncall", "ask @\u200dacme/oncall"), ("@bob", "@\u200dbob"), ("(@bob)", "(@\u200dbob)"),
    ("ml-oncall@example.com", "ml-oncall@example.com"), ("a @ b", "a @ b"), ("`@bob`", "\\`@\u200dbob\\`"),
])
def test_markdown_text_breaks_mentions_and_keeps_addresses(text: str, shown: str) -> None:
    from modelops.report.escape import md

    assert md(text) == shown
    assert not MENTION.search(mentionable(md(text)))


# -- exports ------------------------------------------------------------------------------------------


def export(cli: Callable[..., Result], repo: Path, out: Path, kind: str, env: str, *extra: str) -> list[Path]:
    done = cli("--repo", repo, "export", kind, "--env", env, "--out", out, *extra)
    assert done.code == 0, done.output
    return sorted(out.iterdir())


def test_prometheus_rules_carry_hostile_text_exactly(hostile: Path, cli: Callable[..., Result],
                                                    tmp_path: Path) -> None:
    env = "staging"  # every hostile value and name is there (promtool's tests take a while per rule)
    files = export(cli, hostile, tmp_path, "prometheus", env)
    rules = next(p for p in files if p.name.endswith(".rules.yml"))
    groups = next(yaml_both(rules.read_text()))["groups"]
    alerts = [r for g in groups for r in g["rules"] if "alert" in r]
    notes = {go_template_literal(r["labels"]["note"]) for r in alerts if "note" in r["labels"]}
    assert notes == {HOSTILE}  # escaped for YAML and for Go templates, and nothing lost
    assert {go_template_literal(r["annotations"].get("runbook_url", "")) for r in alerts} >= {RUNBOOK}
    assert {r["labels"].get("modelops_model") for r in alerts} >= set(NAMES)
    if shutil.which("promtool"):
        for args in (("check", "rules", rules), ("test", "rules", *[p for p in files if p.name.endswith(".test.yml")])):
            done = subprocess.run(["promtool", *map(str, args)], capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stdout + done.stderr


@needs_amtool
def test_alertmanager_config_carries_hostile_text_exactly(hostile: Path, cli: Callable[..., Result],
                                                          tmp_path: Path) -> None:
    export(cli, hostile, tmp_path, "alertmanager", "production")
    config = next(yaml_both((tmp_path / "alertmanager.yml").read_text()))
    slack = [c for r in config["receivers"] for c in r.get("slack_configs", [])]
    assert {go_template_literal(c.get("channel", "")) for c in slack} >= {HOSTILE}
    assert {go_template_literal(c.get("username", "")) for c in slack} >= {HOSTILE}
    done = subprocess.run(["amtool", "check-config", str(tmp_path / "alertmanager.yml")], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    routes = subprocess.run(["sh", str(tmp_path / "alertmanager-routes-test.sh")], capture_output=True, text=True,
                            check=False)
    assert routes.returncode == 0 and ", 0 failed" in routes.stdout, routes.stdout + routes.stderr


@pytest.mark.parametrize("flavor", ["argo-rollouts", "kserve"])
def test_kubernetes_manifests_parse_and_validate(hostile: Path, cli: Callable[..., Result], tmp_path: Path,
                                                 flavor: str) -> None:
    out = tmp_path / "out"
    files = export(cli, hostile, out, "kubernetes", "staging", "--flavor", flavor)
    for path in files:
        docs = list(yaml_both(path.read_text()))
        assert all(isinstance(d["metadata"]["name"], str) for d in docs)  # `yes`, `null` stay names
        assert {s for d in docs for s in strings(d) if "<script" in s} <= {HOSTILE, TEMPLATED, go_template_hidden()}
    rule = next(yaml_both((out / "prometheusrule.yaml").read_text()))
    notes = {go_template_literal(r["labels"]["note"]) for g in rule["spec"]["groups"] for r in g["rules"]
             if "note" in r.get("labels", {})}
    assert notes == {HOSTILE}
    assert {p.stem for p in files} >= set(NAMES)
    work = tmp_path / "work"
    work.mkdir()
    problems = validate_manifests(files, work)
    assert problems == [], "\n".join(problems)


# -- notifications --------------------------------------------------------------------------------------


def test_slack_messages_cannot_mention_or_link_through_configuration_text() -> None:
    """Slack reads `<!channel>`, `<@U123>` and `<url|text>` in mrkdwn: a summary, a label or a runbook URL
    (which may hold `<`, `>` and `|`) must not turn into a mention that pages everyone, or a disguised link."""
    from modelops.config.spec.policies import SlackChannel
    from modelops.notify.base import AlertView, Notification
    from modelops.notify.slack import payload

    labels = {"alertname": "r", "env": "production", "model": "m<!channel>", "rule": "r", "severity": "critical"}
    notes = {"summary": "<!here> <@U123|boss> <https://evil.example|click>", "runbook_url": "https://x/><!channel"}
    alert = AlertView("m/p/r", "firing", "critical", labels, notes, "2026-11-27T09:50:00Z", None, 1.0)
    note = Notification("production", "p", "slack-ml", "k", {"model": "m"}, (alert,), "trigger",
                        "2026-11-27T10:00:00Z")
    channel = SlackChannel.model_validate({"type": "slack", "webhookUrl": "${env:X}"})
    texts = [block["text"]["text"] for block in payload(channel, note)["blocks"] if block["type"] == "section"]
    rendered = "\n".join(texts)
    assert "<!" not in rendered and "<@" not in rendered and "<https://evil" not in rendered, rendered
    assert "<https://x/%3E%3C!channel|Runbook>" in rendered

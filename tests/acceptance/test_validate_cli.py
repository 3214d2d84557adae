"""`modelops validate` end to end: every bad-input category exits 1 with a located diagnostic, prints no
traceback and writes nothing; formats, colour, paths and the exit-code contract."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.repo import FIXTURE, ROOT, Result, snapshot, write

BAD_INPUTS: list[tuple[str, str, bytes, str, int]] = [
    # (id, file, content, expected code, expected line)
    ("syntax", "policies/alerts/bad.yaml", b"apiVersion: modelops.dev/v1\nkind: [AlertPolicy\n", "MO001", 3),
    ("tab", "policies/alerts/bad.yaml", b"apiVersion: modelops.dev/v1\nspec:\n\trules: []\n", "MO002", 3),
    ("duplicate-key", "policies/alerts/bad.yaml", b"apiVersion: modelops.dev/v1\napiVersion: x\n", "MO003", 2),
    ("python-tag", "policies/alerts/bad.yaml", b"kind: !!python/object/apply:os.system [id]\n", "MO004", 1),
    ("include-tag", "policies/alerts/bad.yaml", b"apiVersion: modelops.dev/v1\nspec: !include x.yaml\n", "MO004", 2),
    ("merge-conflict", "policies/alerts/bad.yaml", b"a: 1\n<<<<<<< HEAD\nb: 1\n=======\nb: 2\n>>>>>>> x\n", "MO005", 2),
    ("latin-1", "policies/alerts/bad.yaml", "kind: Caf\xe9\n".encode("latin-1"), "MO006", 1),
    ("utf-16", "policies/alerts/bad.yaml", "kind: AlertPolicy\n".encode("utf-16"), "MO006", 1),
    ("nul-byte", "policies/alerts/bad.yaml", b"kind: AlertPolicy\n\x00\x00", "MO007", 2),
    ("not-a-mapping", "policies/alerts/bad.yaml", b"- apiVersion: modelops.dev/v1\n", "MO008", 1),
    ("alias-bomb", "policies/alerts/bad.yaml",
     b"a: &a [x,x,x,x,x,x,x,x,x,x]\n" + b"".join(
         f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 10)}]\n".encode() for i in range(8)),
     "MO009", 4),
    ("deep-nesting", "policies/alerts/bad.yaml", b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", "MO010", 1),
    ("huge-file", "policies/alerts/bad.yaml", b"a: '" + b"x" * (2 << 20) + b"'\n", "MO011", 1),
    ("huge-scalar", "policies/alerts/bad.yaml", b"a: '" + b"x" * (100 << 10) + b"'\n", "MO012", 1),
    ("huge-hex-number", "policies/alerts/bad.yaml", b"apiVersion: modelops.dev/v1\ncpuHigh: 0x" + b"f" * 5000 + b"\n",
     "MO012", 2),
    ("complex-key", "policies/alerts/bad.yaml", b"apiVersion: modelops.dev/v1\n? [a, b]\n: 1\n", "MO015", 2),
    ("yaml-1.1", "policies/alerts/bad.yaml", b"%YAML 1.1\n---\napiVersion: modelops.dev/v1\n", "MO016", 2),
    ("unknown-api-version", "policies/alerts/bad.yaml",
     b"apiVersion: modelops.dev/v2\nkind: AlertPolicy\nmetadata: {name: x}\nspec: {rules: []}\n", "MO100", 1),
    ("unknown-kind", "policies/alerts/bad.yaml", b"apiVersion: modelops.dev/v1\nkind: AlertPolicyy\n", "MO101", 2),
    ("missing-field", "policies/alerts/bad.yaml",
     b"apiVersion: modelops.dev/v1\nkind: AlertPolicy\nmetadata: {name: x}\n", "MO102", 1),
    ("wrong-kind-here", "policies/alerts/bad.yaml",
     b"apiVersion: modelops.dev/v1\nkind: Model\nmetadata: {name: x}\n", "MO110", 2),
    ("bad-name", "policies/alerts/bad.yaml",
     b"apiVersion: modelops.dev/v1\nkind: AlertPolicy\nmetadata: {name: Latency_Rules}\nspec:\n  rules:\n"
     b"    - {name: a, metric: error_rate, above: {warning: 0.1}}\n", "MO111", 3),
]


@pytest.mark.parametrize(("name", "rel", "content", "code", "line"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_located_and_changes_nothing(name: str, rel: str, content: bytes, code: str, line: int,
                                                  repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, rel, content)
    before = snapshot(repo)
    started = time.perf_counter()
    result = cli("--repo", repo, "validate")
    assert time.perf_counter() - started < 5.0  # guards against hangs only
    assert result.code == 1, result.output
    assert f"{rel}:{line}:" in result.out
    assert f"error[{code}]" in result.out
    assert "Traceback" not in result.output
    assert snapshot(repo) == before


SENTIMENT = "environments/production/models/sentiment.yaml"
FRAUD = "environments/staging/models/fraud-detector.yaml"
PRODUCTION = "environments/production/environment.yaml"
STAGING = "environments/staging/environment.yaml"
ONCALL = "policies/escalation/ml-oncall.yaml"
CPU_BURST = "policies/scaling/cpu-burst.yaml"
INFRA = "policies/alerts/infrastructure.yaml"
RECOMMENDER = "environments/production/models/recommender.yaml"
OWNERSHIP = "policies/guardrails/ownership.yaml"
ROLLING = "  strategy:\n    rolling: {maxUnavailable: 0, maxSurge: 1, previewTests: [ping]}\n"
DUPLICATE_POLICY = ("apiVersion: modelops.dev/v1\nkind: ScalingPolicy\nmetadata:\n  name: cpu-burst\n"
                    "spec: {minReplicas: 1, maxReplicas: 2, targets: {cpuUtilization: 50}}\n")

ERROR_LINE = re.compile(r"^(?P<file>\S+?):(?P<line>\d+):\d+: error\[(?P<code>MO\d{3})\]", re.MULTILINE)


def located_errors(out: str) -> list[tuple[str, int, str]]:
    """Each error of the text output as (file, line, code)."""
    return [(m["file"], int(m["line"]), m["code"]) for m in ERROR_LINE.finditer(out)]


EDITED_MISTAKES: list[tuple[str, str, str, str, str, str, int]] = [
    # (id, file edited, text replaced ("" writes the file), replacement, expected code, located file, line)
    ("unknown-policy", SENTIMENT, "scaling: gpu-standard", "scaling: gpu-standrad", "MO201", SENTIMENT, 33),
    # a duplicate is reported on the later of the two in path order, at its name
    ("duplicate-policy", "policies/scaling/burst-copy.yaml", "", DUPLICATE_POLICY, "MO202", CPU_BURST, 5),
    ("non-dns-name", FRAUD, "name: fraud-detector", "name: Fraud_Detector", "MO111", FRAUD, 5),
    ("canary-weight-not-increasing", FRAUD, "- setWeight: 50", "- setWeight: 5", "MO204", FRAUD, 25),
    ("min-above-max-replicas", CPU_BURST, "minReplicas: 3", "minReplicas: 50", "MO205", CPU_BURST, 7),
    ("repeat-below-interval", ONCALL, "repeat: 4h", "repeat: 1m", "MO206", ONCALL, 23),
    ("freeze-ends-before-start", PRODUCTION, 'to: "2028-01-04T00:00:00Z"', 'to: "2027-01-04T00:00:00Z"', "MO207",
     PRODUCTION, 17),
    # a cycle is reported once, on the first environment of it, at its promotesFrom
    ("promotion-cycle", STAGING, "  approval: none", "  approval: none\n  promotesFrom: production", "MO208",
     PRODUCTION, 13),
    ("warning-above-critical", INFRA, "above: {warning: 80, critical: 95}",
     "above: {warning: 96, critical: 95}", "MO209", INFRA, 10),
    ("non-finite-threshold", INFRA, "above: {warning: 80, critical: 95}", "above: {warning: 80, critical: .inf}",
     "MO209", INFRA, 10),
    # layer 2, one per code
    ("unknown-field", SENTIMENT, "escalation: ml-oncall", "escalation: ml-oncall\n  escalaton: x", "MO103", SENTIMENT,
     36),
    ("wrong-type", SENTIMENT, "runtime: vllm", "runtime: [vllm]", "MO104", SENTIMENT, 13),
    ("bad-value", SENTIMENT, "method: POST", "method: PATCH", "MO105", SENTIMENT, 27),
    ("bad-duration", ONCALL, "repeat: 4h", "repeat: 4 hours", "MO106", ONCALL, 23),
    ("duration-over-ten-years", ONCALL, "repeat: 4h", "repeat: 99999999999999999999999999999w", "MO106", ONCALL, 23),
    ("bad-size", SENTIMENT, "memory: 16Gi", "memory: 16GB", "MO107", SENTIMENT, 17),
    ("bad-semver", SENTIMENT, "version: 1.4.2", "version: 1.4", "MO108", SENTIMENT, 8),
    ("secret-literal", ONCALL, 'routingKey: "${env:PAGERDUTY_ROUTING_KEY}"', "routingKey: abcdef0123456789", "MO109",
     ONCALL, 9),
    ("unbalanced-promql", STAGING, "    path: examples/metrics/staging.json\n",
     "    path: examples/metrics/staging.json\n    queries: {error_rate: 'rate(errors[5m]'}\n", "MO105", STAGING, 17),
    # layer 3 references, each kind
    ("unknown-alert-policy", SENTIMENT, "alerts: [model-slo, infrastructure]", "alerts: [model-slo, infra]", "MO201",
     SENTIMENT, 34),
    ("unknown-escalation-policy", SENTIMENT, "escalation: ml-oncall", "escalation: ml-on-call", "MO201", SENTIMENT, 35),
    ("unknown-channel", ONCALL, "channels: [pager, slack-ml, incidents]", "channels: [pagr, slack-ml, incidents]",
     "MO201", ONCALL, 18),
    ("unknown-test", SENTIMENT, "previewTests: [smoke, eval]", "previewTests: [smoke, evals]", "MO201", SENTIMENT, 20),
    ("unknown-analysis", SENTIMENT, "postPromotionAnalysis: [slo]", "postPromotionAnalysis: [slos]", "MO201",
     SENTIMENT, 23),
    ("unknown-promotes-from", PRODUCTION, "promotesFrom: staging", "promotesFrom: stagign", "MO201", PRODUCTION, 13),
    ("duplicate-model", "environments/staging/models/sentiment-copy.yaml", "",
     (FIXTURE / "environments/staging/models/sentiment.yaml").read_text(), "MO202",
     "environments/staging/models/sentiment.yaml", 5),
    # layer 4
    ("guardrail-violated", RECOMMENDER, ROLLING, "", "MO301", RECOMMENDER, 7),
    ("guardrail-not-a-schema", OWNERSHIP, "required: [labels]", "required: labels", "MO302", OWNERSHIP, 13),
    ("guardrail-remote-ref", OWNERSHIP, "labels: {required: [team]}", 'labels: {$ref: "https://example.com/s.json"}',
     "MO302", OWNERSHIP, 15),
]


@pytest.mark.parametrize(("name", "rel", "old", "new", "code", "located", "line"), EDITED_MISTAKES,
                         ids=[m[0] for m in EDITED_MISTAKES])
def test_an_edited_mistake_is_located_and_changes_nothing(name: str, rel: str, old: str, new: str, code: str,
                                                         located: str, line: int, repo: Path,
                                                         cli: Callable[..., Result]) -> None:
    path = repo / rel
    if old:
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} is not once in {rel}"
        write(repo, rel, text.replace(old, new))
    else:
        assert not path.exists()
        write(repo, rel, new)
    before = snapshot(repo)
    result = cli("--repo", repo, "validate")
    assert result.code == 1, result.output
    assert located_errors(result.out) == [(located, line, code)], result.out
    assert "Traceback" not in result.output
    assert snapshot(repo) == before


def test_a_file_with_200_000_mistakes_is_reported_quickly_and_in_part(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "policies/alerts/bad.yaml", "a: 1\n" * 200_000)  # just under the 1 MiB limit
    started = time.perf_counter()
    result = cli("--repo", repo, "validate")
    assert time.perf_counter() - started < 60  # a guard against hangs only (it took minutes when quadratic)
    assert result.code == 1
    assert result.out.count("error[MO003]") == 100
    assert "… and 199899 more in policies/alerts/bad.yaml (--format json lists them all)" in result.out
    assert "Found 199999 errors and 0 warnings in 1 file." in result.out


def test_a_secret_literal_is_masked_in_every_snippet_of_its_line(repo: Path, cli: Callable[..., Result]) -> None:
    path = repo / ONCALL
    text = path.read_text().replace("port: 587,", 'port: "587",')
    path.write_text(text.replace('password: "${env:SMTP_PASSWORD}"', "password: hunter2-secret"))
    result = cli("--repo", repo, "validate")
    assert [(code, line) for _, line, code in located_errors(result.out)] == [("MO104", 14), ("MO109", 14)]
    assert "hunter2" not in result.output
    assert result.out.count('password: ********}') == 2


@pytest.mark.parametrize("kind", ["dangling-link", "link-out-of-the-repository", "fifo"])
def test_a_file_that_cannot_be_read_is_mo014_on_every_run(kind: str, repo: Path, cli: Callable[..., Result]) -> None:
    rel = "policies/scaling/extra.yaml"
    before = snapshot(repo)
    if kind == "fifo":
        os.mkfifo(repo / rel)
    else:
        os.symlink("/nonexistent" if kind == "dangling-link" else "/etc/passwd", repo / rel)
    for _ in range(2):  # the second run finds a warm cache
        result = cli("--repo", repo, "validate")
        assert result.code == 1, result.output
        assert located_errors(result.out) == [(rel, 1, "MO014")]
        assert "Traceback" not in result.output and "root:" not in result.output
    (repo / rel).unlink()
    assert snapshot(repo) == before


def test_a_misplaced_yaml_file_is_a_warning_not_a_silent_success(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "environments/staging/model/newmodel.yaml", "apiVersion: modelops.dev/v1\n")
    result = cli("--repo", repo, "validate")
    assert result.code == 0
    assert ("environments/staging/model/newmodel.yaml:1:1: warning[MO017] environments/staging/model/newmodel.yaml "
            "is not read by modelops") in result.out
    assert "did you mean environments/staging/models/newmodel.yaml?" in result.out


def test_example_repository_validates_clean(cli: Callable[..., Result]) -> None:
    result = cli("--repo", ROOT, "validate")
    assert result.code == 0
    assert result.out.startswith("Success! The configuration is valid: 2 environments, 4 models, 8 policies")


def test_empty_file_is_only_a_warning(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "policies/alerts/empty.yaml", "")
    result = cli("--repo", repo, "validate")
    assert result.code == 0
    assert "policies/alerts/empty.yaml:1:1: warning[MO013] file is empty" in result.out
    assert "with 1 warning" in result.out


def test_paths_limit_what_is_reported(repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo, "policies/alerts/bad.yaml", "a: [\n")
    monkeypatch.chdir(repo)
    assert cli("validate", "policies/scaling").code == 0
    failing = cli("validate", "policies/alerts/bad.yaml")
    assert failing.code == 1 and "MO001" in failing.out
    outside = cli("validate", "/etc/hostname")
    assert outside.code == 1 and "error[MO401]" in outside.out and "outside the repository" in outside.out
    write(repo, "README.md", "hello")
    ignored = cli("validate", "README.md")
    assert ignored.code == 0 and "warning[MO401] README.md is not a modelops configuration file" in ignored.out


def test_json_output_is_parseable(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "policies/alerts/bad.yaml", "a: !!binary aGk=\n")
    result = cli("--repo", repo, "validate", "--format", "json")
    body = json.loads(result.out)
    assert result.code == 1
    assert body["format_version"] == 1 and body["valid"] is False and body["error_count"] == 1
    assert body["diagnostics"][0] | {"message": None, "hint": None} == {
        "severity": "error", "code": "MO004", "message": None, "file": "policies/alerts/bad.yaml", "line": 1,
        "column": 4, "path": "", "hint": None}


def test_github_annotations_escape_their_payload(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, "policies/alerts/a,b.yaml", "a: 1\na: 2\n")
    result = cli("--repo", repo, "validate", "--format", "github")
    assert "::error file=policies/alerts/a%2Cb.yaml,line=2,col=1,title=MO003::duplicate key" in result.out
    assert "%0Athe first one is on line 1" in result.out


def test_colour_follows_the_flag_and_no_color(repo: Path, cli: Callable[..., Result],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo, "policies/alerts/bad.yaml", "a: [\n")
    assert "\x1b[" not in cli("--repo", repo, "validate").out  # not a TTY
    assert "\x1b[31;1merror[MO001]" in cli("--repo", repo, "--color", "always", "validate").out
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli("--repo", repo, "--color", "auto", "validate").out


@pytest.mark.parametrize("args", [["validate", "--format", "yaml"], ["valdate"], ["--colour", "never", "validate"],
                                  ["schema", "Modle"]])
def test_usage_errors_exit_64_not_2(args: list[str], cli: Callable[..., Result]) -> None:
    result = cli(*args)
    assert result.code == 64
    assert "Traceback" not in result.output


def test_did_you_mean_for_commands(cli: Callable[..., Result]) -> None:
    assert 'unknown command "valdate" (did you mean "validate"?)' in cli("valdate").err


def test_internal_error_exits_70_with_a_log(repo: Path, cli: Callable[..., Result],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import modelops.validate.repo

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(modelops.validate.repo, "validate_repo", boom)
    result = cli("--repo", repo, "validate")
    assert result.code == 70
    assert "Internal error: RuntimeError: kaboom" in result.err
    assert "Traceback" not in result.err
    log = Path(result.err.split("details in ")[1].split(". Run")[0])
    assert "RuntimeError: kaboom" in log.read_text()
    log.unlink()
    debug = cli("--repo", repo, "--debug", "validate")
    assert debug.code == 70 and "Traceback (most recent call last)" in debug.err


def test_schema_command_prints_each_kind(cli: Callable[..., Result]) -> None:
    listing = cli("schema")
    assert listing.code == 0 and "schemas/escalationpolicy.schema.json" in listing.out
    schema = json.loads(cli("schema", "model").out)
    assert schema["$id"] == "https://modelops.dev/schemas/v1/model.schema.json"


def test_installed_console_script_runs(repo: Path) -> None:
    script = Path(sys.executable).parent / "modelops"
    assert script.exists(), "the package is not installed in this environment"
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run([str(script), "--repo", str(repo), "validate"], capture_output=True, text=True, env=env,
                          check=False)
    assert done.returncode == 0 and "Success!" in done.stdout
    assert subprocess.run([str(script), "--help"], capture_output=True, check=False).returncode == 0


def test_a_directory_that_is_no_repository_is_refused_not_validated(tmp_path: Path,
                                                                    cli: Callable[..., Result]) -> None:
    missing = cli("--repo", tmp_path / "typo", "validate")
    assert missing.code == 64 and f"directory {tmp_path / 'typo'} does not exist" in missing.err
    for command in (("validate",), ("plan",), ("status",), ("apply", "--auto-approve"), ("report",)):
        refused = cli("--repo", tmp_path, *command)
        assert refused.code == 1, (command, refused.output)
        assert refused.err == (f"Error: {tmp_path.resolve()} is not a modelops repository: it has no environments/ "
                               "or policies/ directory\nHint: pass --repo with the root of the ops repository, or "
                               "start one with `modelops init`\n")
    assert list(tmp_path.iterdir()) == []  # nothing written there, not even the parse cache
    assert cli("--repo", tmp_path, "schema", "model").code == 0

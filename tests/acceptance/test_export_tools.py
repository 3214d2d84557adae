"""The real tools accept every export: promtool (Prometheus 2.42), amtool (Alertmanager 0.25), kubernetes-validate
--strict and the CRD schemas. Run over the example repository and over every `export-*` golden case.

`make test` installs promtool and amtool (scripts/install-test-tools.sh); without them these tests skip.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.support.k8s import kubernetes_validate, validate_manifests
from tests.support.repo import Result

pytestmark = pytest.mark.slow  # promtool and amtool run every generated rule and route test

CASES = Path(__file__).resolve().parent.parent / "cases"
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None,
                                    reason="promtool missing (Debian package prometheus; make test installs it)")
needs_amtool = pytest.mark.skipif(shutil.which("amtool") is None,
                                  reason="amtool missing (Debian prometheus-alertmanager; make test installs it)")
needs_validate = pytest.mark.skipif(kubernetes_validate() is None,
                                    reason="kubernetes-validate missing (pip install -e '.[dev]')")


#: The releases the exports target and the generated tests were written against (Debian bookworm's packages).
TARGETED = {"promtool": (2, 42), "amtool": (0, 25)}


@pytest.mark.parametrize("tool", sorted(TARGETED))
def test_the_installed_tools_are_the_targeted_releases(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} missing (make test installs Debian bookworm's package)")
    done = run(tool, "--version")
    found = re.search(r"version (\d+)\.(\d+)\.", done.stdout + done.stderr)
    assert found, done.stdout + done.stderr
    major, minor = TARGETED[tool]
    assert (int(found[1]), int(found[2])) == TARGETED[tool], (
        f"{tool} {found[1]}.{found[2]} is installed, but the exports and their generated tests target "
        f"{major}.{minor} (Debian bookworm); other releases may judge the generated tests differently")


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, cwd=cwd, timeout=300)


def check_prometheus(out: Path) -> None:
    rules = sorted(out.glob("*.rules.yml"))
    tests = sorted(out.glob("*.rules.test.yml"))
    assert rules and tests
    done = run("promtool", "check", "rules", *rules)
    assert done.returncode == 0, done.stdout + done.stderr
    done = run("promtool", "test", "rules", *tests)
    assert done.returncode == 0, done.stdout + done.stderr


def narrowed(tests: Path, name: str) -> Path:
    """The generated tests whose name holds `name`, in a file of their own beside the rules: promtool takes seconds
    for a whole file, and a mutation needs only the tests that must catch it (the whole file passes unmutated in
    test_promtool_accepts_the_example_rules_and_their_generated_tests_pass)."""
    yaml = YAML()
    document = yaml.load(tests.read_text(encoding="utf-8"))
    document["tests"] = [test for test in document["tests"] if name in test["name"]]
    assert document["tests"], name
    out = tests.with_name("narrowed.rules.test.yml")
    yaml.dump(document, out)
    return out


def check_alertmanager(out: Path) -> None:
    done = run("amtool", "check-config", out / "alertmanager.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    done = run("sh", out / "alertmanager-routes-test.sh")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"routes: [1-9][0-9]* passed, 0 failed", done.stdout), done.stdout


def check_kubernetes(out: Path, work: Path) -> None:
    problems = validate_manifests(sorted(out.glob("*.yaml")), work)
    assert problems == [], "\n".join(problems)


def export(cli: Callable[..., Result], repo: Path, out: Path, *args: str) -> None:
    done = cli("--repo", repo, "export", *args, "--out", out)
    assert done.code == 0, done.output


@needs_promtool
@pytest.mark.parametrize("env", ["staging", "production"])
def test_promtool_accepts_the_example_rules_and_their_generated_tests_pass(
        repo: Path, cli: Callable[..., Result], tmp_path: Path, env: str) -> None:
    export(cli, repo, tmp_path, "prometheus", "--env", env)
    check_prometheus(tmp_path)


@needs_amtool
@pytest.mark.parametrize("env", ["staging", "production"])
def test_amtool_accepts_the_example_config_and_every_route_test_passes(
        repo: Path, cli: Callable[..., Result], tmp_path: Path, env: str) -> None:
    export(cli, repo, tmp_path, "alertmanager", "--env", env)
    check_alertmanager(tmp_path)


@needs_validate
@pytest.mark.parametrize("env", ["staging", "production"])
@pytest.mark.parametrize("flavor", ["argo-rollouts", "kserve"])
def test_the_example_manifests_validate(repo: Path, cli: Callable[..., Result], tmp_path: Path, env: str,
                                        flavor: str) -> None:
    export(cli, repo, tmp_path / "out", "kubernetes", "--env", env, "--flavor", flavor)
    check_kubernetes(tmp_path / "out", tmp_path)


def _export_cases() -> list[str]:
    return sorted(p.name for p in CASES.glob("export-*") if (p / "expected.txt").read_text().startswith("# exit 0"))


@pytest.mark.parametrize("name", _export_cases())
def test_the_tools_accept_every_golden_export(name: str, repo: Path, cli: Callable[..., Result],
                                              tmp_path: Path) -> None:
    case = CASES / name
    if (case / "overlay").exists():
        shutil.copytree(case / "overlay", repo, dirs_exist_ok=True)
    delete = case / "delete"
    for rel in delete.read_text().split() if delete.exists() else []:
        (repo / rel).unlink()
    args = shlex.split((case / "args").read_text())
    out = tmp_path / "out"
    export(cli, repo, out, *args[1:])
    kind = args[1]
    tool = {"prometheus": "promtool", "alertmanager": "amtool"}.get(kind)
    if tool is not None and shutil.which(tool) is None:
        pytest.skip(f"{tool} missing (make test installs it)")
    if kind == "kubernetes" and kubernetes_validate() is None:
        pytest.skip("kubernetes-validate missing (pip install -e '.[dev]')")
    {"prometheus": lambda: check_prometheus(out), "alertmanager": lambda: check_alertmanager(out),
     "kubernetes": lambda: check_kubernetes(out, tmp_path)}[kind]()


@needs_promtool
@pytest.mark.parametrize(("wrong", "right", "failing"), [
    # 5% too high: the value just above the threshold no longer fires
    ('model="sentiment"} > 0.5', 'model="sentiment"} > 0.525',
     "sentiment/high-latency warning above 500ms: 0.505 fires"),
    # 5% too low: the value just below the threshold fires
    ('model="sentiment"} > 0.02', 'model="sentiment"} > 0.019',
     "sentiment/high-error-rate warning above 0.02: 0.0198 stays quiet"),
    ('model="sentiment"} < 1', 'model="sentiment"} < 1.05',
     "sentiment/low-throughput warning below 1: 1.01 stays quiet"),
    # a critical threshold made strict: the sample exactly at it no longer fires
    ('model="sentiment"} >= 0.05', 'model="sentiment"} > 0.05',
     "sentiment/high-error-rate critical above 0.05: exactly 0.05 fires: critical is inclusive"),
    # a warning made inclusive: the sample exactly at it fires
    ('model="sentiment"} > 0.02', 'model="sentiment"} >= 0.02',
     "sentiment/high-error-rate warning above 0.02: exactly 0.02 stays quiet: a warning is strict"),
])
def test_a_wrong_threshold_makes_the_generated_tests_fail(repo: Path, cli: Callable[..., Result], tmp_path: Path,
                                                          wrong: str, right: str, failing: str) -> None:
    export(cli, repo, tmp_path, "prometheus", "--env", "production")
    rules = tmp_path / "modelops-production.rules.yml"
    text = rules.read_text()
    assert text.count(wrong) == 1
    rules.write_text(text.replace(wrong, right))
    assert run("promtool", "check", "rules", rules).returncode == 0  # still a valid rule file...
    done = run("promtool", "test", "rules", narrowed(tmp_path / "modelops-production.rules.test.yml", failing))
    assert done.returncode == 1  # ...but the generated tests catch the changed threshold
    assert failing in done.stdout + done.stderr


@needs_promtool
@pytest.mark.parametrize(("wrong", "right"), [
    ("        for: 2m\n", "        for: 10m\n"),  # a longer `for`: the alert is not firing when it must be
    ("          severity: warning\n          team: nlp\n          tier: gold\n",
     "          severity: critical\n          team: nlp\n          tier: gold\n"),  # a wrong label
    ("[5m:1m]) + 1) >= 3", "[5m:1m]) + 1) >= 2"),  # the escalation fires at N-1
    ("max by (modelops_model, modelops_rule)", "max by (modelops_rule)"),  # alerts of two models add up
])
def test_wrong_for_labels_or_escalation_count_make_the_tests_fail(repo: Path, cli: Callable[..., Result],
                                                                   tmp_path: Path, wrong: str, right: str) -> None:
    export(cli, repo, tmp_path, "prometheus", "--env", "production")
    rules = tmp_path / "modelops-production.rules.yml"
    text = rules.read_text()
    assert wrong in text
    rules.write_text(text.replace(wrong, right, 1))
    done = run("promtool", "test", "rules", tmp_path / "modelops-production.rules.test.yml")
    assert done.returncode == 1, done.stdout


@needs_promtool
@pytest.mark.parametrize(("wrong", "right", "failing"), [
    # keep_firing_for removed, shortened or lengthened: the alert is gone too early or lingers too long
    ("        keep_firing_for: 2m\n", "", "0.505 then 0.495 keeps firing for 2m, then resolves"),
    ("keep_firing_for: 2m", "keep_firing_for: 1m", "0.505 then 0.495 keeps firing for 2m, then resolves"),
    ("keep_firing_for: 2m", "keep_firing_for: 3m", "0.505 then 0.495 keeps firing for 2m, then resolves"),
    # the escalation window one minute wider or narrower (it appears twice in the expression)
    ("[3m:1m]", "[4m:1m]", "(high-error-rate): 2 alerts spread over 3m + 1m do not escalate"),
    ("[3m:1m]", "[2m:1m]", "(high-error-rate): 2 alerts within 3m, the first at its edge: 1 do not escalate, 2 do"),
])
def test_a_changed_keep_firing_for_or_escalation_window_makes_the_tests_fail(
        repo: Path, cli: Callable[..., Result], tmp_path: Path, wrong: str, right: str, failing: str) -> None:
    export(cli, repo, tmp_path, "prometheus", "--env", "production")
    rules = tmp_path / "modelops-production.rules.yml"
    text = rules.read_text()
    assert wrong in text
    rules.write_text(text.replace(wrong, right))
    assert run("promtool", "check", "rules", rules).returncode == 0
    done = run("promtool", "test", "rules", narrowed(tmp_path / "modelops-production.rules.test.yml", failing))
    assert done.returncode == 1, done.stdout
    assert failing in done.stdout + done.stderr


@needs_promtool
@pytest.mark.parametrize(("window", "failing"), [
    ("[6m:1m]", "3 alerts spread over 5m + 1m do not escalate (synthetic ALERTS)"),
    ("[4m:1m]", "3 alerts within 5m, the first at its edge: 2 do not escalate, 3 do (synthetic ALERTS)"),
])
def test_the_synthetic_escalation_tests_pass_and_catch_a_changed_window(
        repo: Path, cli: Callable[..., Result], tmp_path: Path, window: str, failing: str) -> None:
    # the guide's 3 within 5m (response_time, memory_usage) is too short for an example rule to fire three
    # times: the tests feed ALERTS themselves
    export(cli, repo, tmp_path, "prometheus", "--env", "production")
    check_prometheus(tmp_path)
    rules = tmp_path / "modelops-production.rules.yml"
    rules.write_text(rules.read_text().replace("[5m:1m]", window))
    done = run("promtool", "test", "rules", narrowed(tmp_path / "modelops-production.rules.test.yml", failing))
    assert done.returncode == 1, done.stdout
    assert failing in done.stdout + done.stderr


@needs_amtool
def test_a_wrong_route_makes_the_route_tests_fail(repo: Path, cli: Callable[..., Result], tmp_path: Path) -> None:
    export(cli, repo, tmp_path, "alertmanager", "--env", "production")
    config = tmp_path / "alertmanager.yml"
    config.write_text(config.read_text().replace("            - receiver: ml-oncall/mail\n",
                                                 "            - receiver: ml-oncall/pager\n", 1))
    assert run("amtool", "check-config", config).returncode == 0
    done = run("sh", tmp_path / "alertmanager-routes-test.sh")
    assert done.returncode == 1
    assert "FAIL: sentiment warning alert, policy ml-oncall: expected ml-oncall/slack-ml,ml-oncall/mail" in done.stdout


@dataclass
class Node:
    """A route as amtool draws it: its matchers (or `default-route`), its receiver, its children."""

    key: str
    receiver: str | None
    children: list[Node] = field(default_factory=list)


def parse_tree(text: str) -> Node:
    """amtool's routing tree (`config routes`, or the matching routes of `config routes test --tree`)."""
    root = Node(".", None)
    stack: list[tuple[int, Node]] = [(-1, root)]
    for line in text.splitlines():
        at = line.find("── ")
        if at < 0:
            continue
        depth = (at - 1) // 4  # every level indents by four columns
        key, *rest = line[at + 3:].split("  ")
        receiver = next((r.removeprefix("receiver: ") for r in rest if r.startswith("receiver: ")), None)
        node = Node(key, receiver)
        while stack[-1][0] >= depth:
            stack.pop()
        stack[-1][1].children.append(node)
        stack.append((depth, node))
    return root


def mark_reached(full: Node, matched: Node, reached: set[int]) -> None:
    """Find the matched routes in the full tree. Alertmanager tries siblings in order, so the matched children
    are a subsequence of the full ones: the next sibling with the same matchers (and receiver, for a leaf)."""
    siblings = iter(full.children)
    for want in matched.children:
        node = next(n for n in siblings if n.key == want.key and (n.children or n.receiver == want.receiver))
        if node.children:
            mark_reached(node, want, reached)
        else:
            reached.add(id(node))


def leaves(node: Node, path: str = "") -> Iterator[tuple[str, Node]]:
    for child in node.children:
        here = f"{path} > {child.key}"
        yield from leaves(child, here) if child.children else [(f"{here} -> {child.receiver}", child)]


def unreached_routes(out: Path) -> list[str]:
    """Leaf routes of alertmanager.yml that none of the generated route tests reaches, as amtool routes them."""
    config = out / "alertmanager.yml"
    full = parse_tree(run("amtool", "config", "routes", "--config.file", config).stdout)
    reached: set[int] = set()
    for line in (out / "alertmanager-routes-test.sh").read_text().splitlines():
        if line.startswith("check "):
            labels = shlex.split(line)[3:]
            done = run("amtool", "config", "routes", "test", "--config.file", config, "--tree", *labels)
            mark_reached(full, parse_tree(done.stdout), reached)
    return [path for path, node in leaves(full) if id(node) not in reached]


@needs_amtool
@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_emitted_route_is_reached_by_a_route_test(repo: Path, cli: Callable[..., Result], tmp_path: Path,
                                                        env: str) -> None:
    export(cli, repo, tmp_path, "alertmanager", "--env", env)
    assert unreached_routes(tmp_path) == []
    if env == "production":  # growth-oncall's `match: {}` cannot reach critical alerts: left out, and said so
        head = (tmp_path / "alertmanager.yml").read_text().split("route:")[0]
        assert "# note: policy growth-oncall, route 2 (critical): not emitted, unreachable" in head


@needs_amtool
def test_a_dead_route_is_found_unreached(repo: Path, cli: Callable[..., Result], tmp_path: Path) -> None:
    export(cli, repo, tmp_path, "alertmanager", "--env", "production")
    config = tmp_path / "alertmanager.yml"
    # the child route this export used to emit: after route 1 (critical), which does not continue
    dead = ("        - matchers:\n            - 'severity=\"critical\"'\n          routes:\n"
            "            - receiver: growth-oncall/slack-growth\n")
    text = config.read_text()
    anchor = "    - matchers:\n        - 'modelops_env=\"production\"'\n        - 'modelops_escalation=\"ml-oncall\"'"
    assert anchor in text
    config.write_text(text.replace(anchor, dead + anchor))
    assert run("amtool", "check-config", config).returncode == 0
    assert run("sh", tmp_path / "alertmanager-routes-test.sh").returncode == 0  # receivers alone cannot tell...
    assert unreached_routes(tmp_path) == [  # ...but the route never matches
        ' > default-route > {modelops_env="production",modelops_escalation="growth-oncall"} > {severity="critical"}'
        " > default-route -> growth-oncall/slack-growth"]

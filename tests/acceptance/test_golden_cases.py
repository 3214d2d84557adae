"""Golden cases: each folder under tests/cases/ is one scenario, run through the CLI.

    args        the command line checked against expected.txt; several lines are several commands run one after
                the other on the same repository (each output headed `# $ modelops ARGS` in expected.txt)
    overlay/    files laid over a copy of the example repository before anything runs
    setup       optional lines run first: commands (e.g. `apply --auto-approve`; each must exit 0 unless the
                line starts with "-"), or `@copy DIR` to lay the case's DIR over the repository at that point
    after/      optional files laid over the repository after setup
    delete      optional repository paths removed after setup
    env         optional KEY=VALUE lines (MODELOPS_NOW is pinned to 2026-11-27T12:00:00Z unless set)
    expected.txt  "# exit N" then the output (UUIDs, such as a plan's id and a state's lineage, as <uuid>; an
                environment's config_digest, which covers the stub server's port, masked); refresh
                with --update-goldens -k CASE and review the diff

Apply's timed mid-run checkpoints are switched off, so the state serials in a golden do not depend on how
busy the machine was (each apply still writes its begin and final state).

The example's HTTP tests are answered by the stub model server on a free port.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.repo import Result, serve_models

CASES = Path(__file__).resolve().parent.parent / "cases"
PINNED_NOW = "2026-11-27T12:00:00Z"
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
#: An environment's digest covers its endpoints, which name the stub server's free port: different on every run.
ENV_DIGEST = re.compile(r'"config_digest": "sha256:[0-9a-f]{64}"(?=,\n\s*"approval_required")')


def case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "args").exists())


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def run_case(case: Path, repo: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MODELOPS_NOW", PINNED_NOW)
    for line in _lines(case / "env"):
        key, value = line.split("=", 1)
        monkeypatch.setenv(key, value)
    if (case / "overlay").exists():
        shutil.copytree(case / "overlay", repo, dirs_exist_ok=True)
    _, stop = serve_models(repo)
    try:
        for command in _lines(case / "setup"):
            if command.startswith("@copy "):
                shutil.copytree(case / command.split()[1], repo, dirs_exist_ok=True)
                continue
            done = cli("--repo", repo, *shlex.split(command.removeprefix("-")))
            assert done.code == 0 or command.startswith("-"), f"setup `{command}` exited {done.code}:\n{done.output}"
        if (case / "after").exists():
            shutil.copytree(case / "after", repo, dirs_exist_ok=True)
        for rel in _lines(case / "delete"):
            (repo / rel).unlink()
        commands = _lines(case / "args")
        outputs = []
        for line in commands:
            args = shlex.split(line)
            result = cli("--repo", repo, *args)
            output = f"# exit {result.code}\n" + (result.out + result.err).replace(str(repo), "<repo>")
            if args[0] in READ_ONLY and "--out" not in args:
                _same_through_every_path(repo, args, output, cli, monkeypatch)
            outputs.append(output if len(commands) == 1 else f"# $ modelops {line}\n{output}")
    finally:
        stop()
    return normalised("\n".join(outputs))


def normalised(output: str) -> str:
    return ENV_DIGEST.sub('"config_digest": "<digest of the environment>"', UUID.sub("<uuid>", output))


READ_ONLY = ("validate", "plan", "status", "history", "schema", "export", "capacity", "assess")


def _same_through_every_path(repo: Path, args: list[str], expected: str, cli: Callable[..., Result],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse cache is a fast path only: a warm run and a run without it must say exactly the same."""
    for cache in ("on", "off"):
        monkeypatch.setenv("MODELOPS_CACHE", cache)
        again = cli("--repo", repo, *args)
        again_output = f"# exit {again.code}\n" + (again.out + again.err).replace(str(repo), "<repo>")
        assert normalised(again_output) == normalised(expected), cache  # a plan's id is new each time
    monkeypatch.delenv("MODELOPS_CACHE")


@pytest.mark.parametrize("name", case_names())
def test_golden_case(name: str, repo: Path, cli: Callable[..., Result], update_goldens: bool,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES / name
    actual = run_case(case, repo, cli, monkeypatch)
    expected_file = case / "expected.txt"
    if update_goldens:
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"no golden yet: run pytest --update-goldens -k {name} and review it"
    assert actual == expected_file.read_text(encoding="utf-8")
    assert "Traceback" not in actual

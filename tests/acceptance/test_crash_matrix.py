"""The crash matrix: every strategy (blue-green, canary, rolling) on every driver (local, webhook, gitops), an
upgrade of model `m` from 1.0.0 to 1.1.0 SIGKILLed in a real process, then resumed.

After every kill, the lock the killed apply left is stale (its process is gone), and the next apply takes it over,
saying so with the lock's ID; that apply must (it runs in the test's own process: the killed apply is a real one,
and only the files on disk pass between them):

- converge: state.json (less `serial`, `updated`, `applied_plan`) and what the target serves (the local
  serving table, the webhook platform's models and policies, the gitops serving table and every rendered
  manifest, byte for byte) equal what an uninterrupted apply leaves; REPORT.md matches the state; no journal
  and no lock are left;
- never repeat a finished step: the local driver's operation log, the gitops driver's render log and the
  webhook platform (which counts every POST by idempotency key) show each key at most once, plus once more per
  killed run that left it started but unfinished; the operations the target acted on are exactly the
  uninterrupted run's, in the same order, under the same keys.

All along, a reader thread polls state.json and the serving table every millisecond: every read parses
as a whole document, and it sees the state change while the apply runs.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.crash import (
    DRIVERS,
    ENV,
    JOURNAL,
    LOCK,
    STRATEGIES,
    Kill,
    Killed,
    Reader,
    Target,
    allowed_sends,
    apply,
    apply_killed_at,
    reader,
    report_is_current,
    resume,
    set_version,
    stale_lock_left,
    took_over,
    write_lab,
)

pytestmark = pytest.mark.slow  # kills an apply at every journal boundary, for every strategy and driver

#: Journal entries of the upgrade: begin, the rollout's start, `started` and `done` for each step (the canary's
#: timed pause records its deadline once more), the rollout's end, and `end`. Blue-green has 7 steps (verify,
#: deploy, test, pre-promotion analysis, switch, post-promotion analysis, retire), canary 9 (verify, deploy,
#: test, 25%, pause, analysis, 50%, switch, retire), rolling 6 (verify, deploy a surge, test, two batches,
#: retire).
ENTRIES = {"blue-green": 18, "canary": 23, "rolling": 16}
#: Random kills per combination; every other trial also kills the apply that resumes, at a random point.
RANDOM_TRIALS = 6
STARTUP = 0.6  # a kill counted from the process start lands in start-up, planning or taking the lock


@dataclass
class Lab:
    """A template ready to upgrade, and what an uninterrupted upgrade leaves."""

    template: Path
    target: Target
    seed: tuple[dict[str, Any], dict[str, Any]] | None
    expected: dict[str, Any]
    keys: list[str]

    def trial(self, path: Path) -> Path:
        shutil.copytree(self.template, path)
        self.target.reset(path, self.seed)
        return path

    def check(self, repo: Path, killed: list[Killed], watch: Reader) -> None:
        assert self.target.final(repo) == self.expected
        assert not (repo / JOURNAL).exists() and not (repo / LOCK).exists()
        assert report_is_current(repo) == []
        assert temporaries(repo) == []
        assert watch.torn == [] and watch.reads > 0
        # the same operations, in the same order: a key names the apply that first sent it, so only that part
        # differs from the uninterrupted run's (the resumed apply sends what the killed one started under its key)
        assert [operation(k) for k in self.target.executed(repo)] == [operation(k) for k in self.keys]
        sent = self.target.sent(repo)
        for run_ in killed:
            again = run_.finished & set(sent[run_.sent:])
            assert not again, f"operations finished before a kill were sent again after it: {again}"
        allowed = allowed_sends(killed)
        for key, count in Counter(sent).items():
            assert count <= 1 + allowed[key], f"{key} reached the target {count} times"


def prepare(tmp_path: Path, strategy: str, target: Target) -> Lab:
    template = write_lab(tmp_path / "template", strategy, target.driver)
    first = apply(template, target.url)
    assert first.returncode == 0, first.stdout + first.stderr
    set_version(template, strategy, "1.1.0")
    seed = target.snapshot() if target.platform is not None else None
    baseline = tmp_path / "baseline"
    shutil.copytree(template, baseline)
    target.reset(baseline, seed)
    with reader(baseline).polling() as watch:
        done = apply(baseline, target.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert watch.torn == [] and len(watch.serials) >= 2, watch  # it read the state before and after
    lab = Lab(template, target, seed, target.final(baseline), target.executed(baseline))
    assert lab.expected["state"]["models"]["m"]["version"] == "1.1.0"
    assert lab.expected["state"]["models"]["m"]["phase"] == "Healthy"
    return lab


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_killed_at_every_journal_boundary(strategy: str, driver: str, tmp_path: Path) -> None:
    """Kill points: every journal boundary, 18 for blue-green, 23 for canary, 16 for rolling (ENTRIES)."""
    with Target(driver).running() as target:
        lab = prepare(tmp_path, strategy, target)
        assert kill_at_every_boundary(lab, target, tmp_path, ends=0, resumes=(0,)) == ENTRIES[strategy]


def rename(root: Path) -> None:
    """m is renamed `served`, with `previousNames: [m]`: a move, no redeploy."""
    path = root / "environments" / ENV / "models" / "m.yaml"
    path.write_text(path.read_text().replace("metadata: {name: m,", "metadata: {name: served, previousNames: [m],"))


def retire(root: Path) -> None:
    """m leaves the configuration (its file removed; the models folder stays, empty)."""
    (root / "environments" / ENV / "models" / "m.yaml").unlink()


CHANGES = {"rename": rename, "retire": retire}


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("change", CHANGES)
def test_a_rename_or_a_retirement_killed_at_every_journal_boundary(change: str, driver: str, tmp_path: Path) -> None:
    """A move (`rename` operation) and a retirement (`remove` operation, a tombstone in state) converge like an
    upgrade: killed anywhere, the next apply finishes them; the record is never lost between two names, and the
    model is never both retired and moved."""
    with Target(driver).running() as target:
        template = write_lab(tmp_path / "template", "blue-green", target.driver)
        assert apply(template, target.url).returncode == 0
        CHANGES[change](template)
        seed = target.snapshot() if target.platform is not None else None
        baseline = tmp_path / "baseline"
        shutil.copytree(template, baseline)
        target.reset(baseline, seed)
        done = apply(baseline, target.url)
        assert done.returncode == 0, done.stdout + done.stderr
        lab = Lab(template, target, seed, target.final(baseline), target.executed(baseline))
        models, retired = lab.expected["state"]["models"], lab.expected["state"].get("retired", {})
        if change == "rename":
            assert set(models) == {"served"} and retired == {} and models["served"]["version"] == "1.0.0"
        else:
            assert models == {} and retired["m"]["last"]["version"] == "1.0.0"
        assert kill_at_every_boundary(lab, target, tmp_path, ends=0, resumes=(0,)) >= 4


def kill_at_every_boundary(lab: Lab, target: Target, tmp_path: Path, *, ends: int, resumes: tuple[int, ...]) -> int:
    """Kill a copy of the lab's apply after its first, second, ... journal entry, resume it, and check that it
    converged. Returns how many boundaries there were: the first apply that runs to its end (exit `ends`)
    before its kill point wrote fewer entries than that."""
    boundary = 0
    while True:
        boundary += 1
        repo = lab.trial(tmp_path / f"kill-{boundary}")
        with reader(repo).polling() as watch:
            first = apply(repo, target.url, fault=boundary)
            if first.returncode != -9:
                assert first.returncode == ends, first.stdout + first.stderr
                return boundary - 1
            killed = [Killed.read(repo, target)]
            assert stale_lock_left(repo)
            code, output = resume(repo, target.url)
            assert code in resumes, output
        lab.check(repo, killed, watch)


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_killed_at_random_points(strategy: str, driver: str, tmp_path: Path) -> None:
    """Kill points: 6 random moments per combination, 3 of them followed by a second random kill of the
    apply that resumes: 9 scheduled kills, of which typically 7 to 9 land before the apply finishes. A moment is
    "after N journal entries of this apply, plus up to 150 ms", so most land inside a step (a driver call, a
    test, a pause, a rendering); N = 0 counts from the process start (start-up, planning, the lock). Seeded per
    combination: the same moments every run (where exactly they land inside a step depends on timing)."""
    rng = random.Random(f"crash-matrix/{strategy}/{driver}")
    with Target(driver).running() as target:
        lab = prepare(tmp_path, strategy, target)
        landed = 0
        for trial in range(RANDOM_TRIALS):
            kills = [_moment(rng, ENTRIES[strategy]) for _ in range(1 + trial % 2)]
            repo = lab.trial(tmp_path / f"trial-{trial}")
            killed: list[Killed] = []
            with reader(repo).polling() as watch:
                for kill in kills:
                    code = apply_killed_at(repo, kill, target.url)
                    assert code in (0, -9), code
                    if code == -9:
                        landed += 1
                        killed.append(Killed.read(repo, target))
                    stale_lock_left(repo)  # the next apply (killed in its turn, or the resume) takes it over
                code, output = resume(repo, target.url)
                assert code == 0, f"{kills}: {output}"
            lab.check(repo, killed, watch)
        assert landed >= RANDOM_TRIALS // 2  # a kill scheduled late in a short resume may find it finished


def _moment(rng: random.Random, entries: int) -> Kill:
    after = rng.randint(0, entries)
    return Kill(after, rng.uniform(0, STARTUP if after == 0 else 0.15))


@pytest.mark.parametrize("first", [4, 9, 14])
def test_a_resume_killed_right_after_its_begin_keeps_the_progress(first: int, tmp_path: Path) -> None:
    """Kill an upgrade at journal entry `first`, then the apply that resumes it right after its own first entry
    (`begin`, which starts a new journal), then resume again: the progress of the first run survives (it was
    written into state.json before `begin`), so no operation it finished reaches the webhook platform twice."""
    with Target("webhook").running() as target:
        lab = prepare(tmp_path, "blue-green", target)
        repo = lab.trial(tmp_path / "twice")
        killed = []
        with reader(repo).polling() as watch:
            for fault in (first, 1):
                assert apply(repo, target.url, fault=fault).returncode == -9
                killed.append(Killed.read(repo, target))
                left = stale_lock_left(repo)
                assert left
            done = apply(repo, target.url)
            assert done.returncode == 0 and took_over(left, done.stderr), done.stderr
        assert killed[0].finished, "the first run finished some steps"
        lab.check(repo, killed, watch)


def test_a_torn_journal_line_is_cut_before_the_next_apply_appends(tmp_path: Path) -> None:
    """A write cut short (a full disk mid-entry) leaves half a line at the end of the journal. The apply that
    resumes must not append its entries to that half line, where no reader would find them: killed in its turn,
    its progress must still be known to the apply after it (no finished operation sent twice)."""
    with Target("local").running() as target:
        lab = prepare(tmp_path, "blue-green", target)
        repo = lab.trial(tmp_path / "torn")
        with reader(repo).polling() as watch:
            assert apply(repo, target.url, fault=5).returncode == -9
            killed = [Killed.read(repo, target)]
            with (repo / JOURNAL).open("a") as journal:
                journal.write('{"at":"2026-11-27T12:00:00Z","event":"started","key":"')  # half an entry
            assert stale_lock_left(repo)
            assert apply(repo, target.url, fault=8).returncode == -9  # the resumed apply is killed in its turn
            killed.append(Killed.read(repo, target))
            assert killed[-1].finished, "the resumed apply finished steps before it was killed"
            left = stale_lock_left(repo)
            done = apply(repo, target.url)
            assert done.returncode == 0 and left and took_over(left, done.stderr), done.stderr
        lab.check(repo, killed, watch)


def test_killed_during_an_automatic_rollback_at_every_journal_boundary(tmp_path: Path) -> None:
    """Blue-green on the webhook driver, where 1.1.0 passes its pre-promotion analysis (latency) and fails its
    post-promotion one (errors): traffic goes back to the old slot and the candidate is retired (these steps run
    under their own `…-rollback` keys). Killed at each of its 20 journal boundaries, the next apply converges to
    the uninterrupted outcome (1.0.0 serving, 1.1.0 rejected, phase RolledBack) and no operation is executed
    twice."""
    with Target("webhook").running() as target:
        template = write_lab(tmp_path / "template", "blue-green", "webhook")
        (template / "metrics/lab.json").write_text(
            '{"format_version": 1, "models": {"m": {"error_rate": 0.001, "response_time": 0.1}, '
            '"m@1.1.0": {"error_rate": 0.5}}}\n')
        assert apply(template, target.url).returncode == 0
        set_version(template, "blue-green", "1.1.0")
        model_file = template / "environments/lab/models/m.yaml"
        model_file.write_text(model_file.read_text().replace("prePromotionAnalysis: [slo]", "prePromotionAnalysis: "
                                                             "[latency]").replace(
            "  analysis:\n", "  analysis:\n    latency: {metric: response_time, max: 1, interval: 1s, count: 2}\n"))
        seed = target.snapshot()
        baseline = lab_from(template, tmp_path / "baseline", target, seed)
        uninterrupted = apply(baseline, target.url)
        assert uninterrupted.returncode == 1, uninterrupted.stdout  # rolled back
        lab = Lab(template, target, seed, target.final(baseline), target.executed(baseline))
        model = lab.expected["state"]["models"]["m"]
        assert model["phase"] == "RolledBack" and model["version"] == "1.0.0"
        assert model["desired_rejected"]["version"] == "1.1.0"
        assert [operation(key) for key in lab.keys] == [  # deploy, switch, back, retire
            "lab/model/m/1", "lab/model/m/4", "lab/model/m/rollback/0", "lab/model/m/rollback/1"]
        # a resume exits 0 when the rollback had finished before the kill, 1 when it finishes it
        assert kill_at_every_boundary(lab, target, tmp_path, ends=1, resumes=(0, 1)) == 20


def operation(key: str) -> str:
    """An idempotency key without its lineage and the identity of the apply that first sent it: the environment, the
    target and the step."""
    return key.split("/", 2)[2]


def lab_from(template: Path, path: Path, target: Target, seed: tuple[dict[str, Any], dict[str, Any]]) -> Path:
    shutil.copytree(template, path)
    target.reset(path, seed)
    return path


def temporaries(repo: Path) -> list[str]:
    """Temporary files of atomic writes (`.NAME.tmp-PID`) left in what is committed or synced."""
    return sorted(p.relative_to(repo).as_posix() for base in ("environments", ".modelops/live")
                  for p in (repo / base).rglob(".*.tmp-*"))


def test_temporary_files_of_a_write_cut_short_are_removed(tmp_path: Path) -> None:
    """A kill in the middle of an atomic write leaves its `.NAME.tmp-PID` (the random gitops kills found one in
    rendered/, which Argo CD or Flux would sync and `apply --commit` would commit). The next apply removes those
    of dead processes, and leaves those of a live one, and anything else, alone."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    with Target("gitops").running() as target:
        lab = prepare(tmp_path, "blue-green", target)
        repo = lab.trial(tmp_path / "leftovers")
        stale = [f"environments/lab/rendered/.m.yaml.tmp-{dead}", f"environments/lab/.state.json.tmp-{dead}",
                 f"environments/lab/.REPORT.md.tmp-{dead}", f".modelops/live/.lab.json.tmp-{dead}"]
        kept = [f"environments/lab/rendered/.m.yaml.tmp-{os.getpid()}", "environments/lab/rendered/.keep"]
        for rel in stale + kept:
            (repo / rel).write_text("half a fi")
        assert apply(repo, target.url).returncode == 0
        assert [rel for rel in stale + kept if (repo / rel).exists()] == kept

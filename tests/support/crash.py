"""The crash laboratory: a one-model ops repository per strategy and driver, an apply in a real process that
is SIGKILLed on cue, a reader that polls the recorded files while it runs, and what counts as "the same final
state" and as "a step run twice".

The repository `lab` has one model, `m`, at 1.0.0, rolled out by the strategy under test. Its steps take real
time so that a kill can land inside them: the preview test is a `sleep 0.1` command, the webhook platform
answers each operation after 30 ms, the gitops driver renders manifests, the canary pauses 100 ms. Analysis
reads a metrics file (instant and deterministic).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelops.drivers.local import read_live

from tests.support.platform import Platform, serve

NOW = "2026-11-27T12:00:00Z"
ENV = "lab"
SHA = "ab" * 32
ROOT = Path(__file__).resolve().parents[2]
STATE = f"environments/{ENV}/state.json"
JOURNAL = f"environments/{ENV}/state.journal"
LOCK = f".modelops/locks/{ENV}.json"
LIVE = f".modelops/live/{ENV}.json"
RENDERED = f"environments/{ENV}/rendered"
URL_VARIABLE = "LAB_WEBHOOK_URL"

STRATEGY_BLOCKS = {
    "blue-green": "    blueGreen: {previewTests: [check], prePromotionAnalysis: [slo], postPromotionAnalysis: [slo], "
                  "scaleDownDelay: 0s}\n",
    "canary": "    canary:\n      previewTests: [check]\n      scaleDownDelay: 0s\n"
              "      steps: [{setWeight: 25}, {pause: 100ms}, {analysis: slo}, {setWeight: 50}]\n",
    "rolling": "    rolling: {maxSurge: 2, maxUnavailable: 0, previewTests: [check]}\n",
}
STRATEGIES = tuple(STRATEGY_BLOCKS)
DRIVERS = ("local", "webhook", "gitops")
TARGETS = {
    "local": "  target: {driver: local}\n",
    "webhook": f'  target:\n    driver: webhook\n'
               f'    webhook: {{url: "${{env:{URL_VARIABLE}}}", maxRetries: 2, timeout: 5s}}\n',
    "gitops": "  target: {driver: gitops, gitops: {flavor: plain}}\n",
}


def write_lab(root: Path, strategy: str, driver: str, version: str = "1.0.0") -> Path:
    """The `lab` environment with model `m` at `version` (4 replicas: every canary weight divides them)."""
    models = root / "environments" / ENV / "models"
    models.mkdir(parents=True, exist_ok=True)
    (root / "metrics").mkdir(exist_ok=True)
    (root / "metrics/lab.json").write_text('{"format_version": 1, "models": {"m": {"error_rate": 0.001}}}\n')
    (root / "environments" / ENV / "environment.yaml").write_text(
        f"apiVersion: modelops.dev/v1\nkind: Environment\nmetadata: {{name: {ENV}}}\nspec:\n{TARGETS[driver]}"
        "  metrics: {source: file, path: metrics/lab.json}\n", encoding="utf-8")
    set_version(root, strategy, version)
    return root


def lab_at(root: Path, cli: Callable[..., Any], strategy: str = "blue-green", driver: str = "local", *,
           upgraded: bool = False) -> Path:
    """The lab having applied m 1.0.0 with its configuration now at 1.1.0; `upgraded`: 1.1.0 applied too."""
    write_lab(root, strategy, driver)
    assert cli("--repo", root, "apply", "--auto-approve").code == 0
    set_version(root, strategy, "1.1.0")
    if upgraded:
        assert cli("--repo", root, "apply", "--auto-approve").code == 0
    return root


def add_alert_rule(root: Path) -> None:
    """An alert policy for model `m` whose rule the lab's metrics break: a monitor run records a pending alert."""
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies/lab.yaml").write_text(
        "apiVersion: modelops.dev/v1\nkind: AlertPolicy\nmetadata: {name: lab}\nspec:\n  rules:\n"
        "    - {name: errors, metric: error_rate, above: {warning: 0.0001}, for: 10m}\n")
    path = root / f"environments/{ENV}/models/m.yaml"
    path.write_text(path.read_text() + "  alerts: [lab]\n")


def set_version(root: Path, strategy: str, version: str) -> None:
    (root / "environments" / ENV / "models" / "m.yaml").write_text(
        "apiVersion: modelops.dev/v1\nkind: Model\nmetadata: {name: m, labels: {team: lab}}\nspec:\n"
        f"  version: {version}\n  artifact: {{uri: \"s3://models/m/{version}/m.tar.gz\", sha256: \"{SHA}\"}}\n"
        "  serving: {runtime: custom, image: \"lab/model:1\", replicas: 4, resources: {cpu: \"1\", memory: 1Gi}}\n"
        f"  strategy:\n{STRATEGY_BLOCKS[strategy]}"
        "  tests:\n    - {name: check, command: [sleep, \"0.1\"]}\n"
        "  analysis:\n    slo: {metric: error_rate, max: 0.05, interval: 1s, count: 2}\n", encoding="utf-8")


# -- processes ------------------------------------------------------------------------------------


def process_env(url: str | None, fault: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MODELOPS_FAULT", "GITHUB_ACTIONS")}
    env |= {"MODELOPS_NOW": NOW, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    if url is not None:
        env[URL_VARIABLE] = url
    if fault is not None:
        env["MODELOPS_FAULT"] = f"kill-after-journal:{fault}"
    return env


def command(repo: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "modelops", "--repo", str(repo), *args]


def run(repo: Path, *args: str, url: str | None = None, fault: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(repo, *args), capture_output=True, text=True, env=process_env(url, fault),
                          check=False, timeout=120)


def apply(repo: Path, url: str | None = None, fault: int | None = None) -> subprocess.CompletedProcess[str]:
    return run(repo, "apply", "--auto-approve", "--env", ENV, url=url, fault=fault)


@dataclass(frozen=True)
class Kill:
    """Where a random kill lands: `after` journal entries have been written (0: from the process start), then
    `delay` seconds more."""

    after: int
    delay: float


def apply_killed_at(repo: Path, kill: Kill, url: str | None) -> int:
    """Run apply and SIGKILL it at `kill`; the exit code (-9 when the kill landed, 0 when apply finished first)."""
    journal = repo / JOURNAL
    before = _entries(journal)  # a resumed apply appends to the journal its predecessor left
    with subprocess.Popen(command(repo, "apply", "--auto-approve", "--env", ENV), env=process_env(url),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        while kill.after and process.poll() is None and _entries(journal) - before < kill.after:
            time.sleep(0.001)
        time.sleep(kill.delay)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        return process.wait(timeout=120)  # reaped: a zombie would still count as a live lock holder


def _entries(journal: Path) -> int:
    try:
        return journal.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def stale_lock_left(repo: Path) -> str | None:
    """The ID of the lock a killed run left (None: it left none). It must be stale, a dead process's on this
    host, for the next apply or rollback to take it over (`took_over` says how that run must say so)."""
    if not (repo / LOCK).exists():
        return None
    from modelops.state.lock import LockInfo

    holder = LockInfo(**json.loads((repo / LOCK).read_text()))
    assert holder.stale, holder  # the killed process was reaped: a zombie would still count as alive
    return holder.id


def took_over(lock_id: str | None, output: str) -> bool:
    """Whether a run's output says it took over the stale lock `lock_id` (trivially true when none was left)."""
    return lock_id is None or (f'Note: environment "{ENV}": took over the lock of ' in output
                               and f"; lock ID {lock_id}), whose process is gone" in output)


def in_process(repo: Path, *args: str, url: str | None = None) -> tuple[int, str, str]:
    """Run `modelops --repo REPO ARGS` in this process, with the environment a child process would get."""
    from modelops.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in process_env(url).items() if k != "PYTHONPATH"})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--repo", str(repo), *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, out.getvalue(), err.getvalue()


def resume(repo: Path, url: str | None) -> tuple[int, str]:
    """The apply after a kill, in this process: only the files on disk pass from the killed process to it, and
    it spares the matrix an interpreter start (half a second of imports) per kill point. It takes over the lock
    the killed apply left, and says so."""
    left = stale_lock_left(repo)
    code, out, err = in_process(repo, "apply", "--auto-approve", "--env", ENV, url=url)
    assert code not in (0, 1) or took_over(left, err), err  # a lock a killed run left is taken over, and said so
    return code, out + err


# -- what a killed run left ---------------------------------------------------------------------------


def _lines(path: Path) -> list[dict[str, Any]]:
    """Every entry of a log or journal, whatever the engine makes of it: a torn last line (a write cut short)
    is skipped, and so is half an entry that the next entry was glued to (that entry is still read: entries are
    written with sorted keys, so each one starts with `{"`)."""
    entries: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        for start in (0, line.rfind('{"')):
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line[start:]))
                break
    return entries


def last_run_entries(repo: Path) -> list[dict[str, Any]]:
    """The journal entries of the last apply that wrote one (from its `begin`)."""
    entries: list[dict[str, Any]] = []
    for entry in _lines(repo / JOURNAL):
        entries = [] if entry["event"] == "begin" else entries
        entries.append(entry)
    return entries


@dataclass
class Killed:
    """The step keys one killed run finished, the one it left unfinished (started, never done), and how many
    operations the target had received when it died."""

    finished: set[str] = field(default_factory=set)
    unfinished: set[str] = field(default_factory=set)
    sent: int = 0

    @classmethod
    def read(cls, repo: Path, target: Target) -> Killed:
        found = cls(sent=len(target.sent(repo)))
        open_key = None
        for entry in last_run_entries(repo):
            if entry["event"] == "started":
                open_key = entry["key"]
            elif entry["event"] == "done" and open_key is not None and entry.get("step", -1) >= 0:
                found.finished.add(open_key)  # a pause's "waiting" record (step -1) does not end its step
                open_key = None
        if open_key is not None:
            found.unfinished.add(open_key)
        return found


def allowed_sends(killed: list[Killed]) -> Counter[str]:
    """How often each key may reach the target: once, plus once per killed run that left it unfinished
    (the next run sends it again under the same key). A step finished by an earlier run earns nothing more."""
    extra: Counter[str] = Counter()
    done: set[str] = set()
    for run_ in killed:
        extra.update(run_.unfinished - done)
        done |= run_.finished
    return extra


# -- the final state, and what the driver was asked to do -------------------------------------------------


@dataclass
class Target:
    """The driver's side of the lab: where operations go and what they leave."""

    driver: str
    platform: Platform | None = None
    url: str | None = None
    _server: Any = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Target]:
        if self.driver == "webhook":
            self.platform = Platform(delay=0.03)
            self._server, self.url = serve(self.platform)
        try:
            yield self
        finally:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()

    def snapshot(self) -> tuple[dict[str, Any], dict[str, Any]]:
        assert self.platform is not None
        return copy.deepcopy(self.platform.models), copy.deepcopy(self.platform.policies)

    def reset(self, repo: Path, seed: tuple[dict[str, Any], dict[str, Any]] | None) -> None:
        """Start a trial: the platform serves what the template left, and has counted nothing yet."""
        if self.platform is not None and seed is not None:
            self.platform.models, self.platform.policies = copy.deepcopy(seed[0]), copy.deepcopy(seed[1])
            self.platform.requests, self.platform.executed, self.platform.headers = Counter(), Counter(), []
        for log in (f"{ENV}.log", f"{ENV}.render.log"):  # the snapshot covers the template's operations
            with contextlib.suppress(FileNotFoundError):
                (repo / ".modelops/live" / log).unlink()

    def sent(self, repo: Path) -> list[str]:
        """Every operation key the target received, in order (repeats included): the webhook platform's
        requests, the local driver's operation log, the gitops driver's render log."""
        if self.platform is not None:
            return [headers["Idempotency-Key"] for headers in self.platform.headers]
        log = f"{ENV}.log" if self.driver == "local" else f"{ENV}.render.log"
        return [entry["key"] for entry in _lines(repo / ".modelops/live" / log)]

    def executed(self, repo: Path) -> list[str]:
        """Distinct keys in the order they were first acted on."""
        if self.platform is not None:
            return list(self.platform.executed)
        return list(dict.fromkeys(self.sent(repo)))

    def final(self, repo: Path) -> dict[str, Any]:
        """Everything that must match an uninterrupted run: the recorded state (less its write counter and
        plan ID) and what the target serves."""
        state = json.loads((repo / STATE).read_text())
        for volatile in ("serial", "updated", "applied_plan"):
            state.pop(volatile)
        found: dict[str, Any] = {"state": state}
        if self.platform is not None:
            found["platform"] = {"models": self.platform.models, "policies": self.platform.policies}
        elif self.driver == "local":
            live = read_live(repo, ENV)
            found["live"] = {k: v for k, v in live.items() if k not in ("updated", "seq")}
        else:
            live = json.loads((repo / LIVE).read_text())
            found["live"] = {k: v for k, v in live.items() if k != "updated"}
            found["rendered"] = {p.name: p.read_bytes() for p in sorted((repo / RENDERED).iterdir())}
        return found


# -- a reader that polls the recorded files while apply runs -------------------------------------------


@dataclass
class Reader:
    """Reads state.json (and the serving table) in a loop: every read must parse as a whole JSON document."""

    paths: list[Path]
    reads: int = 0
    serials: set[int] = field(default_factory=set)
    torn: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for path in self.paths:
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                self.reads += 1
                try:
                    parsed = json.loads(data)
                except ValueError as exc:
                    self.torn.append(f"{path.name}: {exc} ({len(data)} bytes)")
                    continue
                if path.name == "state.json":
                    self.serials.add(parsed["serial"])
            time.sleep(0.001)

    @contextlib.contextmanager
    def polling(self) -> Iterator[Reader]:
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def reader(repo: Path) -> Reader:
    return Reader([repo / STATE, repo / LIVE])


def report_is_current(repo: Path) -> list[str]:
    """Reports that do not match the recorded state (what `modelops report --check` would name)."""
    from modelops.report.write import check_reports
    from modelops.workspace import Workspace

    return check_reports(Workspace.load(repo), [ENV]).outdated

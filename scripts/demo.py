"""`make demo`: the main job, end to end, on a temporary copy of the example repository, served for real.

The local target runs every slot as an MLServer process serving the example's scikit-learn artifacts, a router
(HAProxy) per model whose weights are the traffic split, and a Prometheus scraping them; tests send real inference
requests and analysis reads real error rates. The story:

validate -> plan -> apply staging (first deploys) -> iris 1.1.0: blue-green, real traffic moves blue -> green ->
traffic switched by hand at the router: the plan shows the drift, `apply --refresh-only` accepts it, apply
re-asserts the YAML -> breast-cancer 1.1.0: a canary whose measured error rate exceeds its analysis limit, rolled
back -> iris 1.2.0: its measured accuracy is below the eval threshold, rejected -> `rollback` makes Git match what
serves -> promote iris to production, apply, instant rollback -> status, history, monitor (real metrics), capacity,
assess, reports -> `local down`: no process is left.

When the runtime cannot run here (MLServer, HAProxy or Prometheus missing), it says what is missing and how to get
it, and runs the same story on the simulated table, labelled as such.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_VENV = ROOT / ".venv-runtime"
MISSING_HINTS = {
    "mlserver": "MLServer: `make runtime` (a virtualenv .venv-runtime/ with the pinned mlserver, mlserver-sklearn)",
    "haproxy": "HAProxy, the router: `apt-get install haproxy` as root (`make demo` does it when run as root)",
    "prometheus": "Prometheus, the metrics: `apt-get install prometheus` as root (`make demo` does it as root)",
}


def main() -> int:
    missing = _missing()
    with tempfile.TemporaryDirectory(prefix="modelops-demo-") as tmp:
        repo = Path(tmp) / "ops"
        for part in ("environments", "policies", "schemas", "examples"):
            shutil.copytree(ROOT / part, repo / part, ignore=shutil.ignore_patterns("state.json", "REPORT.md"))
        (repo / ".gitignore").write_text(".modelops/\n")
        if missing:
            _simulate(repo, missing)
        _git(repo, "init", "-q")
        _commit(repo, "example ops repository")
        print(f"Example ops repository in {repo}; "
              + ("the local target is SIMULATED (no model server runs)." if missing else
                 "the local target serves the models for real (MLServer, HAProxy, Prometheus)."))
        started = time.monotonic()
        try:
            failures = _story(repo, simulated=bool(missing))
        finally:
            failures_down = _run(repo, "stop every process the local runtime started", "local", "down")
        left = _left_running(repo)
        print(f"\n# processes of the demo still running: {len(left)}" + "".join(f"\n  {line}" for line in left))
        failures += failures_down + len(left)
    print(f"\nDemo finished in {time.monotonic() - started:.0f}s: "
          f"{'every step behaved as expected' if not failures else f'{failures} step(s) surprised'}"
          + (" (simulated: install what is listed above to see real servers)." if missing else "."))
    return 1 if failures else 0


def _missing() -> list[str]:
    """What the real runtime needs and this machine lacks (MODELOPS_MLSERVER is set for the commands when found)."""
    found = []
    mlserver = os.environ.get("MODELOPS_MLSERVER") or str(RUNTIME_VENV / "bin" / "mlserver")
    if Path(mlserver).is_file():
        os.environ["MODELOPS_MLSERVER"] = mlserver
    else:
        found.append("mlserver")
    found += [tool for tool in ("haproxy", "prometheus")
              if shutil.which(tool) is None and shutil.which(tool, path="/usr/sbin") is None]
    return found


def _simulate(repo: Path, missing: list[str]) -> None:
    print("The local runtime cannot run on this machine; missing:")
    for tool in missing:
        print(f"  - {MISSING_HINTS[tool]}")
    print("Running the demo on the SIMULATED local target instead: a table of records, no model server, no real "
          "traffic or metrics; tests that need a server fail, as they would against nothing.\n")
    for env_file in repo.glob("environments/*/environment.yaml"):
        _edit(env_file, "runtime: mlserver", "runtime: simulated")
        text = env_file.read_text()
        env_file.write_text(re.sub(r"  metrics:\n(    .*\n|      .*\n|        .*\n)+", "", text))


def _story(repo: Path, simulated: bool) -> int:
    return _simulated_story(repo) if simulated else _real_story(repo)


def _simulated_story(repo: Path) -> int:
    """What can be shown without a model server: the plan, the rollout's steps and their records; the tests, which
    send real inference requests, find no server and fail, so each first version is rolled back."""
    failures = _run(repo, "validate every file", "validate")
    failures += _run(repo, "what the first apply will do (note: driver local, simulated)", "plan", "--env", "staging")
    failures += _run(repo, "the rollout runs; its tests find no model server (simulated) and it is rolled back",
                     "apply", "--env", "staging", "--auto-approve", "--commit", expect=1)
    failures += _run(repo, "what the record says", "status", "--env", "staging")
    return failures + _run(repo, "what happened to iris", "history", "iris", "--env", "staging")


def _real_story(repo: Path) -> int:
    failures = _run(repo, "validate every file", "validate")
    failures += _run(repo, "what the first apply will do", "plan")
    failures += _run(repo, "bring staging and production up: a server per slot, real tests, real analysis", "apply",
                     "--auto-approve", "--commit")
    failures += _run(repo, "the processes it started", "local", "status")
    _release(repo, "staging", "iris", "1.1.0", "standardised features: better on the holdout")
    failures += _run(repo, "a reviewer's view of the version bump", "plan", "--env", "staging")
    failures += _run(repo, "blue-green: tests against green's own server, then the router moves real traffic to it",
                     "apply", "--env", "staging", "--auto-approve", "--commit")
    _measure_split(repo, "staging", "iris")
    _switch_by_hand(repo, "staging", "iris", "blue")
    failures += _run(repo, "drift: the plan shows what changed outside modelops, and holds iris back", "plan",
                     "--env", "staging")
    failures += _run(repo, "accept what serves into the record (no operation is sent)", "apply", "--env", "staging",
                     "--refresh-only", "--auto-approve", "--commit")
    failures += _run(repo, "the configuration says 1.1.0: it goes out again, through its gates", "apply", "--env",
                     "staging", "--auto-approve", "--commit")
    _release(repo, "staging", "breast-cancer", "1.1.0", "adds a size band fitted on a sample without large tumours")
    failures += _run(repo, "a canary whose measured error rate exceeds its analysis limit: rolled back", "apply",
                     "--env", "staging", "--auto-approve", "--commit", expect=1)
    failures += _run(repo, "make Git match what serves again", "rollback", "breast-cancer", "--env", "staging")
    _commit(repo, "breast-cancer back to 1.0.0")
    _release(repo, "staging", "iris", "1.2.0", "retrained (on shuffled labels, it will turn out)")
    failures += _run(repo, "a version whose measured accuracy is below the eval threshold: rejected", "apply",
                     "--env", "staging", "--auto-approve", "--commit", expect=1)
    failures += _run(repo, "the plan refuses to retry the rejected version", "plan", "--env", "staging")
    failures += _run(repo, "make Git match what serves again", "rollback", "iris", "--env", "staging")
    _commit(repo, "iris back to 1.1.0")
    failures += _run(repo, "nothing left to do", "plan", "--env", "staging")
    failures += _run(repo, "promote the Healthy version to production (edits YAML)", "promote", "iris", "--from",
                     "staging", "--to", "production")
    _commit(repo, "promote iris 1.1.0 to production")
    failures += _run(repo, "apply the promotion", "apply", "--env", "production", "--auto-approve", "--commit")
    failures += _run(repo, "instant rollback: 1.0.0 is still warm in production", "rollback", "iris", "--env",
                     "production", "--auto-approve")
    _commit(repo, "roll iris back to 1.0.0 in production")
    failures += _run(repo, "what serves where (LIVE: read from the processes and routers)", "status")
    failures += _run(repo, "what happened to iris in staging", "history", "iris", "--env", "staging")
    failures += _run(repo, "alert rules measured on real metrics (nothing is sent)", "monitor", "--env", "staging",
                     "--dry-run")
    failures += _run(repo, "six weeks of usage: growth, replicas and cost at 90 days", "capacity", "--env",
                     "production")
    failures += _run(repo, "operations maturity, with the YAML change that raises each area", "assess")
    failures += _run(repo, "refresh environments/<env>/REPORT.md", "report")
    failures += _run(repo, "what CI checks: committed reports are current", "report", "--check")
    _show(repo / "environments/staging/REPORT.md", 24)
    return failures


def _run(repo: Path, title: str, *args: str, expect: int = 0) -> int:
    print(f"\n\033[1m$ modelops {' '.join(args)}\033[0m    # {title}" if sys.stdout.isatty() else
          f"\n$ modelops {' '.join(args)}    # {title}", flush=True)
    code = subprocess.call([sys.executable, "-m", "modelops", "--repo", str(repo), *args])
    if code != expect:
        print(f"(exit code {code}, expected {expect})")
    return int(code != expect)


def _release(repo: Path, env: str, model: str, version: str, what: str) -> None:
    """A new version in the model's YAML: version, artifact and its digest (what a training pipeline's PR does)."""
    path = repo / f"environments/{env}/models/{model}.yaml"
    artifact = f"examples/models/{model}/{version}/model.joblib"
    digest = hashlib.sha256((repo / artifact).read_bytes()).hexdigest()
    text = path.read_text()
    text = re.sub(r"(?m)^  version: .*$", f"  version: {version}", text)
    text = re.sub(r'uri: "file://[^"]*"', f'uri: "file://{artifact}"', text)
    text = re.sub(r'sha256: "[0-9a-f]{64}"', f'sha256: "{digest}"', text)
    path.write_text(text)
    print(f"\n# edit {path.relative_to(repo)}: {model} {version} ({what}), and commit")
    _commit(repo, f"{model} {version} in {env}")


def _measure_split(repo: Path, env: str, model: str) -> None:
    """What "blue 80%, green 20%" means: set those weights at the router, send 100 real requests through it, and
    count the slot that answered each (the router names it in a response header)."""
    import json

    from modelops.drivers.localrt import router

    folder = repo / f".modelops/runtime/{env}"
    record = json.loads((folder / "runtime.json").read_text())["models"][model]
    router.set_weights(folder / f"routers/{model}.sock", {"blue": 80, "green": 20})
    body = (repo / f"examples/models/{model}/requests.jsonl").read_text().splitlines()[0].encode()
    counts = router.sample(f"http://127.0.0.1:{record['router']['port']}/v2/models/{model}/infer", body, 100)
    print(f"\n# at the router, blue 80 and green 20: of 100 requests through it, "
          f"{', '.join(f'{slot} answered {n}' for slot, n in sorted(counts.items()))}")
    router.set_weights(folder / f"routers/{model}.sock", {"green": 100})


def _switch_by_hand(repo: Path, env: str, model: str, slot: str) -> None:
    """What someone at the target might do: all of a model's traffic to another slot, at the router, behind
    modelops' back."""
    from modelops.drivers.localrt import router

    router.set_weights(repo / f".modelops/runtime/{env}/routers/{model}.sock", {slot: 100})
    print(f"\n# by hand, at the router (HAProxy's admin socket): all of {model}'s traffic in {env} goes to slot {slot}")


def _left_running(repo: Path) -> list[str]:
    """Processes whose command line names the demo's repository (ps): none should be left."""
    done = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=False)
    return [line.strip() for line in done.stdout.splitlines() if str(repo) in line and "ps -eo" not in line]


def _show(path: Path, lines: int) -> None:
    text = path.read_text(encoding="utf-8").splitlines()
    print(f"\n# the top of {path.parent.name}/{path.name} (Markdown; GitHub renders its Mermaid diagrams)")
    print("\n".join(text[:lines]) + (f"\n... ({len(text) - lines} more lines)" if len(text) > lines else ""))


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=demo", "-c", "user.email=demo@example.com", *args], cwd=repo,
                   check=True, capture_output=True)


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", message)


if __name__ == "__main__":
    raise SystemExit(main())

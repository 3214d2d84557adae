"""`make demo`: the main job, end to end, on a temporary copy of the example repository.

validate -> plan -> apply (staging, then production) -> a version bump: plan, apply -> traffic switched by
hand at the target: the plan shows the drift, `apply --refresh-only` accepts it, apply re-asserts the YAML -> a
broken version whose preview test fails and is rolled back automatically -> `rollback` to make Git match what
serves ->
promote the good version to production -> status and history -> the reports. A stub model server
answers the HTTP tests, so every gate runs for real.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="modelops-demo-") as tmp:
        repo = Path(tmp) / "ops"
        for part in ("environments", "policies", "schemas", "examples"):
            shutil.copytree(ROOT / part, repo / part, ignore=shutil.ignore_patterns("state.json", "REPORT.md"))
        (repo / ".gitignore").write_text(".modelops/\n")
        port = _start_stub_server(repo)
        for env in ("staging", "production"):
            _edit(repo / f"environments/{env}/environment.yaml", "127.0.0.1:8790", f"127.0.0.1:{port}")
        _git(repo, "init", "-q")
        _commit(repo, "example ops repository")
        print(f"Example ops repository in {repo}; stub model server on port {port}.")
        return _story(repo)


def _story(repo: Path) -> int:
    failures = 0
    failures += _run(repo, "validate every file", "validate")
    failures += _run(repo, "what the first apply will do", "plan")
    failures += _run(repo, "bring staging and production up (gates run for real)", "apply", "--auto-approve",
                     "--commit")
    _bump(repo, "staging", "sentiment", "1.4.2", "1.5.0")
    failures += _run(repo, "a reviewer's view of the version bump", "plan", "--env", "staging")
    failures += _run(repo, "blue-green upgrade: preview tests, switch, analysis", "apply", "--env", "staging",
                     "--auto-approve", "--commit")
    _switch_by_hand(repo, "staging", "sentiment", "blue")
    failures += _run(repo, "drift: the plan shows what changed outside modelops, and holds sentiment back", "plan",
                     "--env", "staging")
    failures += _run(repo, "accept what serves into the record (no operation is sent)", "apply", "--env", "staging",
                     "--refresh-only", "--auto-approve", "--commit")
    failures += _run(repo, "the configuration says 1.5.0: it goes out again, through its gates", "apply", "--env",
                     "staging", "--auto-approve", "--commit")
    _bump(repo, "staging", "sentiment", "1.5.0", "1.6.0-broken.1")
    failures += _run(repo, "a broken version: its preview test fails and it is rolled back", "apply", "--env",
                     "staging", "--auto-approve", expect=1)
    failures += _run(repo, "the plan refuses to retry the rejected version", "plan", "--env", "staging")
    failures += _run(repo, "make Git match what serves again", "rollback", "sentiment", "--env", "staging")
    _commit(repo, "sentiment back to 1.5.0")
    failures += _run(repo, "nothing left to do", "plan", "--env", "staging")
    failures += _run(repo, "promote the Healthy version to production (edits YAML)", "promote", "sentiment",
                     "--from", "staging", "--to", "production")
    _commit(repo, "promote sentiment 1.5.0 to production")
    failures += _run(repo, "apply the promotion", "apply", "--env", "production", "--auto-approve", "--commit")
    failures += _run(repo, "instant rollback: 1.4.2 is still warm in production", "rollback", "sentiment",
                     "--env", "production", "--auto-approve")
    _commit(repo, "roll sentiment back to 1.4.2 in production")
    failures += _run(repo, "what serves where", "status")
    failures += _run(repo, "what happened to sentiment in staging", "history", "sentiment", "--env", "staging")
    failures += _run(repo, "a bad day in production: alerts, grouped and routed (nothing is sent)", "monitor",
                     "--env", "production", "--metrics", "examples/metrics/bad-day.json", "--dry-run")
    failures += _run(repo, "six weeks of usage: growth, replicas and cost at 90 days", "capacity", "--env",
                     "production")
    failures += _run(repo, "operations maturity, with the YAML change that raises each area", "assess")
    failures += _run(repo, "refresh environments/<env>/REPORT.md (apply already rendered what it touched)", "report")
    failures += _run(repo, "what CI checks: committed reports are current", "report", "--check")
    _show(repo / "environments/staging/REPORT.md", 24)
    print(f"\nDemo finished: {'every step behaved as expected' if not failures else f'{failures} step(s) surprised'}.")
    return 1 if failures else 0


def _run(repo: Path, title: str, *args: str, expect: int = 0) -> int:
    print(f"\n\033[1m$ modelops {' '.join(args)}\033[0m    # {title}" if sys.stdout.isatty() else
          f"\n$ modelops {' '.join(args)}    # {title}", flush=True)
    code = subprocess.call([sys.executable, "-m", "modelops", "--repo", str(repo), *args])
    if code != expect:
        print(f"(exit code {code}, expected {expect})")
    return int(code != expect)


def _show(path: Path, lines: int) -> None:
    text = path.read_text(encoding="utf-8").splitlines()
    print(f"\n# the top of {path.parent.name}/{path.name} (Markdown; GitHub renders its Mermaid diagrams)")
    print("\n".join(text[:lines]) + (f"\n... ({len(text) - lines} more lines)" if len(text) > lines else ""))


def _bump(repo: Path, env: str, model: str, old: str, new: str) -> None:
    path = repo / f"environments/{env}/models/{model}.yaml"
    _edit(path, old, new)
    print(f"\n# edit {path.relative_to(repo)}: version {old} -> {new}, and commit")
    _commit(repo, f"{model} {new} in {env}")


def _switch_by_hand(repo: Path, env: str, model: str, slot: str) -> None:
    """What someone at the target might do: send all of a model's traffic to another slot, behind modelops' back."""
    table = repo / f".modelops/live/{env}.json"
    data = json.loads(table.read_text(encoding="utf-8"))
    data["models"][model]["traffic"] = {slot: 100}
    table.write_text(json.dumps(data), encoding="utf-8")
    print(f"\n# by hand, at the target: all of {model}'s traffic in {env} goes back to slot {slot}")


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(re.sub(re.escape(old), new, path.read_text()))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=demo", "-c", "user.email=demo@example.com", *args], cwd=repo,
                   check=True, capture_output=True)


def _commit(repo: Path, message: str) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", message)


def _start_stub_server(repo: Path) -> int:
    from stub_server import serve  # type: ignore[import-not-found]

    server = serve(repo, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return int(server.server_port)


if __name__ == "__main__":
    raise SystemExit(main())

"""Measure modelops against its floor and its peer, side by side, in one run.

    python benchmarks/run.py [--models 2000] [--envs 3] [--repeat 5] [--large 10000] [--write BENCHMARKS.md]

(a) floor: PyYAML's C SafeLoader parsing the same files in one process; (b) peer: check-jsonschema over the
model files; (c) validate, cold and warm; (d) plan against an empty and an up-to-date state, cold and
warm; (e) plan --changed-since with one model file changed; (f) apply of K and 4K upgrades (no gates);
(g) `modelops --help`; (h) peak RSS of (c) and (d); and the stages of (c) and (d) inside one process
(`stages.py`). Each figure is the median of `--repeat` runs (`--help`: twice as many).
"Cold" means the parse cache in .modelops/cache was removed first; "warm" is the run right after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stages
from generate import generate

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rss_mb(self) -> float:
        return max(self.rss_kb) / 1024 if self.rss_kb else 0.0


def compile_engine() -> None:
    """Compile the engine's bytecode once, as installing a package does. Some machines (CI sandboxes, this
    one) set PYTHONDONTWRITEBYTECODE, under which an editable install recompiles every module it imports on
    every run: that would measure the sandbox, not modelops. Commands run without it (see `timed`)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "engine")], check=True)


def timed(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
          expect: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Run a command; wall time and the peak RSS of that very process (from wait4)."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, env={**base, "NO_COLOR": "1", **(env or {})},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in expect:
        stderr = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{' '.join(command)} exited {code}:\n{stderr[-2000:]}")
    return elapsed, int(usage.ru_maxrss)


def repeat(times: int, run: Callable[[], tuple[float, int]], before: Callable[[], None] | None = None) -> Sample:
    sample = Sample()
    for _ in range(times):
        if before is not None:
            before()
        seconds, rss = run()
        sample.seconds.append(seconds)
        sample.rss_kb.append(rss)
    return sample


def modelops(repo: Path, *args: str) -> list[str]:
    return [str(BIN / "modelops"), "--repo", str(repo), *args]


def drop_cache(repo: Path) -> Callable[[], None]:
    return lambda: shutil.rmtree(repo / ".modelops" / "cache", ignore_errors=True)


def floor(repo: Path) -> tuple[float, int]:
    script = ("import glob, sys, time, yaml\nfiles = sorted(glob.glob(sys.argv[1] + '/environments/*/models/*.yaml'))\n"
              "started = time.perf_counter()\nfor f in files:\n    with open(f, 'rb') as h:\n"
              "        yaml.load(h.read(), Loader=yaml.CSafeLoader)\nprint(time.perf_counter() - started)\n")
    done = subprocess.run([sys.executable, "-c", script, str(repo)], capture_output=True, text=True, check=True)
    return float(done.stdout), 0


def peer(repo: Path) -> tuple[float, int]:
    files = sorted(str(p) for p in repo.glob("environments/*/models/*.yaml"))
    return timed([str(BIN / "check-jsonschema"), "--schemafile", str(ROOT / "schemas/model.schema.json"), *files])


def bump(repo: Path, env: str, count: int, version: str) -> None:
    for index in range(count):
        path = repo / "environments" / env / "models" / f"model-{index:05d}.yaml"
        path.write_text(re.sub(r"(?m)^  version: .*$", f"  version: {version}", path.read_text()))


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args], cwd=repo,
                   check=True, capture_output=True)


@dataclass
class Results:
    rows: list[tuple[str, Sample]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    stages: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, name: str, sample: Sample) -> Sample:
        self.rows.append((name, sample))
        print(f"  {name:<52} {sample.median:8.3f} s  (runs: {', '.join(f'{s:.3f}' for s in sample.seconds)})",
              flush=True)
        return sample

    def get(self, name: str) -> Sample:
        return next(s for n, s in self.rows if n == name)


def measure(work: Path, models: int, envs: int, times: int, large: int) -> Results:
    results = Results()
    repo = work / "repo"
    generate(repo, models, envs)
    files = len(list(repo.glob("environments/*/models/*.yaml")))
    print(f"repository: {envs} environments x {models} models ({files} model files)")
    results.add("(a) floor: PyYAML CSafeLoader parse", repeat(times, lambda: floor(repo)))
    results.add("(b) peer: check-jsonschema (model files)", repeat(times, lambda: peer(repo)))
    results.add("(c) validate, cold", repeat(times, lambda: timed(modelops(repo, "validate")), drop_cache(repo)))
    results.add("(c) validate, warm", repeat(times, lambda: timed(modelops(repo, "validate"))))
    results.add("(d) plan, empty state, cold", repeat(times, lambda: timed(modelops(repo, "plan")), drop_cache(repo)))
    results.add("(d) plan, empty state, warm", repeat(times, lambda: timed(modelops(repo, "plan"))))
    timed(modelops(repo, "apply", "--auto-approve"))
    results.add("(d) plan, up-to-date state, cold",
                repeat(times, lambda: timed(modelops(repo, "plan")), drop_cache(repo)))
    results.add("(d) plan, up-to-date state, warm", repeat(times, lambda: timed(modelops(repo, "plan"))))
    _changed_since(repo, results, times)
    print("stages of validate and plan, in process", flush=True)
    results.stages = stages.measure(repo, times)
    _apply_linearity(work, models, results, times)
    _large(work, large, envs, results, times)
    results.add("(g) modelops --help", repeat(times * 2, lambda: timed([str(BIN / "modelops"), "--help"])))
    return results


def _changed_since(repo: Path, results: Results, times: int, size: str = "") -> None:
    (repo / ".gitignore").write_text(".modelops/\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    bump(repo, "staging", 1, "9.9.9")
    for cold in (True, False):
        label = "cold" if cold else "warm"
        results.add(f"(e) plan --changed-since HEAD, 1 file changed, {label}{size}",
                    repeat(times, lambda: timed(modelops(repo, "plan", "--changed-since", "HEAD")),
                           drop_cache(repo) if cold else None))
    bump(repo, "staging", 1, "1.0.0")


def _apply_linearity(work: Path, models: int, results: Results, times: int) -> None:
    repo = work / "apply"
    generate(repo, models, 1, gates=False)
    timed(modelops(repo, "apply", "--auto-approve"))
    k = max(1, models // 8)
    for label, count in (("K", k), ("4K", 4 * k)):
        sample = Sample()
        for attempt in range(times):
            bump(repo, "staging", count, f"2.{attempt}.{count}")
            results.notes[f"steps {label}"] = str(planned_steps(repo))
            seconds, rss = timed(modelops(repo, "apply", "--auto-approve"))
            sample.seconds.append(seconds)
            sample.rss_kb.append(rss)
        results.add(f"(f) apply, {label} = {count} upgrades (no gates)", sample)


def planned_steps(repo: Path) -> int:
    """How many steps the next apply will run, counted in the saved plan (not measured)."""
    out = repo / ".modelops" / "bench-plan.json"
    subprocess.run(modelops(repo, "plan", "--format", "json", "--out", str(out)), check=True, capture_output=True)
    plan = json.loads(out.read_text())
    return sum(len(a["steps"]) for env in plan["environments"] for a in env["actions"])


def _large(work: Path, large: int, envs: int, results: Results, times: int) -> None:
    if not large:
        return
    repo = work / "large"
    generate(repo, large, envs)
    timed(modelops(repo, "apply", "--auto-approve"))
    results.add(f"(d) plan, up-to-date state, cold, {envs} x {large} models",
                repeat(times, lambda: timed(modelops(repo, "plan")), drop_cache(repo)))
    _changed_since(repo, results, times, f", {envs} x {large} models")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()} ({platform.system()})"


def ratios(results: Results, large: int, envs: int, models: int) -> list[tuple[str, float, str, bool]]:
    m = {name: sample.median for name, sample in results.rows}
    out = [
        ("validate cold / check-jsonschema", m["(c) validate, cold"] / m["(b) peer: check-jsonschema (model files)"],
         "<= 0.35", 0.35),
        ("validate warm / check-jsonschema", m["(c) validate, warm"] / m["(b) peer: check-jsonschema (model files)"],
         "<= 0.10", 0.10),
        ("plan (up-to-date) cold / parse floor",
         m["(d) plan, up-to-date state, cold"] / m["(a) floor: PyYAML CSafeLoader parse"], "<= 2.0", 2.0),
        ("plan (up-to-date) warm / parse floor",
         m["(d) plan, up-to-date state, warm"] / m["(a) floor: PyYAML CSafeLoader parse"], "<= 1.0", 1.0),
        ("plan --changed-since (1 file), cold, seconds", m["(e) plan --changed-since HEAD, 1 file changed, cold"],
         "<= 0.5 s", 0.5),
        ("plan --changed-since (1 file), warm, seconds", m["(e) plan --changed-since HEAD, 1 file changed, warm"],
         "<= 0.5 s", 0.5),
    ]
    apply_k = next(v for k, v in m.items() if k.startswith("(f) apply, K ="))
    apply_4k = next(v for k, v in m.items() if k.startswith("(f) apply, 4K ="))
    out.append(("apply 4K / apply K", apply_4k / apply_k, "<= 4.6", 4.6))
    if large:
        big = m[f"(d) plan, up-to-date state, cold, {envs} x {large} models"]
        out.append((f"plan {large} / plan {models} models per environment (cold)",
                    big / m["(d) plan, up-to-date state, cold"], "<= 5.5", 5.5))
        for label in ("cold", "warm"):
            out.append((f"plan --changed-since (1 file), {label}, {envs} x {large} models, seconds",
                        m[f"(e) plan --changed-since HEAD, 1 file changed, {label}, {envs} x {large} models"],
                        "<= 0.5 s", 0.5))
    out.append(("modelops --help, seconds", m["(g) modelops --help"], "<= 0.150 s", 0.150))
    measured = ["(c) validate, cold", "(c) validate, warm", "(d) plan, empty state, cold",
                "(d) plan, empty state, warm", "(d) plan, up-to-date state, cold", "(d) plan, up-to-date state, warm"]
    rss = max(results.get(name).rss_mb for name in measured)
    out.append(("peak RSS of validate and plan, MB", rss, "<= 300", 300))
    return [(name, value, target, value <= limit) for name, value, target, limit in out]


def report(results: Results, args: argparse.Namespace) -> str:
    overall, marginal = _per_step(results)
    lines = [
        "# Benchmarks", "",
        "Produced by `make bench` (`benchmarks/run.py`); every figure is the median of repeated runs measured in "
        "the same session, so the ratios compare like with like.", "",
        f"- Machine: {machine()}",
        f"- Repository: {args.envs} environments x {args.models} generated models "
        f"(`benchmarks/generate.py`), runs per figure: {args.repeat} (`--help`: {2 * args.repeat})",
        f"- Apply: {overall:.2f} ms per step overall (the 4K apply's {results.notes['steps 4K']} planned steps, "
        f"start-up and journaling included); {marginal:.2f} ms per additional step (4K minus K)",
        "- The engine's bytecode is compiled before the run, as installing the package does (this machine sets "
        "PYTHONDONTWRITEBYTECODE, under which the editable install would recompile every module on every run)",
        "", "## Times", "", "| Measurement | Median (s) | Peak RSS (MB) |", "|---|---:|---:|",
    ]
    # the floor is timed inside its process (the parse loop alone), so it has no RSS of its own to show
    lines += [f"| {name} | {s.median:.3f} | {f'{s.rss_mb:.0f}' if s.rss_mb else '-'} |" for name, s in results.rows]
    lines += ["", "## Targets", "", "| Ratio | Value | Target | Met |", "|---|---:|---|---|"]
    lines += [f"| {name} | {value:.3f} | {target} | {'yes' if ok else '**no**'} |"
              for name, value, target, ok in ratios(results, args.large, args.envs, args.models)]
    lines += ["", "## Stages", "", f"Seconds per pipeline stage on the {args.envs} x {args.models} repository with an "
              "up-to-date state, timed inside one process by `benchmarks/stages.py` (each stage without the stages "
              "it calls; median of the same number of runs).", "", stages.table(results.stages)]
    return "\n".join(lines) + "\n"


def _per_step(results: Results) -> tuple[float, float]:
    """Milliseconds per step: overall for the 4K apply, and marginal (4K minus K, so start-up cancels out)."""
    one, four = (next(s for n, s in results.rows if n.startswith(f"(f) apply, {label} =")) for label in ("K", "4K"))
    steps_one, steps_four = int(results.notes["steps K"]), int(results.notes["steps 4K"])
    overall = four.median / steps_four * 1000
    marginal = (four.median - one.median) / max(1, steps_four - steps_one) * 1000
    return overall, marginal


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--envs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--large", type=int, default=0, help="also plan at this many models per environment")
    parser.add_argument("--write", type=Path, help="write the Markdown table to this file")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelops-bench-") as tmp:
        work = args.keep or Path(tmp)
        compile_engine()
        results = measure(work, args.models, args.envs, args.repeat, args.large)
        text = report(results, args)
    print("\n" + text)
    if args.write:
        body = args.write.read_text() if args.write.exists() else ""
        marker = "\n## Where the time goes"
        tail = body[body.index(marker):] if marker in body else ""
        args.write.write_text(text + tail)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

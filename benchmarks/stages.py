"""Where the time goes: each pipeline stage of `validate` and `plan`, timed inside one process.

    python benchmarks/stages.py REPO [--repeat 3]

REPO is a repository `generate.py` made, applied once so that its state is up to date. Every command runs in
a fresh interpreter (nothing imported or cached in memory carries over), with the stage functions wrapped by
a `perf_counter` timer; a profiler would inflate the pure-Python stages against the C ones. A stage's time
excludes the stages it calls (planning reads state lazily), so the rows add up; "the rest" is start-up
(interpreter, imports), the command layer and output. Each figure is the median of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: (row label, module, attribute path): the functions each stage of the pipeline runs through
STAGES = (
    ("read the cache (`marshal`)", "modelops.config.cache", "ConfigCache.open"),
    ("load: read, hash, parse (cold) or recall (warm) every file", "modelops.config.repo", "load_repo"),
    ("schema: pydantic builds the typed specs", "modelops.validate.schema", "check_schema"),
    ("semantics: references, names, weights, thresholds", "modelops.validate.semantic", "check_semantics"),
    ("guardrails (JSON Schema per matched document)", "modelops.validate.guardrails", "check_guardrails"),
    ("resolve: digests of every model and policy", "modelops.core.model", "resolve"),
    ("read `state.json` of every environment", "modelops.state.recorded", "load_state"),
    ("diff and plan", "modelops.core.diff", "make_plan"),
    ("write the cache", "modelops.config.cache", "ConfigCache.save"),
)
REST = "the rest: start-up (interpreter, imports), command layer, output"
COLUMNS = (("validate cold", "validate", True), ("plan cold", "plan", True), ("plan warm", "plan", False))


def _timer(label: str, func: Callable[..., Any], totals: dict[str, float], stack: list[float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        stack.append(0.0)
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            nested = stack.pop()
            totals[label] = totals.get(label, 0.0) + elapsed - nested
            if stack:
                stack[-1] += elapsed
    return timed


def _instrument(totals: dict[str, float]) -> None:
    """Wrap every stage function where it is defined and wherever an engine module imported it by name."""
    import importlib

    stack: list[float] = []
    for importer in ("modelops.services.plan", "modelops.workspace"):  # import the names to wrap before wrapping them
        importlib.import_module(importer)
    for label, module_name, attribute in STAGES:
        module = importlib.import_module(module_name)
        owner_name, _, name = attribute.rpartition(".")
        owner = getattr(module, owner_name) if owner_name else module
        raw = vars(owner)[name]
        if isinstance(raw, classmethod):
            setattr(owner, name, classmethod(_timer(label, raw.__func__, totals, stack)))
            continue
        wrapped = _timer(label, raw, totals, stack)
        for other in list(sys.modules.values()):
            if getattr(other, "__name__", "").startswith("modelops") and vars(other).get(name) is raw:
                setattr(other, name, wrapped)
        setattr(owner, name, wrapped)


def _one(repo: str, command: str, started: float) -> None:
    """Run in the child: import the CLI, instrument, run the command, print the stage totals as JSON."""
    from modelops.cli.main import main

    totals: dict[str, float] = {}
    _instrument(totals)
    with open(os.devnull, "w") as sink:
        stdout, sys.stdout = sys.stdout, sink
        try:
            main(["--repo", repo, command])
        finally:
            sys.stdout = stdout
    totals[REST] = time.perf_counter() - started - sum(totals.values())
    print(json.dumps(totals))


def measure(repo: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Median seconds per stage for each column, each command in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    columns: dict[str, dict[str, float]] = {}
    for column, command, cold in COLUMNS:
        runs: list[dict[str, float]] = []
        for _ in range(repeat):
            if cold:
                shutil.rmtree(repo / ".modelops" / "cache", ignore_errors=True)
            else:  # warm: right after a run that filled the cache
                _child(repo, command, env)
            runs.append(_child(repo, command, env))
        labels = [label for label, _, _ in STAGES] + [REST]
        columns[column] = {label: statistics.median(run.get(label, 0.0) for run in runs) for label in labels}
    return columns


def _child(repo: Path, command: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", command, str(repo)], env=env, capture_output=True,
                          text=True, check=True)
    parsed: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def table(columns: dict[str, dict[str, float]]) -> str:
    """A Markdown table: one row per stage, one column per command; '-' for a stage the command skipped."""
    names = list(columns)
    lines = ["| Stage | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for label in [label for label, _, _ in STAGES] + [REST]:
        cells = [f"{columns[n][label]:.2f}" if columns[n][label] >= 0.005 else "-" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| **total** | " + " | ".join(f"**{sum(columns[n].values()):.2f}**" for n in names) + " |")
    return "\n".join(lines)


def main() -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _one(str(args.repo), args.child, started)
        return 0
    print(table(measure(args.repo, args.repeat)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

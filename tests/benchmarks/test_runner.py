"""A smoke run of the benchmark at a tiny size: the runner works and writes every figure and target."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repo import ROOT

pytestmark = pytest.mark.slow  # the benchmark, at a tiny size


def test_the_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/run.py"), "--models", "8", "--envs", "2",
                           "--repeat", "1", "--large", "16", "--write", str(out)],
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    text = out.read_text()
    for row in ("(a) floor", "(b) peer", "(c) validate, cold", "(c) validate, warm", "(d) plan, empty state, cold",
                "(d) plan, up-to-date state, warm", "(e) plan --changed-since", "(f) apply, K = 1 upgrades",
                "(f) apply, 4K = 4 upgrades", "(g) modelops --help", "2 x 16 models",
                "plan --changed-since (1 file), warm, 2 x 16 models, seconds"):
        assert row in text, row
    assert "## Stages" in text and "| load: read, hash, parse (cold) or recall (warm) every file |" in text
    assert "| peak RSS of validate and plan, MB |" in text and "- Machine: " in text and "bytecode is compiled" in text
    steps = re.search(r"ms per step overall \(the 4K apply's (\d+) planned steps", text)
    assert steps and int(steps.group(1)) >= 4, "every upgrade plans at least one step"


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate import generate

    generate(tmp_path / "a", 5, 2, seed=3)
    generate(tmp_path / "b", 5, 2, seed=3)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.yaml"))
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert len((tmp_path / "a" / "environments/staging/models/model-00001.yaml").read_text().splitlines()) >= 30

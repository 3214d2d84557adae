"""`make demo`: the main job runs end to end and every step exits as the story expects."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.repo import ROOT

pytestmark = pytest.mark.slow  # the whole demo


def test_the_demo_runs_every_step_as_expected() -> None:
    done = subprocess.run([sys.executable, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Demo finished: every step behaved as expected." in done.stdout
    assert "(exit code" not in done.stdout  # no step exited otherwise than the story says
    for step in ("$ modelops validate", "$ modelops apply", "$ modelops rollback", "$ modelops promote",
                 "$ modelops report --check"):
        assert step in done.stdout, step
    assert "Traceback" not in done.stdout + done.stderr

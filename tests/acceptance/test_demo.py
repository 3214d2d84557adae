"""`make demo`: the main job runs end to end and every step exits as the story expects.

With the local runtime installed (MLServer in .venv-runtime/, HAProxy, Prometheus: `make test` installs them) the
demo serves the example's models for real, and what it shows is measured: the traffic split at the router, the
canary's error rate, the rejected version's accuracy, and no process left at the end. Without them it says what is
missing and runs simulated, labelled so."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support.repo import ROOT

pytestmark = pytest.mark.slow  # the whole demo, about three minutes with real servers

REAL = (ROOT / ".venv-runtime/bin/mlserver").is_file() and all(
    any(os.access(f"{folder}/{tool}", os.X_OK) for folder in ("/usr/bin", "/usr/sbin", "/usr/local/bin"))
    for tool in ("haproxy", "prometheus"))


def test_the_demo_runs_every_step_as_expected() -> None:
    done = subprocess.run([sys.executable, "scripts/demo.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False, env={**os.environ, "NO_COLOR": "1"})
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert re.search(r"Demo finished in \d+s: every step behaved as expected", out), out[-2000:]
    assert "(exit code" not in out  # no step exited otherwise than the story says
    assert "# processes of the demo still running: 0" in out
    assert "Traceback" not in out + done.stderr
    if not REAL:
        assert "the local target is SIMULATED" in out and "driver local, simulated" in out
        return
    assert "driver local, mlserver" in out and "the local target serves the models for real" in out
    split = re.search(r"of 100 requests through it, blue answered (\d+), green answered (\d+)", out)
    assert split is not None and 75 <= int(split.group(1)) <= 85 and int(split.group(2)) == 100 - int(split.group(1))
    assert "traffic.blue: 0% -> 100%" in out  # the switch made by hand at the router, found by the refresh
    assert re.search(r"model/breast-cancer: rolled back: analysis errors \(error_rate, max 0\.02\): measured "
                     r"\[[^\]]*\]: \d failed measurements", out)
    assert "iris 1.2.0: accuracy 0.333 on 45 holdout rows (minimum 0.90): FAIL" in out
    assert "model/iris: rolled back: test eval failed" in out
    for step in ("$ modelops promote", "$ modelops rollback iris --env production", "$ modelops local down",
                 "$ modelops report --check"):
        assert step in out, step

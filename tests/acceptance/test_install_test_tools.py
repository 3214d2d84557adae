"""scripts/install-test-tools.sh installs Prometheus and Alertmanager without starting or killing anything.

The script runs from a copy, with stand-ins for `apt-get`, `id`, `service` and `systemctl` on a PATH that holds
nothing else (so promtool and amtool are "missing"), and its policy-rc.d in a temporary directory. The
`apt-get` stand-in behaves as Debian's maintainer scripts do: it asks policy-rc.d, and starts the service
unless the answer is 101.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.repo import ROOT

pytestmark = pytest.mark.slow  # runs the installer of the external tools

SCRIPT = ROOT / "scripts/install-test-tools.sh"
BASH = shutil.which("bash") or "/bin/bash"
TOOLS = ("dirname", "chmod", "rm")  # what the script needs from coreutils on its way
PACKAGES = ("prometheus prometheus-alertmanager shellcheck chromium fonts-liberation fonts-noto-color-emoji "
            "haproxy")  # everything, in the order the script asks for them

APT_GET = """#!/bin/sh
echo "apt-get $*" >>"$LAB/log"
[ "$1" = install ] || exit 0
if [ -x "$POLICY_RC_D" ]; then "$POLICY_RC_D" prometheus start; answer=$?; else answer=none; fi
echo "policy-rc.d said $answer" >>"$LAB/log"
[ "$answer" = 101 ] || : >"$LAB/prometheus.running"
exit "${APT_EXIT:-0}"
"""
SERVICE = """#!/bin/sh
case "$2" in
  status) [ -e "$LAB/$1.running" ] ;;
  stop) echo "stop $1" >>"$LAB/log"; rm -f "$LAB/$1.running" ;;
esac
"""
SYSTEMCTL = """#!/bin/sh
case "$1" in
  is-active) [ -e "$LAB/$3.running" ] ;;
  stop) echo "stop $2" >>"$LAB/log"; rm -f "$LAB/$2.running" ;;
esac
"""


@dataclass
class Lab:
    root: Path
    policy: Path

    def run(self, uid: int = 0, apt_exit: int = 0) -> subprocess.CompletedProcess[str]:
        write(self.root / "bin/id", f"#!/bin/sh\necho {uid}\n")
        env = {"PATH": str(self.root / "bin"), "LAB": str(self.root), "POLICY_RC_D": str(self.policy),
               "APT_EXIT": str(apt_exit)}
        return subprocess.run([BASH, str(self.root / "scripts/install-test-tools.sh")], env=env, text=True,
                              capture_output=True, timeout=30, check=False)

    def log(self) -> list[str]:
        path = self.root / "log"
        return path.read_text().splitlines() if path.exists() else []


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPT, tmp_path / "scripts/install-test-tools.sh")  # it works from the repository root it is in
    write(tmp_path / "bin/apt-get", APT_GET)
    write(tmp_path / "bin/service", SERVICE)
    write(tmp_path / "bin/systemctl", SYSTEMCTL)
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found is not None, tool
        os.symlink(found, tmp_path / "bin" / tool)
    return Lab(tmp_path, tmp_path / "sbin/policy-rc.d")


def test_the_script_kills_nothing_by_name() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert re.findall(r"\b(pkill|killall|kill)\b", text) == []


def test_services_are_refused_during_the_install_and_the_policy_is_removed(lab: Lab) -> None:
    lab.policy.parent.mkdir()
    result = lab.run()
    assert result.returncode == 0, result.stderr
    assert f"installing {PACKAGES} (Debian packages)" in result.stdout
    assert lab.log() == ["apt-get update -qq", f"apt-get install -y -qq --no-install-recommends {PACKAGES}",
                         "policy-rc.d said 101"]
    assert not lab.policy.exists() and not (lab.root / "prometheus.running").exists()


def test_the_policy_is_removed_when_the_install_fails(lab: Lab) -> None:
    lab.policy.parent.mkdir()
    result = lab.run(apt_exit=100)
    assert result.returncode == 0
    assert f"warning: could not install {PACKAGES}" in result.stdout
    assert not lab.policy.exists()


def test_an_existing_policy_is_kept_and_only_what_the_install_started_is_stopped(lab: Lab) -> None:
    write(lab.policy, "#!/bin/sh\nexit 0\n")  # an administrator's policy that lets services start
    (lab.root / "prometheus-alertmanager.running").touch()  # running before: not the script's doing
    result = lab.run()
    assert result.returncode == 0, result.stderr
    assert lab.policy.read_text() == "#!/bin/sh\nexit 0\n"
    assert "policy-rc.d said 0" in lab.log()
    assert [line for line in lab.log() if line.startswith("stop")] == ["stop prometheus"]
    assert "stopped prometheus, which the install started" in result.stdout
    assert (lab.root / "prometheus-alertmanager.running").exists()


def test_a_refusing_policy_that_was_there_stays(lab: Lab) -> None:
    write(lab.policy, "#!/bin/sh\nexit 101\n")  # what Debian container images ship
    assert lab.run().returncode == 0
    assert lab.policy.read_text() == "#!/bin/sh\nexit 101\n" and "policy-rc.d said 101" in lab.log()
    assert not [line for line in lab.log() if line.startswith("stop")]


def test_without_root_nothing_is_installed_or_written(lab: Lab) -> None:
    lab.policy.parent.mkdir()
    result = lab.run(uid=1000)
    assert "needs root and apt" in result.stdout and lab.log() == [] and not lab.policy.exists()


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("script", sorted((ROOT / "scripts").glob("*.sh")), ids=lambda path: path.name)
def test_shellcheck_finds_nothing(script: Path) -> None:
    result = subprocess.run(["shellcheck", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout

"""`export alertmanager` with webhook channels that authenticate: the receivers' http_config passes the real amtool
(Alertmanager 0.25) and names files, never a secret; what 0.25 cannot express is a located error, exit 1."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.export import AUTH_SECRETS, authenticated
from tests.support.repo import Result


@pytest.mark.slow  # amtool checks the configuration and runs every generated route test
@pytest.mark.skipif(shutil.which("amtool") is None,
                    reason="amtool missing (Debian prometheus-alertmanager; make test installs it)")
def test_amtool_accepts_the_http_config_of_authenticated_webhooks(repo: Path, cli: Callable[..., Result],
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AUTH_SECRETS.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "am"
    done = cli("--repo", authenticated(repo), "export", "alertmanager", "--env", "production", "--out", out)
    assert done.code == 0, done.output
    config = (out / "alertmanager.yml").read_text()
    assert config.count("http_config:") == 4 and "credentials_file: /etc/alertmanager/secrets/INCIDENT_TOKEN" in config
    for value in AUTH_SECRETS.values():
        assert value not in config and value not in done.output
    checked = subprocess.run(["amtool", "check-config", str(out / "alertmanager.yml")], capture_output=True,
                             text=True, check=False, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    routes = subprocess.run(["sh", str(out / "alertmanager-routes-test.sh")], capture_output=True, text=True,
                            check=False, timeout=300)
    assert routes.returncode == 0 and re.search(r"routes: [1-9][0-9]* passed, 0 failed", routes.stdout), routes.stdout


def test_a_header_alertmanager_cannot_send_is_a_located_error(repo: Path, cli: Callable[..., Result],
                                                              tmp_path: Path) -> None:
    authenticated(repo, '    incidents:\n      type: webhook\n      url: "${env:INCIDENT_WEBHOOK_URL}"\n'
                        "      auth: {headers: {X-Scope-OrgID: tenant-1}}\n"
                        '    hooks: {type: webhook, url: "https://h.example.com"}\n'
                        '    scheme: {type: webhook, url: "https://s.example.com"}\n'
                        '    literal: {type: webhook, url: "https://l.example.com"}\n')
    done = cli("--repo", repo, "export", "alertmanager", "--env", "production", "--out", tmp_path / "am")
    assert done.code == 1
    assert ("policies/escalation/ml-oncall.yaml:18:24: error[MO146] spec.channels.incidents.auth.headers."
            "X-Scope-OrgID: channel incidents: the header X-Scope-OrgID cannot be exported to Alertmanager") in done.out
    assert "hint: a credential can be auth.bearer or auth.basic" in done.out
    assert not (tmp_path / "am").exists()  # nothing half written

"""The local runtime's parts that need no process: the router's configuration and how its answers are read, the
Prometheus configuration, the record, the synthetic traffic, and what it says is missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import ClassVar

import pytest
from modelops.config.spec.environment import EnvironmentSpec
from modelops.core.model import EnvironmentConfig
from modelops.drivers.localrt import metrics, router, servers
from modelops.drivers.localrt.load import Load, read_requests
from modelops.drivers.localrt.procs import Proc
from modelops.drivers.localrt.record import ModelRecord, Record, Serve, Service, SlotRecord
from modelops.drivers.localrt.runtime import Runtime, artifact_path

from tests.support.http import QuietHandler, listen, shut

#: What HAProxy 2.6 answered to `show servers state slots` with blue at weight 80 and green in maintenance.
SHOW_SERVERS = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 slots 1 blue 127.0.0.1 2 0 80 100 1 1 0 2 0 0 0 0 - 18101 - 0 0 - - 0
3 slots 2 green 127.0.0.1 0 5 20 0 1 1 0 0 8 0 0 0 - 1 - 0 0 - - 0
"""  # noqa: E501


def test_the_router_sends_to_both_slots_by_weight_and_names_the_slot_that_answered() -> None:
    text = router.config_text(18100, Path("/x/routers/iris.sock"), {"blue": (18101, 80)})
    assert "  stats socket unix@iris.sock mode 600 level admin" in text  # relative: HAProxy runs in its folder
    assert "  bind 127.0.0.1:18100" in text and "  balance roundrobin" in text
    assert "  server blue 127.0.0.1:18101 weight 80\n  server green 127.0.0.1:1 weight 0 disabled\n" in text
    assert "  http-response set-header X-Modelops-Slot %[srv_name]" in text
    assert "  http-response set-header X-Modelops-Version %[srv_name,map(iris.versions,-)]" in text
    assert router.versions_text({"green": "1.1.0"}) == "blue -\ngreen 1.1.0\n"  # every slot: `set map` edits only


def test_shares_are_percentages_of_the_weight_in_service() -> None:
    assert router.parse_shares(SHOW_SERVERS) == {"blue": 100}  # green is in maintenance: it takes nothing
    both = SHOW_SERVERS.replace("127.0.0.1 0 5 20", "127.0.0.1 2 0 20")
    assert router.parse_shares(both) == {"blue": 80, "green": 20}
    by_hand = both.replace("2 0 80 100", "2 0 200 100").replace("2 0 20 0", "2 0 100 0")  # weights set by hand
    assert router.parse_shares(by_hand) == {"blue": 67, "green": 33}
    with pytest.raises(router.RouterError, match="unexpected answer"):
        router.parse_shares("Unknown command")


def test_prometheus_renames_mlserver_inference_metrics_into_the_catalogue(tmp_path: Path) -> None:
    text = metrics.config_text(tmp_path / "targets")
    assert "replacement: modelops_requests_total" in text
    assert "replacement: modelops_request_duration_seconds_$1" in text
    assert "/v2/models/[^;]*/infer" in text  # readiness probes are not requests of users
    entry = metrics.target(9100, {"model": "iris", "env": "staging", "slot": "blue", "version": "1.1.0"})
    assert entry == {"targets": ["127.0.0.1:9100"],
                     "labels": {"model": "iris", "env": "staging", "slot": "blue", "version": "1.1.0"}}
    assert metrics.target(9100, {}, "/stats")["labels"] == {"__metrics_path__": "/stats"}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed (Debian package prometheus)")
def test_promtool_accepts_the_prometheus_configuration(tmp_path: Path) -> None:
    (tmp_path / "targets").mkdir()
    for job in metrics.JOBS:
        (tmp_path / "targets" / f"{job}.json").write_text(metrics.targets_text([]))
    (tmp_path / "prometheus.yml").write_text(metrics.config_text(tmp_path / "targets"))
    done = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_record_holds_what_a_restart_needs(tmp_path: Path) -> None:
    serve = Serve("iris", "1.1.0", "sha256:r", "mlserver", "/repo/examples/models/iris/1.1.0/model.joblib", (),
                  "/v2/models/iris/ready", None, "examples/models/iris/requests.jsonl")
    slot = SlotRecord(serve, servers.Ports(1, 2, 3), Proc(42, "123"), "logs/iris-blue.log", "2026-12-01T00:00:00Z",
                      "slots/iris-blue-1")
    record = Record("staging", {"iris": ModelRecord({"blue": slot}, {"blue": 100}, Service(5, Proc(43, None)))},
                    Service(6, None), {"AlertPolicy/x": "sha256:p"})
    record.write(tmp_path, tmp_path)
    assert Record.read(tmp_path, "staging") == record
    (tmp_path / "runtime.json").write_text("{")
    with pytest.raises(Exception, match="local down --env staging"):
        Record.read(tmp_path, "staging")


def test_artifacts_are_relative_to_the_repository_or_absolute(tmp_path: Path) -> None:
    assert artifact_path(tmp_path, "file://examples/m.joblib") == tmp_path / "examples/m.joblib"
    assert artifact_path(tmp_path, "file:///models/m.joblib") == Path("/models/m.joblib")
    assert servers.command_argv(["serve", "--port={port}", "{port}"], 8123) == ["serve", "--port=8123", "8123"]


def test_what_is_missing_is_said_with_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    monkeypatch.setenv("MODELOPS_MLSERVER", str(tmp_path / "no-such-mlserver"))
    monkeypatch.setattr(servers, "find_tool", lambda name: None)  # /usr/sbin holds haproxy on this machine
    spec = EnvironmentSpec.model_validate({"target": {"driver": "local", "local": {"runtime": "mlserver"}},
                                           "metrics": {"source": "prometheus"}})
    env = EnvironmentConfig("dev", spec, "environments/dev/environment.yaml", {}, {}, "")
    missing = Runtime(tmp_path, env).missing()
    assert missing == [servers.HAPROXY_HINT, servers.MLSERVER_HINT, servers.PROMETHEUS_HINT]
    assert "make runtime" in servers.MLSERVER_HINT and "apt-get install haproxy" in servers.HAPROXY_HINT


class Counting(QuietHandler):
    seen: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.seen.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_json(500 if len(self.seen) % 2 == 0 else 200, {})


def test_synthetic_traffic_sends_its_requests_in_turn_and_no_more(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text('{"inputs": [1]}\n\n{"inputs": [2]}\n')
    bodies = read_requests(tmp_path, path.name)
    server = listen(Counting)
    try:
        load = Load(f"http://127.0.0.1:{server.server_port}/v2/models/m/infer", bodies, rate=100, duration=0.1)
        load.run()  # on this thread: it returns when every request was answered
    finally:
        shut(server)
    assert [json.loads(b)["inputs"] for b in Counting.seen] == [[1], [2]] * 5
    assert load.answers == {200: 5, 500: 5} and load.sent == 10
    path.write_text("{not json\n")
    with pytest.raises(ValueError, match=r"requests\.jsonl:1: not JSON"):
        read_requests(tmp_path, path.name)
    (tmp_path / "fifo").unlink(missing_ok=True)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ValueError, match="not a regular file"):
        read_requests(tmp_path, "fifo")  # never waited on

"""Metric sources: one conformance suite for every registered source, then the file formats in detail."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from modelops.base.errors import EngineError
from modelops.sources.base import MetricError, MetricQuery, MetricSource
from modelops.sources.file import FileSource
from modelops.sources.prometheus import PrometheusSource
from modelops.sources.registry import SOURCES, open_source

from tests.support.ops import ENVIRONMENT, PrometheusServer
from tests.support.repo import FIXTURE

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
BAD_SERIES = [[f"2026-11-27T09:5{i}:00Z", 0.5] for i in range(5)]


def q(model: str, metric: str = "error_rate") -> MetricQuery:
    return MetricQuery(ENVIRONMENT, model, "1.0.0", metric, None, "5s", "check")


def _json_source(tmp_path: Path) -> MetricSource:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"format_version": 1, "models": {"good": {"error_rate": 0.0},
                                                                 "bad": {"error_rate": BAD_SERIES}}}))
    return FileSource.load(path, "m.json")


def _csv_source(tmp_path: Path) -> MetricSource:
    path = tmp_path / "m.csv"
    rows = ["model,metric,timestamp,value", "good,error_rate,,0"] + [f"bad,error_rate,{t},{v}" for t, v in BAD_SERIES]
    path.write_text("\n".join(rows) + "\n")
    return FileSource.load(path, "m.csv")


@pytest.fixture(params=["file-json", "file-csv", "prometheus"])
def conforming(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetricSource]:
    """Every source, serving the same situation: `good` has no errors, `bad` fails half, `silent` is absent."""
    if request.param == "prometheus":
        server: PrometheusServer = request.getfixturevalue("prometheus")
        yield PrometheusSource(server.url, ENVIRONMENT)
    else:
        yield _json_source(tmp_path) if request.param == "file-json" else _csv_source(tmp_path)


def test_registry_knows_every_source() -> None:
    assert sorted(SOURCES) == ["file", "prometheus"]


def test_conformance_instant(conforming: MetricSource) -> None:
    assert conforming.instant(q("good")) == 0.0
    assert conforming.instant(q("bad")) == pytest.approx(0.5, abs=0.05)


def test_conformance_no_data_is_none(conforming: MetricSource) -> None:
    assert conforming.instant(q("silent")) is None
    assert conforming.measure(q("silent"), 3, 0.01, lambda _: None) == [None, None, None]
    end = datetime.now(UTC).replace(microsecond=0)
    assert all(v is None for _, v in conforming.series(q("silent"), end - timedelta(seconds=4), end, 2))


def test_conformance_series_ends_now_in_order(conforming: MetricSource) -> None:
    end = datetime.now(UTC).replace(microsecond=0)
    points = conforming.series(q("bad"), end - timedelta(seconds=4), end, 2)
    stamps = [t for t, _ in points]
    assert points and stamps == sorted(stamps) and stamps[-1] == end
    assert all(end - timedelta(seconds=4) <= t <= end for t in stamps)
    assert points[-1][1] == pytest.approx(0.5, abs=0.05)


def test_conformance_measure_gives_count_values(conforming: MetricSource) -> None:
    values = conforming.measure(q("bad"), 2, 0.05, lambda _: None)
    assert len(values) == 2 and all(v == pytest.approx(0.5, abs=0.05) for v in values)
    assert conforming.measure(q("good"), 2, 0.05, lambda _: None) == [0.0, 0.0]


def test_conformance_describe_names_the_source(conforming: MetricSource) -> None:
    assert conforming.describe().startswith(conforming.name + " ")


# -- the file formats ----------------------------------------------------------------------------


def load(tmp_path: Path, text: str, name: str = "m.json") -> FileSource:
    (tmp_path / name).write_text(text)
    return FileSource.load(tmp_path / name, name)


def test_snapshot_stands_for_every_measurement_and_series_replays(tmp_path: Path) -> None:
    source = load(tmp_path, json.dumps({"models": {"m": {"error_rate": 0.01, "throughput": [1, 2, None, 4]}}}))
    assert source.measure(q("m"), 3, 60, lambda _: None) == [0.01] * 3
    assert source.measure(q("m", "throughput"), 3, 60, lambda _: None) == [2, None, 4]
    assert source.measure(q("m", "throughput"), 6, 60, lambda _: None) == [None, None, 1, 2, None, 4]


def test_series_is_replayed_as_if_it_ended_now(tmp_path: Path) -> None:
    source = load(tmp_path, json.dumps({"step": "30s", "models": {"m": {"error_rate": [0.1, 0.2, 0.3]}}}))
    points = source.series(q("m"), NOW - timedelta(hours=1), NOW, 30)
    assert points == [(NOW - timedelta(seconds=60), 0.1), (NOW - timedelta(seconds=30), 0.2), (NOW, 0.3)]
    assert source.series(q("m"), NOW - timedelta(seconds=30), NOW, 30) == points[1:]


def test_timestamps_are_sorted_and_keep_their_spacing(tmp_path: Path) -> None:
    series = [["2026-11-27T10:05:00Z", 3], ["2026-11-27T10:00:00Z", 1], [1795774080, 2]]  # 10:08 as Unix seconds
    source = load(tmp_path, json.dumps({"models": {"m": {"error_rate": series}}}))
    points = source.series(q("m"), NOW - timedelta(hours=1), NOW, 60)
    assert [(NOW - t).total_seconds() for t, _ in points] == [480, 180, 0]
    assert [v for _, v in points] == [1, 3, 2]


def test_versioned_entry_wins(tmp_path: Path) -> None:
    source = load(tmp_path, json.dumps({"models": {"m": {"error_rate": 0.01}, "m@2.0.0": {"error_rate": 0.3}}}))
    assert source.instant(MetricQuery("e", "m", "2.0.0", "error_rate", None)) == 0.3
    assert source.instant(MetricQuery("e", "m", "1.0.0", "error_rate", None)) == 0.01


def test_raw_queries_are_found_by_rule_name(tmp_path: Path) -> None:
    source = load(tmp_path, json.dumps({"models": {"m": {"gpu-hot": 91}}}))
    assert source.instant(MetricQuery("e", "m", None, None, "max(gpu)", name="gpu-hot")) == 91


def test_csv_snapshots_series_and_no_data(tmp_path: Path) -> None:
    text = ("model,metric,timestamp,value\nm,error_rate,,0.02\nm,throughput,,\n"
            "m,cpu_usage,2026-11-27T09:59:00Z,50\nm,cpu_usage,2026-11-27T10:00:00Z,\n")
    source = load(tmp_path, text, "m.csv")
    assert source.instant(q("m")) == 0.02
    assert source.instant(q("m", "throughput")) is None
    assert [v for _, v in source.series(q("m", "cpu_usage"), NOW - timedelta(hours=1), NOW, 60)] == [50, None]


def test_shipped_bad_day_is_the_same_in_json_and_csv() -> None:
    root = FIXTURE / "examples" / "metrics"
    as_json = FileSource.load(root / "bad-day.json", "bad-day.json")
    as_csv = FileSource.load(root / "bad-day.csv", "bad-day.csv")
    assert as_json.entries == as_csv.entries


@pytest.mark.parametrize(("name", "text", "message"), [
    ("m.json", "{", "m.json:1:2: not valid JSON"),
    ("m.json", "[]", 'm.json: expected a JSON object with a "models" object'),
    ("m.json", '{"format_version": 2, "models": {}}', "format_version 2 is not supported"),
    ("m.json", '{"models": {"m": {"error_rate": "high"}}}', 'm.json: models.m.error_rate: expected a number or null'),
    ("m.json", '{"models": {"m": {"error_rate": [["yesterday", 1]]}}}',
     "models.m.error_rate[0][0]: expected an RFC 3339 timestamp"),
    ("m.json", '{"models": {"m": {"error_rate": [[1, 2], 3]}}}', "mix of [timestamp, value] pairs and bare values"),
    ("m.json", '{"step": "soon", "models": {}}', "m.json: step:"),
    ("m.csv", "name,value\n", "m.csv:1: the header must name the columns model, metric, value (and timestamp for "
                              "series); missing model, metric"),
    ("m.csv", "model,metric,value\nm,error_rate,lots\n", "m.csv:2: value: not a number"),
    ("m.csv", "model,metric,value\nm,error_rate,1\nm,error_rate,2\n",
     "m.csv: lines 2, 3: several rows of one model and metric, not all with a timestamp"),
    ("m.csv", "model,metric,value\nm,error_rate,\"" + "x" * 200_000 + '"\n',
     "m.csv:2: not valid CSV (field larger than field limit (131072))"),
])
def test_bad_files_are_located_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(EngineError) as caught:
        load(tmp_path, text, name)
    assert message in caught.value.message


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"metrics file nowhere\.json does not exist"):
        FileSource.load(tmp_path / "nowhere.json", "nowhere.json")


def test_open_source_follows_the_environment_spec(tmp_path: Path) -> None:
    from modelops.config.spec.environment import MetricsSource

    (tmp_path / "m.json").write_text('{"models": {}}')
    spec = MetricsSource.model_validate({"source": "file", "path": "m.json"})
    assert open_source(tmp_path, "lab", spec).describe() == "file m.json"
    spec = MetricsSource.model_validate({"source": "prometheus", "url": "http://prom:9090", "timeout": "3s",
                                         "queries": {"throughput": "sum(x)"}})
    prom = open_source(tmp_path, "lab", spec)
    assert isinstance(prom, PrometheusSource) and prom.timeout_s == 3 and prom.overrides == {"throughput": "sum(x)"}
    # no url: the Prometheus the local runtime runs, at the address it writes while it runs
    local = open_source(tmp_path, "lab", MetricsSource.model_validate({"source": "prometheus"}))
    assert local.describe() == "prometheus (not running) (the local target's)"
    with pytest.raises(MetricError, match="the local target's Prometheus for lab is not running"):
        local.instant(MetricQuery("lab", "m", None, "throughput", None))


# -- where the file may be, and what an error about it may say ---------------------------------------------------

SECRET = "AKIAIOSFODNN7EXAMPLE-wJalrXUtnFEMI"


@pytest.mark.parametrize(("path", "reason"), [
    ("/etc/passwd", "it is an absolute path, outside the repository"),
    ("../../etc/passwd", "it leads outside the repository (through ..)"),
    ("m.csv", "it is a symbolic link to /etc/passwd, outside the repository"),
    ("zero.csv", "it is a symbolic link to /dev/zero, outside the repository"),
    ("pipe.csv", "it is not a regular file (a FIFO, device or directory)"),
    ("huge.csv", "it is 200 MiB, over the 16 MiB limit"),
])
def test_the_file_source_reads_only_regular_files_inside_the_repository(tmp_path: Path, path: str,
                                                                      reason: str) -> None:
    from modelops.config.spec.environment import MetricsSource

    (tmp_path / "m.csv").symlink_to("/etc/passwd")
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.csv")
    with (tmp_path / "huge.csv").open("wb") as handle:
        handle.truncate(200 << 20)
    spec = MetricsSource.model_validate({"source": "file", "path": path})
    with pytest.raises(EngineError) as caught:
        open_source(tmp_path, "lab", spec)
    assert caught.value.message == (f"metrics file {path} (spec.metrics.path of environment lab) cannot be read: "
                                    f"{reason}")
    assert caught.value.hint and "inside the repository" in caught.value.hint


@pytest.mark.parametrize(("name", "text", "message"), [
    ("m.csv", f"model,metric,value\nm,error_rate,0.1\nm,latency,{SECRET}\n", "m.csv:3: value: not a number"),
    ("m.csv", f"model,metric,timestamp,value\nm,error_rate,{SECRET},1\n",
     "m.csv:2: timestamp: expected an RFC 3339 timestamp or Unix seconds, got a string that is not one"),
    ("m.csv", f"{SECRET}=1\n", "m.csv:1: the header must name the columns model, metric, value"),
    ("m.json", json.dumps({"models": {"m": {"error_rate": SECRET}}}),
     "m.json: models.m.error_rate: expected a number or null (no data), got a string"),
    ("m.json", json.dumps({"models": {"m": {"error_rate": [[SECRET, 1]]}}}),
     "m.json: models.m.error_rate[0][0]: expected an RFC 3339 timestamp or Unix seconds, got a string that is not "
     "one"),
    ("m.json", json.dumps({"format_version": SECRET, "models": {}}),
     "m.json: format_version (a string) is not supported (expected 1)"),
    ("m.json", json.dumps({"step": SECRET, "models": {}}), "m.json: step: expected a duration such as 1m or 30s"),
    ("m.json", '{"models": {"m": {"error_rate": ' + SECRET + '}}}', "m.json:1:33: not valid JSON (Expecting value)"),
])
def test_a_mistake_is_located_without_quoting_the_file(tmp_path: Path, name: str, text: str, message: str) -> None:
    """A row of /proc/self/environ read by mistake would otherwise reach the terminal, a CI log or REPORT.md."""
    with pytest.raises(EngineError) as caught:
        load(tmp_path, text, name)
    assert caught.value.message.startswith(message)
    assert SECRET not in caught.value.message and SECRET not in (caught.value.hint or "")
    assert "AKIA" not in caught.value.message


def test_a_file_named_on_the_command_line_may_be_anywhere_but_must_be_a_regular_file(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"  # --metrics: the person at the keyboard chose it
    outside.write_text('{"models": {"m": {"error_rate": 0.5}}}')
    assert FileSource.load(outside, "elsewhere.json").instant(q("m")) == 0.5
    with pytest.raises(EngineError, match=r"^metrics file /dev/zero cannot be read: it is not a regular file"):
        FileSource.load(Path("/dev/zero"), "/dev/zero")
    with pytest.raises(EngineError, match=r"^bad\.json:1:3: not UTF-8 text$"):
        (tmp_path / "bad.json").write_bytes(b'{"\xff')
        FileSource.load(tmp_path / "bad.json", "bad.json")

"""Usage history files (CSV and JSON): what they hold, no data, and a located error for every mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from modelops.base.errors import EngineError
from modelops.sources.usage import FIELDS, default_file, load_usage, parse_usage

from tests.support.repo import ROOT

CSV = """timestamp,model,requests_per_s,latency_s,cpu_percent,memory_percent,gpu_percent,replicas
2026-11-02T10:00:00Z,sentiment,41.5,0.31,55.2,61,70.4,3
2026-11-02T09:00:00Z,sentiment,38,0.3,50,61,,3
2026-11-02T09:00:00Z,fraud-detector,200,,60,40,,5
"""


def csv(text: str) -> object:
    return parse_usage(text, "usage.csv", json_format=False)


def json_(text: str) -> object:
    return parse_usage(text, "usage.json", json_format=True)


def error(parse: object, text: str) -> str:
    with pytest.raises(EngineError) as caught:
        parse(text)  # type: ignore[operator]
    return caught.value.message


def test_csv_rows_become_ordered_samples_per_model() -> None:
    usage = parse_usage(CSV, "usage.csv", json_format=False)
    assert usage.source == "file usage.csv"
    assert list(usage.models) == ["fraud-detector", "sentiment"]
    first, second = usage.of("sentiment")
    assert first.at == datetime(2026, 11, 2, 9, tzinfo=UTC) and second.at.hour == 10  # sorted by time
    assert (second.requests_per_s, second.latency_s, second.cpu_percent, second.gpu_percent, second.replicas) == \
        (41.5, 0.31, 55.2, 70.4, 3.0)
    assert first.gpu_percent is None  # an empty cell is no data, never 0
    assert usage.of("fraud-detector")[0].latency_s is None
    assert usage.of("nobody") == ()


def test_only_the_required_columns_are_needed() -> None:
    usage = parse_usage("model,timestamp,requests_per_s\nm,1793613600,2.5\n", "u.csv", json_format=False)
    (sample,) = usage.of("m")
    assert sample.at == datetime(2026, 11, 2, 10, tzinfo=UTC)  # Unix seconds work too
    assert sample.requests_per_s == 2.5 and sample.cpu_percent is None and sample.replicas is None


def test_json_holds_the_same_fields() -> None:
    text = ('{"format_version": 1, "models": {"sentiment": [\n'
            '  {"timestamp": "2026-11-02T09:00:00+01:00", "requests_per_s": 38, "gpu_percent": null},\n'
            '  {"timestamp": 1793613600, "requests_per_s": 41.5, "replicas": 3}\n]}}')
    usage = parse_usage(text, "usage.json", json_format=True)
    first, second = usage.of("sentiment")
    assert first.at == datetime(2026, 11, 2, 8, tzinfo=UTC)  # the offset is honoured
    assert (first.requests_per_s, first.gpu_percent, second.replicas) == (38.0, None, 3.0)


def test_the_shipped_examples_load() -> None:
    production = load_usage(ROOT / "environments/production/usage.csv", "usage.csv")
    assert set(production.models) == {"breast-cancer", "iris"}
    assert all(len(samples) == 42 * 24 for samples in production.models.values())  # six weeks, hourly
    staging = load_usage(ROOT / "environments/staging/usage.json", "usage.json")
    assert set(staging.models) == {"breast-cancer", "iris"}


def test_the_example_generator_is_deterministic(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "examples/usage/generate.py"), str(tmp_path)], check=True, timeout=60)
    for example in ("environments/production/usage.csv", "environments/staging/usage.json"):
        assert (tmp_path / example).read_bytes() == (ROOT / example).read_bytes()


@pytest.mark.parametrize(("text", "message"), [
    ("timestamp,model,cpu_percnt\n", "usage.csv:1: column 3 of the header is not a known column (did you mean "
                                     "\"cpu_percent\"?)"),
    ("timestamp,model,cpu_percent\n", "usage.csv:1: the header must name the columns timestamp, model, "
                                      "requests_per_s; missing requests_per_s"),
    ("", "usage.csv:1: the header must name the columns timestamp, model, requests_per_s; missing timestamp, "
         "model, requests_per_s"),
    ("timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,m,1\n2026-11-02T10:00:00Z,m,1,2\n",
     "usage.csv:3: 4 cells, but the header names 3 columns"),
    ("timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,m,fast\n",
     "usage.csv:2: requests_per_s: not a number (leave it empty for no data)"),
    ("timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,m,-1\n",
     "usage.csv:2: requests_per_s: requests per second, mean over the step can not be negative"),
    ("timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,m,nan\n",
     "usage.csv:2: requests_per_s: expected a number or no data, got a number that is not finite"),
    ("timestamp,model,requests_per_s\n2026-11-02 09:00,m,1\n",
     'usage.csv:2: timestamp: the timestamp has no time zone: add "Z" for UTC'),
    ("timestamp,model,requests_per_s\nyesterday,m,1\n",
     "usage.csv:2: timestamp: expected an RFC 3339 timestamp (2026-11-02T10:00:00Z) or Unix seconds, got a string "
     "that is neither"),
    ("timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,,1\n", "usage.csv:2: the model must not be empty"),
    ("timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,m,1\n2026-11-02T10:00:00+01:00,m,2\n",
     "usage.csv:3: a second sample of the same model at the same time (the first is at usage.csv:2)"),
])
def test_csv_mistakes_are_located(text: str, message: str) -> None:
    assert error(csv, text) == message


@pytest.mark.parametrize(("text", "message"), [
    ('{"models": {', "usage.json:1:13: not valid JSON (Expecting property name enclosed in double quotes)"),
    ('[]', 'usage.json: expected a JSON object with a "models" object'),
    ('{"format_version": 2, "models": {}}', "usage.json: format_version 2 is not supported (expected 1)"),
    ('{"models": {"m": {}}}', "usage.json: models.m: expected a list of samples"),
    ('{"models": {"m": [3]}}', 'usage.json: models.m[0]: expected an object such as {"timestamp": '
                               '"2026-11-02T10:00:00Z", "requests_per_s": 41.5}'),
    ('{"models": {"m": [{"requests_per_s": 1}]}}', "usage.json: models.m[0]: the sample has no timestamp"),
    ('{"models": {"m": [{"timestamp": 0, "request_per_s": 1}]}}',
     "usage.json: models.m[0]: unknown field 'request_per_s' (did you mean \"requests_per_s\"?)"),
    ('{"models": {"m": [{"timestamp": 0, "requests_per_s": "1"}]}}',
     "usage.json: models.m[0].requests_per_s: expected a number or no data, got a string"),
    ('{"models": {"m": [{"timestamp": 0, "replicas": true}]}}',
     "usage.json: models.m[0].replicas: expected a number or no data, got a boolean"),
])
def test_json_mistakes_are_located(text: str, message: str) -> None:
    assert error(json_, text) == message


def test_files_that_can_not_be_read(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"usage file gone\.csv does not exist"):
        load_usage(tmp_path / "gone.csv", "gone.csv")
    (tmp_path / "latin.csv").write_bytes(b"timestamp,model,requests_per_s\nab\xe9")
    with pytest.raises(EngineError, match=r"^latin\.csv:2:3: not UTF-8 text$"):
        load_usage(tmp_path / "latin.csv", "latin.csv")


def test_the_environment_keeps_its_usage_beside_its_state(tmp_path: Path) -> None:
    assert default_file(tmp_path, "production") is None
    path = tmp_path / "environments/production/usage.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"models": {}}')
    assert default_file(tmp_path, "production") == "environments/production/usage.json"
    (path.parent / "usage.csv").write_text("timestamp,model,requests_per_s\n")
    assert default_file(tmp_path, "production") == "environments/production/usage.csv"  # CSV first


def test_every_field_is_documented() -> None:
    doc = (ROOT / "docs/capacity.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in doc for name in ("timestamp", "model", *FIELDS))


SECRET = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"


@pytest.mark.parametrize(("text", "message"), [
    (f"timestamp,model,requests_per_s\n2026-11-02T09:00:00Z,m,{SECRET}\n",
     "usage.csv:2: requests_per_s: not a number"),
    (f"timestamp,model,requests_per_s\n{SECRET},m,1\n", "usage.csv:2: timestamp: expected an RFC 3339 timestamp"),
    (f"timestamp,model,{SECRET}\n", "usage.csv:1: column 3 of the header is not a known column"),
    (f"{SECRET}\n", "usage.csv:1: column 1 of the header is not a known column"),
])
def test_a_csv_mistake_never_quotes_the_file(text: str, message: str) -> None:
    shown = error(csv, text)
    assert shown.startswith(message) and SECRET not in shown and "ghp_" not in shown


def test_the_environment_file_is_read_inside_the_repository_only(tmp_path: Path) -> None:
    from modelops.sources.usage import load_repository_usage

    folder = tmp_path / "environments/production"
    folder.mkdir(parents=True)
    (folder / "usage.csv").symlink_to("/etc/passwd")
    assert default_file(tmp_path, "production") == "environments/production/usage.csv"
    with pytest.raises(EngineError, match=r"^usage file environments/production/usage\.csv cannot be read: it is a "
                                          r"symbolic link to /etc/passwd, outside the repository$"):
        load_repository_usage(tmp_path, "environments/production/usage.csv")
    (folder / "usage.csv").unlink()
    os.mkfifo(folder / "usage.csv")  # found (not skipped as "no usage file"), and refused without waiting
    assert default_file(tmp_path, "production") == "environments/production/usage.csv"
    with pytest.raises(EngineError, match=r"it is not a regular file"):
        load_repository_usage(tmp_path, "environments/production/usage.csv")

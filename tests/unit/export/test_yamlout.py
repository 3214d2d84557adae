"""The emitter quotes whatever a YAML 1.1 reader (Go) could mistake, keeps key order, round-trips."""

from __future__ import annotations

import pytest
from modelops.export.yamlout import dump, dump_all, header, marker, number, scalar
from ruamel.yaml import YAML


@pytest.mark.parametrize("text", ["yes", "no", "on", "off", "y", "true", "null", "~", "1.4.2", "0o17", "1e3", "010",
                                  "", " lead", "trail ", "a: b", "#x", "x #y", "@a", "-", "*a", "!x", "{a}", "'q'",
                                  "1:30", "0x1F", ".inf", "-.nan"])
def test_ambiguous_strings_are_quoted_and_read_back_as_strings(text: str) -> None:
    out = scalar(text)
    assert out[0] in "'\"", out
    assert YAML(typ="safe", pure=True).load(f"k: {out}\n")["k"] == text


@pytest.mark.parametrize("text", ["warning", "5m", "1h30m", "https://x.example/a", "app.kubernetes.io/name", "/health",
                                  "high latency (p95)"])
def test_plain_when_safe(text: str) -> None:
    assert scalar(text) == text


def test_numbers_booleans_and_special_strings() -> None:
    assert (number(2.0), number(0.5), number(1e-7)) == ("2", "0.5", "1e-07")
    assert (scalar(True), scalar(None), scalar(3)) == ("true", "null", "3")
    assert scalar("it's") == '"it\'s"'
    assert scalar("a\nb") == '"a\\nb"'


def test_block_output_keeps_order_and_round_trips() -> None:
    value = {"z": 1, "a": [{"b": "c", "d": []}, [1, 2]], "e": {}, "f": {"g": 'x{y="1"}'}}
    text = dump(value)
    assert text.index("z:") < text.index("a:")
    assert YAML(typ="safe", pure=True).load(text) == value
    assert dump(value) == text
    assert list(YAML(typ="safe", pure=True).load_all(dump_all([{"a": 1}, {"b": 2}]))) == [{"a": 1}, {"b": 2}]


def test_header_carries_the_marker_and_says_generated_do_not_edit() -> None:
    line = header("prometheus", "production")
    assert marker("prometheus", "production") in line
    assert "generated" in line and "do not edit" in line and line.startswith("# ")

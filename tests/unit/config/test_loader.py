from __future__ import annotations

import math
import time

import pytest
from modelops.config import loader
from modelops.config.loader import Limits, load_text, resolve_plain, source_map


def load(text: str | bytes, limits: Limits = loader.DEFAULT_LIMITS) -> loader.SourceFile:
    return load_text("f.yaml", text.encode() if isinstance(text, str) else text, limits)


def codes(source: loader.SourceFile) -> list[tuple[str, int | None, int | None]]:
    return [(d.code, d.line, d.column) for d in source.diagnostics]


@pytest.mark.parametrize(("text", "value"), [
    ("~", None), ("null", None), ("", None), ("true", True), ("False", False), ("yes", "yes"), ("on", "on"),
    ("12", 12), ("-3", -3), ("0o17", 15), ("0x1F", 31), ("1.5", 1.5), ("1e3", 1000.0), (".inf", math.inf),
    ("1.4.2", "1.4.2"), ("2026-12-20T00:00:00Z", "2026-12-20T00:00:00Z"), ("0.6.3", "0.6.3"), ("+12", 12),
])
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    assert resolve_plain(text) == value


def test_quoted_scalars_stay_strings_and_documents_are_split() -> None:
    source = load("a: '12'\nb: \"true\"\nc: 12\n---\nd: [1, x]\n")
    assert [d.data for d in source.documents] == [{"a": "12", "b": "true", "c": 12}, {"d": [1, "x"]}]
    assert [d.index for d in source.documents] == [0, 1]
    assert [d.line for d in source.documents] == [1, 4]


def test_aliases_share_values_within_budget() -> None:
    source = load("base: &b {cpu: 1}\nother: *b\n")
    assert source.documents[0].data == {"base": {"cpu": 1}, "other": {"cpu": 1}}
    assert source.diagnostics == ()


def test_source_map_points_at_keys_and_values() -> None:
    text = "a: 1\nspec:\n  scaling: gpu\n  tests:\n    - name: smoke\n"
    positions = source_map("f.yaml", text)
    assert positions.locate(0, "/spec/scaling") == loader.Span(3, 12, 3, 15)
    assert positions.locate(0, "/spec/scaling", at_key=True).column == 3
    assert positions.locate(0, "/spec/tests/0/name").line == 5
    # a pointer that does not exist falls back to its nearest ancestor
    assert positions.locate(0, "/spec/tests/0/missing").line == 5
    assert positions.locate(0, "/spec/nothing/here", at_key=True).line == 2


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 1\na: 2\n", [("MO003", 2, 1)]),
    ("a: !!str 1\n", [("MO004", 1, 4)]),
    ("a: !include other.yaml\n", [("MO004", 1, 4)]),
    ("a:\n\tb: 1\n", [("MO002", 2, 1)]),
    ("a: [1,\n", [("MO001", 2, 1)]),
    ("- 1\n- 2\n", [("MO008", 1, 1)]),
    ("just text\n", [("MO008", 1, 1)]),
    ("a: 1\n<<<<<<< HEAD\nb: 2\n=======\nb: 3\n>>>>>>> main\n", [("MO005", 2, 1)]),
    ("? [a, b]\n: 1\n", [("MO015", 1, 3)]),
    ("a: &x [*x]\n", [("MO001", 1, 8)]),
    ("a: *nothing\n", [("MO001", 1, 4)]),
    ("%YAML 1.1\n---\na: yes\n", [("MO016", 2, 1)]),
    ("a: " + "9" * 5000 + "\n", [("MO012", 1, 4)]),
    ("a: 0x" + "f" * 5000 + "\n", [("MO012", 1, 4)]),
    ("a: 0o" + "7" * 5000 + "\n", [("MO012", 1, 4)]),
    ("a: 1" + "0" * 5000 + ".5\n", [("MO012", 1, 4)]),
    ("a: " + "9" * 101 + "\n", [("MO012", 1, 4)]),
])
def test_refusals_are_located(text: str, expected: list[tuple[str, int, int]]) -> None:
    source = load(text)
    assert codes(source) == expected
    assert source.documents == ()


def test_yaml_1_2_directive_and_numbers_up_to_the_limit_are_read() -> None:
    assert load("%YAML 1.2\n---\na: 017\n").documents[0].data == {"a": 17}
    assert load("a: " + "9" * 100 + "\n").documents[0].data == {"a": int("9" * 100)}


def test_messages_name_what_the_user_wrote() -> None:
    tag = load("a: !!python/object/apply:os.system [id]\n").diagnostics[0]
    assert tag.message == 'YAML tag "!!python/object/apply:os.system" is not allowed'
    third = load("a: 1\nb: 2\na: 3\na: 4\n").diagnostics
    assert [(d.line, d.hint) for d in third] == [(3, "the first one is on line 1; YAML keeps only one of them"),
                                                 (4, "the first one is on line 1; YAML keeps only one of them")]
    long = load("a: 0x" + "f" * 5000 + "\n").diagnostics[0]
    assert long.message == "number of 5002 characters is too long (the limit is 100)"
    assert load("%YAML 1.1\n---\na: yes\n").diagnostics[0].message == (
        "the file declares YAML 1.1; modelops reads YAML 1.2")
    assert load(b"a: \x00\n").diagnostics[0].hint



def test_messages_quote_file_content_only_in_part() -> None:
    scalar = load("root:x:0:0:root:/root:/bin/bash " * 200 + "\n").diagnostics[0]
    assert scalar.code == "MO008" and len(scalar.message) < 150 and scalar.message.count("root:x") == 2
    key = load(f"{'k' * 1000}: 1\n{'k' * 1000}: 2\n").diagnostics[0]
    assert key.code == "MO003" and len(key.message) < 100


def test_encoding_problems_are_located() -> None:
    assert codes(load("a: caf\xe9\n".encode("latin-1"))) == [("MO006", 1, 7)]
    assert codes(load("a: b\n".encode("utf-16"))) == [("MO006", 1, 1)]
    assert codes(load(b"a: b\nc: \x00\n")) == [("MO007", 2, 4)]
    assert load("\ufeffa: 1\n".encode()).documents[0].data == {"a": 1}


def test_empty_files_and_documents_are_warnings() -> None:
    assert [(d.code, d.severity.value) for d in load("").diagnostics] == [("MO013", "warning")]
    assert [d.code for d in load("# only a comment\n").diagnostics] == ["MO013"]
    source = load("a: 1\n---\n---\nb: 2\n")
    assert [d.code for d in source.diagnostics] == ["MO013"]
    assert [d.data for d in source.documents] == [{"a": 1}, {"b": 2}]


def test_size_limits() -> None:
    small = Limits(max_file_bytes=100, max_scalar_chars=10)
    assert codes(load("a: " + "x" * 200, small)) == [("MO011", 1, 1)]
    assert codes(load("a: " + "x" * 20, small)) == [("MO012", 1, 4)]


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    source = load("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 2.0  # a guard against hangs, not a benchmark
    assert [d.code for d in source.diagnostics] == ["MO009"]


@pytest.mark.parametrize("text", ["a: " + "[" * 50_000 + "]" * 50_000 + "\n",
                                  "".join("  " * i + f"k{i}:\n" for i in range(300))])
def test_deep_nesting_is_refused_without_recursion_error(text: str) -> None:
    started = time.perf_counter()
    source = load(text)
    assert time.perf_counter() - started < 2.0
    assert [d.code for d in source.diagnostics] == ["MO010"]


SAMPLES = [
    "a: 1\nb: [x, 'y', \"z\"]\nc: {d: ~, e: .nan}\n",
    "a: &x {k: v}\nb: *x\n---\nlist: [1, 2.5, -3, 0x10]\n",
    "a: |\n  multi\n  line\nb: >\n  folded\n  text\n",
    "a: 1\na: 2\n",
    "a: !!str 1\n",
    "a: [1,\n",
    "a: 1\n...\n%YAML 1.1\n---\nb: 2\n",
]


@pytest.mark.skipif(loader._CParser is None, reason="ruamel.yaml.clib is not installed")
@pytest.mark.parametrize("text", SAMPLES)
def test_libyaml_and_pure_python_parsers_agree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = load(text)
    monkeypatch.setattr(loader, "_CParser", None)
    slow = load(text)
    assert [d.data for d in fast.documents] == [d.data for d in slow.documents]
    assert codes(fast) == codes(slow)

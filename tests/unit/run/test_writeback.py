from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from modelops.base.errors import EngineError
from modelops.config.loader import load_text
from modelops.run.writeback import guess_indent, prepare_model_edit
from ruamel.yaml import YAML

from tests.support.repo import FIXTURE, ROOT

SENTIMENT = "environments/production/models/sentiment.yaml"


def update_model(root: Path, rel: str, name: str, changes: list[tuple[str, Any, Any]],
                 verify: Callable[[str], str | None]) -> None:
    prepare_model_edit(root, rel, name, changes, verify).write()


@pytest.mark.parametrize(("text", "indent"), [
    ("a:\n  b: 1\nc:\n  - x\n", (2, 4, 2)),
    ("a:\n    b: 1\nc:\n- x\n", (4, 2, 0)),
    ("a:\n   b:\n      c: 1\n", (3, 5, 3)),
    ("a: 1\n", (2, 4, 2)),
])
def test_indentation_is_measured(text: str, indent: tuple[int, int, int]) -> None:
    assert guess_indent(text) == indent


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_only_the_edited_scalars_change(tmp_path: Path) -> None:
    (tmp_path / SENTIMENT).parent.mkdir(parents=True)
    original = (FIXTURE / SENTIMENT).read_text()
    (tmp_path / SENTIMENT).write_text("# owned by the nlp team\n" + original)
    changes = [("version", "1.4.2", "1.3.0"),
               ("artifact.uri", "s3://models/sentiment/1.4.2/model.tar.gz", "s3://models/sentiment/1.3.0/model.tar.gz"),
               ("serving.port", 8000, 8001)]
    update_model(tmp_path, SENTIMENT, "sentiment", changes, lambda _: None)
    after = (tmp_path / SENTIMENT).read_text()
    assert sorted(changed_lines("# owned by the nlp team\n" + original, after)) == sorted([
        "-  version: 1.4.2", '-    uri: "s3://models/sentiment/1.4.2/model.tar.gz"', "-    port: 8000",
        "+  version: 1.3.0", '+    uri: "s3://models/sentiment/1.3.0/model.tar.gz"', "+    port: 8001",
    ])  # comments, flow mappings, double quotes and key order are untouched


def test_keys_are_added_and_removed_in_place(tmp_path: Path) -> None:
    rel = "environments/staging/models/m.yaml"
    (tmp_path / rel).parent.mkdir(parents=True)
    text = ("apiVersion: modelops.dev/v1\nkind: Model\nmetadata:\n  name: m  # the model\nspec:\n  version: 1.0.0\n"
            "  artifact:\n    uri: s3://a\n    sha256: 'abc'\n")
    (tmp_path / rel).write_text(text)
    update_model(tmp_path, rel, "m", [("artifact.sha256", "abc", None), ("serving.replicas", None, 2)], lambda _: None)
    assert (tmp_path / rel).read_text() == (
        "apiVersion: modelops.dev/v1\nkind: Model\nmetadata:\n  name: m  # the model\nspec:\n  version: 1.0.0\n"
        "  artifact:\n    uri: s3://a\n  serving:\n    replicas: 2\n")


def test_a_file_ruamel_would_reformat_is_left_alone_when_keys_must_be_added(tmp_path: Path) -> None:
    rel = "environments/staging/models/m.yaml"
    (tmp_path / rel).parent.mkdir(parents=True)
    odd = "kind: Model\nmetadata: {name: m}\nspec:\n  version:    1.0.0\n  tests: [ {name: a} ,  {name: b} ]\n"
    (tmp_path / rel).write_text(odd)
    with pytest.raises(EngineError, match="cannot be edited without reformatting it"):
        update_model(tmp_path, rel, "m", [("version", "1.0.0", "1.1.0"), ("serving.replicas", None, 2)],
                     lambda _: None)
    assert (tmp_path / rel).read_text() == odd
    update_model(tmp_path, rel, "m", [("version", "1.0.0", "1.1.0")], lambda _: None)  # a scalar swap: spliced
    assert (tmp_path / rel).read_text() == odd.replace("1.0.0", "1.1.0")


LAYOUTS = {
    "yamllint's leading ---": "---\nkind: Model\nmetadata:\n  name: m\nspec:\n  version: 1.0.0\n",
    "a comment, then ---": "# owned by nlp\n---\nkind: Model\nmetadata: {name: m}\nspec:\n  version: '1.0.0'\n",
    "prettier's flow style": 'kind: Model\nmetadata: { name: m }\nspec: { version: "1.0.0", port:  8000 }\n',
    "CRLF line ends": "kind: Model\r\nmetadata:\r\n  name: m\r\nspec:\r\n  version: 1.0.0  # pinned\r\n",
    "aligned values": "kind:       Model\nmetadata:\n  name:     m\nspec:\n  version:  1.0.0\n",
    "two documents": "kind: Other\nspec: {version: 1.0.0}\n---\nkind: Model\nmetadata: {name: m}\nspec:\n"
                     "  version: 1.0.0\n",
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_common_layouts_keep_every_byte_but_the_value(tmp_path: Path, layout: str) -> None:
    rel = "m.yaml"
    text = LAYOUTS[layout]
    (tmp_path / rel).write_bytes(text.encode())
    update_model(tmp_path, rel, "m", [("version", "1.0.0", "1.0.1")], lambda _: None)
    model_at = text.index("kind: Model") if "kind: Other" in text else 0
    assert (tmp_path / rel).read_bytes() == (text[:model_at] + text[model_at:].replace("1.0.0", "1.0.1")).encode()


def test_a_plain_value_that_would_read_as_a_number_is_quoted(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("kind: Model\nmetadata: {name: m}\nspec:\n  version: v1\n  replicas: 2\n")
    update_model(tmp_path, "m.yaml", "m", [("version", "v1", "2.0"), ("replicas", 2, 3)], lambda _: None)
    assert (tmp_path / "m.yaml").read_text() == ('kind: Model\nmetadata: {name: m}\nspec:\n  version: "2.0"\n'
                                                 "  replicas: 3\n")


PLAIN_URIS = {
    "s3": ("s3://models/recommender/2.8.0/model.mar", "s3://models/recommender/2.7.1/model.mar"),
    "https": ("https://models.example.com:8443/recommender/2.8.0/model.mar?sig=a&v=2",
              "https://models.example.com:8443/recommender/2.7.1/model.mar?sig=a&v=2"),
}


@pytest.mark.parametrize("scheme", PLAIN_URIS)
def test_a_plain_uri_stays_plain(tmp_path: Path, scheme: str) -> None:
    old, new = PLAIN_URIS[scheme]
    text = (f"kind: Model\nmetadata: {{name: m}}\nspec:\n  version: 2.8.0\n  artifact:\n"
            f"    uri: {old}  # artifact\n    sha256: abc\n")
    (tmp_path / "m.yaml").write_bytes(text.encode())
    update_model(tmp_path, "m.yaml", "m", [("version", "2.8.0", "2.7.1"), ("artifact.uri", old, new)], lambda _: None)
    after = (tmp_path / "m.yaml").read_bytes()
    assert after == text.replace("2.8.0", "2.7.1").encode()  # no quotes added, the comment where it was
    assert YAML(typ="rt").load(after)["spec"]["artifact"]["uri"] == new
    assert load_text("m.yaml", after).documents[0].data["spec"]["artifact"]["uri"] == new


@pytest.mark.parametrize(("new", "written"), [
    ("s3://a/b: c", '"s3://a/b: c"'),  # `: ` would start a mapping
    ("s3://a/b:", '"s3://a/b:"'),  # a trailing `:` too
    ("s3://a/b #1", '"s3://a/b #1"'),  # ` #` would start a comment
    ("@s3://a", '"@s3://a"'),  # `@` is reserved to start a scalar
    ("1:30", '"1:30"'),  # a YAML 1.1 reader sees 90
    (".5", '".5"'),
    ("s3://a#b", "s3://a#b"),  # `#` not after a space is text
])
def test_a_plain_value_is_quoted_only_when_yaml_would_read_it_differently(tmp_path: Path, new: str,
                                                                           written: str) -> None:
    text = "kind: Model\nmetadata: {name: m}\nspec:\n  artifact:\n    uri: s3://old  # artifact\n"
    (tmp_path / "m.yaml").write_text(text)
    update_model(tmp_path, "m.yaml", "m", [("artifact.uri", "s3://old", new)], lambda _: None)
    after = (tmp_path / "m.yaml").read_text()
    assert after == text.replace("s3://old", written)
    assert YAML(typ="rt").load(after)["spec"]["artifact"]["uri"] == new
    assert load_text("m.yaml", after.encode()).documents[0].data["spec"]["artifact"]["uri"] == new


def test_a_uri_in_a_flow_mapping_is_quoted_as_libyaml_refuses_a_colon_there(tmp_path: Path) -> None:
    text = "kind: Model\nmetadata: {name: m}\nspec:\n  artifact: {uri: old, sha256: abc}\n"
    (tmp_path / "m.yaml").write_text(text)
    update_model(tmp_path, "m.yaml", "m", [("artifact.uri", "old", "s3://a/b")], lambda _: None)
    after = (tmp_path / "m.yaml").read_text()
    assert after == text.replace("uri: old", 'uri: "s3://a/b"')
    assert load_text("m.yaml", after.encode()).documents[0].data["spec"]["artifact"]["uri"] == "s3://a/b"


def test_a_prepared_edit_is_not_written_over_a_file_that_changed(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("kind: Model\nmetadata: {name: m}\nspec:\n  version: 1.0.0\n")
    edit = prepare_model_edit(tmp_path, "m.yaml", "m", [("version", "1.0.0", "1.1.0")], lambda _: None)
    assert (tmp_path / "m.yaml").read_text().endswith("version: 1.0.0\n")  # nothing written yet
    edit.write()
    assert (tmp_path / "m.yaml").read_text().endswith("version: 1.1.0\n")
    edit.undo()
    assert (tmp_path / "m.yaml").read_text().endswith("version: 1.0.0\n")
    (tmp_path / "m.yaml").write_text("kind: Model\nmetadata: {name: m}\nspec:\n  version: 1.0.5\n")
    with pytest.raises(EngineError, match=r"m\.yaml changed while modelops was editing it"):
        edit.write()
    assert (tmp_path / "m.yaml").read_text().endswith("version: 1.0.5\n")


def test_a_failed_verification_leaves_the_file_unchanged(tmp_path: Path) -> None:
    (tmp_path / SENTIMENT).parent.mkdir(parents=True)
    original = (FIXTURE / SENTIMENT).read_text()
    (tmp_path / SENTIMENT).write_text(original)
    with pytest.raises(EngineError, match="would not give the intended model: nope"):
        update_model(tmp_path, SENTIMENT, "sentiment", [("version", "1.4.2", "9.9.9")], lambda _: "nope")
    assert (tmp_path / SENTIMENT).read_text() == original


def test_every_example_file_round_trips_byte_for_byte(tmp_path: Path) -> None:
    for path in sorted(ROOT.glob("environments/*/models/*.yaml")):
        rel = path.relative_to(ROOT).as_posix()
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(path.read_text())
        name = path.stem
        update_model(tmp_path, rel, name, [], lambda _: None)
        assert (tmp_path / rel).read_text() == path.read_text(), rel

from __future__ import annotations

import re

import pytest
from modelops.base.diagnostics import CODES, dotted, error, pointer, pointer_parts, suggestion

from tests.support.repo import ROOT


def test_every_code_is_documented_once() -> None:
    documented = re.findall(r"^\| (MO\d{3}) \|", (ROOT / "docs/diagnostics.md").read_text(), re.MULTILINE)
    assert sorted(documented) == sorted(CODES)


def test_pointers_escape_and_read_back() -> None:
    ptr = pointer("spec", "channels", "a/b~c", 0)
    assert ptr == "/spec/channels/a~1b~0c/0"
    assert pointer_parts(ptr) == ["spec", "channels", "a/b~c", "0"]
    assert dotted("/spec/tests/0/name") == "spec.tests[0].name"


def test_unknown_codes_cannot_be_emitted() -> None:
    with pytest.raises(ValueError, match="unknown diagnostic code"):
        error("MO999", "x")


def test_suggestions() -> None:
    assert suggestion("gpu-standrad", ["gpu-standard", "cpu-burst"]) == ' (did you mean "gpu-standard"?)'
    assert suggestion("zzz", ["gpu-standard"]) == ""

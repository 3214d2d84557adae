"""The package's imports point one way: down the layers of docs/architecture.md, with no cycles.

The checker reads the source of every module (function-level imports and `TYPE_CHECKING` blocks count). The
last tests plant a forbidden import and a cycle in a copy of the real package and show that the checker
catches both, so a rule that stopped biting would fail here.
"""

from __future__ import annotations

import ast
import re

from tests.support.architecture import LAYERS, PACKAGE, cycles, imports, read_package, violations, wing
from tests.support.repo import ROOT

SOURCES = read_package(ROOT / "engine")


def test_every_import_points_down_the_layers() -> None:
    found = violations(imports(SOURCES))
    assert not found, "\n".join(map(str, found))


def test_no_modules_import_each_other() -> None:
    assert cycles(imports(SOURCES)) == []


def test_the_package_root_holds_only_the_hub_and_the_entry_points() -> None:
    modules = {name for name in SOURCES if name.count(".") == 1} - {f"{PACKAGE}.{folder}" for folder in _folders()}
    assert modules == {f"{PACKAGE}.__main__", f"{PACKAGE}.workspace"}


def test_every_wing_is_a_folder_whose_init_only_says_what_it_owns() -> None:
    assert _folders() == {w for layer in LAYERS for w in layer} - {"workspace"}
    for name in _folders():
        body = ast.parse(SOURCES[f"{PACKAGE}.{name}"]).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), f"{name}/__init__.py holds more than its docstring"
        says = str(ast.get_docstring(ast.Module(body, []))).lower()
        assert "import" in says, f"{name}/__init__.py does not say what it may import"


def test_the_architecture_page_shows_these_layers() -> None:
    page = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \|", page, re.MULTILINE)
    shown = [(int(rank), sorted(re.findall(r"`(\w+)`", wings))) for rank, wings in rows]
    assert sorted(shown) == [(rank, sorted(layer)) for rank, layer in enumerate(LAYERS)]


def test_a_planted_forbidden_import_is_caught() -> None:
    planted = dict(SOURCES)
    planted["modelops.core.diff"] += "\n\ndef later():\n    from modelops.drivers.local import LocalDriver\n"
    planted["modelops.validate.schema"] += "\nfrom modelops.state.store import read_state\n"
    planted["modelops.export.prometheus"] += "\nif TYPE_CHECKING:\n    from modelops.run.executor import Executor\n"
    planted["modelops.ops.monitor"] += "\nimport modelops.cli.views.monitor\n"
    found = {(v.importer, v.imported) for v in violations(imports(planted))}
    assert found == {("modelops.core.diff", "modelops.drivers"), ("modelops.core.diff", "modelops.drivers.local"),
                     ("modelops.validate.schema", "modelops.state.store"),
                     ("modelops.export.prometheus", "modelops.run"),
                     ("modelops.export.prometheus", "modelops.run.executor"),
                     ("modelops.ops.monitor", "modelops.cli"), ("modelops.ops.monitor", "modelops.cli.views"),
                     ("modelops.ops.monitor", "modelops.cli.views.monitor")}


def test_a_planted_cycle_is_caught() -> None:
    planted = dict(SOURCES)
    planted["modelops.base.clock"] += "\n\ndef later():\n    from modelops.base.perf import bulk_load\n"
    planted["modelops.base.perf"] += "\nfrom modelops.base import clock\n"
    assert cycles(imports(planted)) == [["modelops.base.clock", "modelops.base.perf"]]


def _folders() -> set[str]:
    """The wings that are folders of the package."""
    return {wing(name) for name in SOURCES if name.count(".") >= 2}

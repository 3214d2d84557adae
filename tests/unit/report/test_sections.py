"""The section registry: a section appears only with data, and a new one needs no change elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import DictLoader, PackageLoader
from jinja2.loaders import ChoiceLoader
from modelops.report.context import ReportContext
from modelops.report.render import jinja, render_report, tidy
from modelops.report.section import Section
from modelops.report.sections import models
from modelops.report.write import SECTIONS
from modelops.workspace import Workspace

from tests.support.repo import copy_example


def _context(tmp_path: Path) -> ReportContext:
    ws = Workspace.load(copy_example(tmp_path / "ops"))
    return ReportContext(ws.root, ws.environment("staging"), ws.state("staging"))


def test_a_section_without_data_leaves_no_heading(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    assert "## Capacity" in render_report(ctx, SECTIONS)  # the example keeps a usage history
    quiet = Section("capacity", "Capacity", lambda _: None)
    text = render_report(ctx, tuple(quiet if s.key == "capacity" else s for s in SECTIONS))
    contents = text.split("\n## ", 1)[0]
    assert "## Capacity" not in text and "(#capacity)" not in contents and "## Scaling" in text


def test_a_new_section_plugs_in_with_a_template(tmp_path: Path) -> None:
    env = jinja()
    original = env.loader
    env.loader = ChoiceLoader([DictLoader({"sections/maturity.md.j2": "Level: **{{ level }}** for {{ env|code }}."}),
                               PackageLoader("modelops.report", "templates")])
    try:
        maturity = Section("maturity", "Operations maturity", lambda ctx: {"level": "standard <2/4>"})
        text = render_report(_context(tmp_path), (models.SECTION, maturity))
    finally:
        env.loader = original
    assert re.findall(r"^## (.+)$", text, re.MULTILINE) == ["Models", "Operations maturity"]
    assert "[Operations maturity](#operations-maturity)" in text
    assert "Level: **standard &lt;2/4&gt;** for `staging`." in text


def test_sections_are_registered_in_report_order() -> None:
    assert [s.key for s in SECTIONS] == ["attention", "models", "retired", "rollout-history", "switch-history",
                                         "metrics", "alerts", "recent-alerts", "incidents", "escalation", "scaling",
                                         "capacity", "maintenance", "maturity"]
    assert all(Path(jinja().get_template(s.template_name).filename or "").exists() for s in SECTIONS)


def test_tidy_output() -> None:
    assert tidy("a  \n\n\n\nb\n\n") == "a\n\nb\n"

"""The unit a report is made of: a titled section whose data comes from one function.

A section appears only when its `collect` function returns data; it returns None when the environment
has nothing to show for it (no recorded attempts, no alert rules, no capacity data yet), so a report
never carries empty headings for features an environment does not use.

Adding a section (capacity and maturity are meant to come this way): write `collect(ctx)` returning the
template's variables or None, a template `templates/sections/<key>.md.j2` (Markdown; every `{{ }}` is
escaped for Markdown unless a filter marks it otherwise, see `modelops.report.escape`), and add
`Section(key, title, collect)` to `modelops.report.write.SECTIONS` where it should appear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modelops.report.context import ReportContext

Collect = Callable[[ReportContext], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Section:
    """A report section: `collect` gathers its data; `key` names its template unless `template` is given."""

    key: str
    title: str
    collect: Collect
    template: str | None = None

    @property
    def template_name(self) -> str:
        return self.template or f"sections/{self.key}.md.j2"

"""Escaping for Markdown, HTML and Mermaid: hostile names and labels stay text."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from modelops.report import escape
from modelops.report.mermaid import Flowchart, Period, timeline
from modelops.report.render import jinja


@pytest.mark.parametrize(("raw", "escaped"), [
    ("plain-name", "plain-name"),
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("a | b", r"a \| b"),
    ("*bold* _it_ `code` [link](x) ~~s~~", r"\*bold\* \_it\_ \`code\` \[link\](x) \~\~s\~\~"),
    ("two\nlines\r\nhere", "two lines here"),
    ("back\\slash & co", r"back\\slash &amp; co"),
])
def test_markdown_text(raw: str, escaped: str) -> None:
    assert escape.md(raw) == escaped
    assert isinstance(escape.md(raw), Markup)


@pytest.mark.parametrize(("raw", "span"), [
    ("error_rate", "`error_rate`"),
    ("a`b", "``a`b``"),
    ("`edge`", "`` `edge` ``"),
    ("x | y", r"`x \| y`"),
    ("<b>", "`<b>`"),  # no entities inside code: they would show literally
])
def test_code_spans(raw: str, span: str) -> None:
    assert escape.code(raw) == span


def test_mermaid_labels_use_entity_codes() -> None:
    assert escape.mermaid('say "hi" <#1> & `x`') == "say #quot;hi#quot; #lt;#35;1#gt; #amp; #96;x#96;"
    assert escape.mermaid("a\nb") == "a b"


def test_unquoted_mermaid_text_keeps_a_safe_alphabet() -> None:
    assert escape.mermaid_text("deploy 1.4.2 → 1.5.0-rc.1 (Promoted)") == "deploy 1.4.2 → 1.5.0-rc.1 (Promoted)"
    assert escape.mermaid_text("a: b # c; %% d") == "a b c d"
    assert escape.mermaid_text(":::") == "-"


def test_links_only_for_web_urls_and_encoded() -> None:
    assert escape.link("runbook", "https://x.example/a (b)") == "[runbook](https://x.example/a%20%28b%29)"
    assert escape.link("runbook", "javascript:alert(1)") == "runbook"


def test_slugs_follow_github_headings() -> None:
    assert escape.slug("Rollout history") == "rollout-history"
    assert escape.slug("Alert rules (v2)!") == "alert-rules-v2"


def test_templates_escape_every_expression_by_default() -> None:
    env = jinja()
    template = env.from_string("{{ name }} {{ name|code }} {{ label|mermaid }} {{ missing_ok or '-' }}")
    assert template.render(name="<i>x|y</i>", label='"q"', missing_ok=None) == (
        r"&lt;i&gt;x\|y&lt;/i&gt; `<i>x\|y</i>` #quot;q#quot; -")


def test_templates_are_sandboxed() -> None:
    from jinja2.exceptions import SecurityError

    with pytest.raises(SecurityError):
        jinja().from_string("{{ x.__class__.__mro__[1].__subclasses__() }}").render(x="")


def test_flowchart_ids_are_generated_and_labels_quoted() -> None:
    chart = Flowchart()
    a = chart.node('end"; click A call evil()', "stadium")
    b = chart.node("b", "decision")
    chart.edge(a, b, "match")
    assert str(chart.render()).splitlines() == [
        "flowchart LR", '  n1(["end#quot;; click A call evil()"])', '  n2{"b"}', '  n1 -->|"match"| n2']


def test_timeline_sections_and_periods() -> None:
    text = timeline("Attempts: recent", [("sentiment", [Period("2026-03-02", ["deploy 1.4.2", "a: b"])])])
    assert str(text).splitlines() == ["timeline", "  title Attempts recent", "  section sentiment",
                                      "    2026-03-02 : deploy 1.4.2 : a b"]

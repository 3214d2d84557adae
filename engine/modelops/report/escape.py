"""Escaping for the three languages a report mixes: Markdown, the HTML GitHub allows in it, and Mermaid.

Every value that reaches a report or a PR comment comes from user files or recorded state (model names,
labels, reasons, versions), so nothing is trusted: the Jinja environment escapes every `{{ }}` for
Markdown + HTML by default (see `modelops.report.render`), and templates opt into another context with a
filter that returns `Markup` (already escaped for that context):

- `md`: inline Markdown text, safe in a paragraph, a list item or a table cell;
- `code`: an inline code span (no HTML entities there: they would show literally);
- `mermaid`: the inside of a double-quoted Mermaid label (`A["..."]`);
- `mermaid_text`: unquoted Mermaid text (timeline periods and events, where `:` and `#` are syntax).
"""

from __future__ import annotations

import re

from markupsafe import Markup

# Markdown punctuation that can start emphasis, links, code, tables or strikethrough mid-line.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_NEWLINES = re.compile(r"[\r\n]+")
# GitHub notifies whoever an `@name` or `@org/team` names in a comment or file, wherever it is not code: a
# label or a guardrail message would ping a team on every plan. A zero-width joiner after the `@` breaks
# the mention and reads the same. (An `@` after a letter or digit, as in an e-mail address, is no mention.)
_MENTION = re.compile(r"(?<![A-Za-z0-9_])@(?=[A-Za-z0-9])")


def one_line(value: object) -> str:
    """The text of a value on one line (a newline would end a table row or a list item)."""
    return _NEWLINES.sub(" ", str(value))


def md(value: object) -> Markup:
    """Inline Markdown text: HTML-significant characters as entities, Markdown punctuation backslashed,
    @-mentions broken."""
    text = _MENTION.sub("@\u200d", one_line(value))
    text = "".join(_HTML.get(ch, ch) for ch in text)
    return Markup(_MD_SPECIAL.sub(r"\\\1", text))


def code(value: object) -> Markup:
    """An inline code span that holds any text: the fence is longer than any backtick run inside.

    Pipes are backslashed because GitHub splits table cells on them even inside code spans (and
    removes the backslash there).
    """
    text = one_line(value).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return Markup(f"{fence}{pad}{text}{pad}{fence}")


# Mermaid entity codes (`#quot;`, `#35;`) are decoded in labels of every diagram type. `#` goes first so
# the codes themselves are not escaped again.
_MERMAID_CODES = (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("&", "#amp;"), ("`", "#96;"))


def mermaid(value: object) -> Markup:
    """Text for the inside of a double-quoted Mermaid label."""
    text = one_line(value)
    for raw, escaped in _MERMAID_CODES:
        text = text.replace(raw, escaped)
    return Markup(text)


# Timeline text is unquoted and its lexer treats `:` as a separator and `#`/`%%` as comments; keep a
# conservative alphabet (letters, digits, spaces and a little punctuation) and blank out the rest.
_MERMAID_UNSAFE = re.compile(r"[^\w .,+/()=\-→]")
_SPACES = re.compile(r" {2,}")


def mermaid_text(value: object) -> Markup:
    """Text for an unquoted Mermaid position (timeline sections, periods, events)."""
    text = _MERMAID_UNSAFE.sub(" ", one_line(value))
    return Markup(_SPACES.sub(" ", text).strip() or "-")  # blank text would change the syntax


def link(text: object, url: str) -> Markup:
    """A Markdown link; the URL is percent-encoded where Markdown or HTML would read it as syntax."""
    safe_url = "".join(f"%{ord(ch):02X}" if ch in '()<>"\'` |\\' or ord(ch) < 33 else ch for ch in url)
    if not safe_url.startswith(("https://", "http://")):
        return md(text)  # only web links; anything else (javascript:, data:) is shown as text
    return Markup(f"[{md(text)}]({safe_url})")


def finalize(value: object) -> object:
    """Jinja `finalize`: escape every expression for Markdown unless a filter already escaped it."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return md(value)


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return text.replace(" ", "-")

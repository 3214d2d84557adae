"""Markdown as GitHub shows it, in headless Chromium: GitHub-flavoured Markdown (marked, GFM), GitHub's own
Markdown stylesheet (github-markdown-css) in a 1012px column, and every ```mermaid block drawn by Mermaid.

One Chromium run renders any number of documents and measures them in the DOM (`render`): each table's width
against the column and the words its cells break inside, each diagram's errors, the smallest font it shows
after scaling to the column and its overlapping labels. `screenshots` takes PNGs of a document, a screen at a
time, for a person to look at (scripts/render-report.py). Skips (in tests) when Chromium or the node packages
are missing; scripts/install-test-tools.sh installs them.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.repo import ROOT

TOOLS = ROOT / ".tools" / "node_modules"
ASSETS = {"marked": TOOLS / "marked/lib/marked.umd.js", "mermaid": TOOLS / "mermaid/dist/mermaid.min.js",
          "css": TOOLS / "github-markdown-css/github-markdown-light.css"}
COLUMN = 1012  # px: the width GitHub gives a Markdown file or comment
WINDOW = (COLUMN + 2 * 32 + 24, 1000)  # the column, its padding, and a scrollbar
_RESULT = re.compile(r'data-result="([A-Za-z0-9+/=]*)"')

# The page: Markdown → HTML (marked, GFM), ```mermaid → SVG, then the measurements, base64 JSON in an attribute
# (`--dump-dom` prints it). `#top=N` scrolls N px down, for a screenshot of a later screen.
_SCRIPT = r"""
const docs = JSON.parse(document.getElementById("docs").textContent);
const offset = Number((location.hash.match(/top=(\d+)/) || [0, 0])[1]);
mermaid.initialize({startOnLoad: false, securityLevel: "strict", theme: "default"});
const boxes = (svg) => [...svg.querySelectorAll("text, foreignObject")].map((el) => el.getBoundingClientRect())
  .filter((r) => r.width > 0 && r.height > 0);
function overlaps(rects) {
  let count = 0;
  for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) {
    const a = rects[i], b = rects[j];
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    const inside = (p, q) => p.left >= q.left - 1 && p.right <= q.right + 1 && p.top >= q.top - 1
      && p.bottom <= q.bottom + 1;
    if (w > 2 && h > 2 && !inside(a, b) && !inside(b, a)) count++;
  }
  return count;
}
function smallestFont(svg) {
  const view = svg.viewBox.baseVal;
  const scale = view && view.width ? svg.getBoundingClientRect().width / view.width : 1;
  let least = Infinity;
  for (const el of svg.querySelectorAll("text, foreignObject div, foreignObject span")) {
    if (!el.textContent.trim()) continue;
    least = Math.min(least, parseFloat(getComputedStyle(el).fontSize) * scale);
  }
  return least === Infinity ? null : Math.round(least * 10) / 10;
}
function brokenWords(table) {
  const found = [];
  const walker = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(/\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) found.push(m[0]);
    }
  }
  return found;
}
function naturalWidth(table) {
  // the width the table takes when nothing wraps: above the column, its cells wrap (and may break words)
  const copy = table.cloneNode(true);
  copy.style.cssText = "position: absolute; visibility: hidden; max-width: none; width: max-content;";
  table.after(copy);
  const width = copy.scrollWidth;
  copy.remove();
  return width;
}
function heading(el) {
  for (let e = el; e; e = e.previousElementSibling) if (/^H[1-4]$/.test(e.tagName)) return e.textContent.trim();
  return "";
}
async function main() {
  const result = [];
  for (const [index, doc] of docs.entries()) {
    const article = document.createElement("article");
    article.className = "markdown-body";
    // a comment keeps its line breaks on GitHub; a Markdown file joins them
    article.innerHTML = marked.parse(doc.markdown, {gfm: true, breaks: doc.comment});
    document.body.appendChild(article);
    const diagrams = [];
    for (const [n, code] of [...article.querySelectorAll("pre > code.language-mermaid")].entries()) {
      const frame = document.createElement("div");
      frame.className = "diagram";
      code.parentElement.replaceWith(frame);
      const entry = {index: n, heading: heading(frame), source: code.textContent};
      try {
        const {svg} = await mermaid.render(`d${index}x${n}`, code.textContent);
        frame.innerHTML = svg;
        entry.type = frame.querySelector("svg").getAttribute("aria-roledescription");
      } catch (error) {
        entry.error = String(error && error.message || error);
      }
      diagrams.push(entry);
    }
    for (const entry of diagrams) {
      const svg = article.querySelectorAll("div.diagram")[entry.index].querySelector("svg");
      if (!svg) continue;
      entry.width = Math.round(svg.getBoundingClientRect().width);
      entry.smallest_font = smallestFont(svg);
      entry.overlapping_labels = overlaps(boxes(svg));
      entry.error = entry.error || (svg.querySelector(".error-text") ? "Mermaid drew its error diagram" : null);
    }
    const tables = [...article.querySelectorAll("table")].map((table) => ({
      heading: heading(table), columns: table.rows[0].cells.length, rows: table.rows.length - 1,
      width: table.scrollWidth, visible: table.clientWidth, natural: naturalWidth(table),
      broken_words: brokenWords(table)}));
    result.push({name: doc.name, height: Math.round(article.getBoundingClientRect().height), tables, diagrams,
                 headings: [...article.querySelectorAll("h1, h2, h3")].map((h) => ({text: h.textContent.trim(),
                   top: Math.round(h.getBoundingClientRect().top - article.getBoundingClientRect().top)}))});
  }
  document.body.style.marginTop = `-${offset}px`;
  let binary = "";
  for (const byte of new TextEncoder().encode(JSON.stringify(result))) binary += String.fromCharCode(byte);
  document.body.setAttribute("data-result", btoa(binary));
}
main();
"""

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="{css}">
<style>
body {{ margin: 0; background: #fff; }}
.markdown-body {{ box-sizing: content-box; width: {column}px; margin: 0 auto; padding: 32px; }}
.markdown-body .diagram {{ margin-bottom: 16px; }}
.markdown-body .diagram svg {{ max-width: 100%; height: auto; }}
</style>
<script src="{marked}"></script>
<script src="{mermaid}"></script>
</head><body>
<script id="docs" type="application/json">{docs}</script>
<script>{script}</script>
</body></html>
"""


@dataclass(frozen=True)
class Document:
    """A Markdown text to render, by name: a file (REPORT.md) or a comment (GitHub keeps a comment's line breaks)."""

    name: str
    markdown: str
    comment: bool = False


def missing() -> str | None:
    """Why the browser can not run here, or None."""
    if chromium() is None:
        return "chromium is not installed; scripts/install-test-tools.sh installs the Debian package"
    absent = [str(path.relative_to(ROOT)) for path in ASSETS.values() if not path.exists()]
    return f"{', '.join(absent)} missing; run scripts/install-test-tools.sh" if absent else None


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _page(docs: Sequence[Document], folder: Path) -> Path:
    data = json.dumps([{"name": d.name, "markdown": d.markdown, "comment": d.comment} for d in docs])
    data = data.replace("</", "<\\/")  # the JSON sits in a <script>
    page = folder / "page.html"
    page.write_text(_PAGE.format(css=ASSETS["css"].as_uri(), marked=ASSETS["marked"].as_uri(),
                                 mermaid=ASSETS["mermaid"].as_uri(), column=COLUMN, docs=data, script=_SCRIPT),
                    encoding="utf-8")
    return page


def _run(page: Path, folder: Path, *args: str, top: int = 0, height: int = WINDOW[1]) -> str:
    binary = chromium()
    assert binary is not None, missing()
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--allow-file-access-from-files", f"--user-data-dir={folder / 'profile'}",
               "--virtual-time-budget=60000", f"--window-size={WINDOW[0]},{height}", *args,
               f"{page.as_uri()}#top={top}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def render(docs: Sequence[Document]) -> list[dict[str, Any]]:
    """Every document rendered and measured (see the module docstring), in order."""
    with tempfile.TemporaryDirectory(prefix="modelops-browser-") as tmp:
        folder = Path(tmp)
        dom = _run(_page(docs, folder), folder, "--dump-dom")
    found = _RESULT.search(dom)
    if found is None:
        raise RuntimeError("the page did not finish rendering (no result in the DOM)")
    measured: list[dict[str, Any]] = json.loads(base64.b64decode(found.group(1)).decode("utf-8"))
    return measured


def screenshots(doc: Document, out: Path, screens: int | None = None) -> list[Path]:
    """PNGs of one document, a window (1000 px) at a time from the top: `<out>/<name>-01.png`, …; all of
    it unless `screens` limits how many."""
    out.mkdir(parents=True, exist_ok=True)
    height = render([doc])[0]["height"] + 64
    count = -(-height // WINDOW[1])
    taken = []
    with tempfile.TemporaryDirectory(prefix="modelops-browser-") as tmp:
        folder = Path(tmp)
        page = _page([doc], folder)
        for screen in range(min(count, screens or count)):
            path = out / f"{doc.name}-{screen + 1:02d}.png"
            _run(page, folder, f"--screenshot={path}", top=screen * WINDOW[1])
            taken.append(path)
    return taken


SMALLEST_FONT = 11.0  # px: a diagram scaled down to the column until its text is smaller is hard to read


def problems(measured: dict[str, Any]) -> list[str]:
    """What a reader of one rendered document would trip over, one line each (none: it reads well)."""
    found = []
    for t in measured["tables"]:
        if t["width"] > t["visible"]:
            found.append(f"table under {t['heading']!r} is {t['width']} px wide: {t['width'] - COLUMN} px cut off")
        if t["broken_words"]:
            found.append(f"table under {t['heading']!r} breaks inside {', '.join(sorted(set(t['broken_words'])))}")
    for d in measured["diagrams"]:
        if d.get("error"):
            found.append(f"diagram under {d['heading']!r} fails: {d['error']}")
        elif d["smallest_font"] is not None and d["smallest_font"] < SMALLEST_FONT:
            found.append(f"diagram under {d['heading']!r} shows text at {d['smallest_font']} px")
        if d.get("overlapping_labels"):
            found.append(f"diagram under {d['heading']!r} has {d['overlapping_labels']} overlapping labels")
    return found

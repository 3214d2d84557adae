#!/usr/bin/env python3
"""Render Markdown (a REPORT.md, a PR comment) as GitHub shows it, in headless Chromium, to look at it.

    .venv/bin/python scripts/render-report.py FILE.md... [--out DIR] [--screens N] [--comment]

Writes `<DIR>/<name>-01.png`, `-02.png`, … (a 1000 px screen each, the first screen first) and prints what a
reader would trip over, as the DOM measured it (`tests.support.browser.problems`): tables wider than GitHub's
1012 px column or breaking inside a word, diagrams that fail, draw text smaller than 11 px once scaled to the
column, or overlap their labels; exits 1 when there is any. Needs chromium and the node packages of
scripts/install-test-tools.sh. tests/acceptance/test_report.py asserts the same of the example's reports and plan
comment.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.browser import Document, missing, problems, render, screenshots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--screens", type=int, default=None, help="at most this many screens per file")
    parser.add_argument("--comment", action="store_true",
                        help="render as a pull-request comment (GitHub keeps its line breaks)")
    args = parser.parse_args()
    why = missing()
    if why:
        print(why, file=sys.stderr)
        return 2
    docs = [Document(path.stem.replace(".", "-"), path.read_text(encoding="utf-8"), args.comment)
            for path in args.files]
    status = 0
    for doc, measured in zip(docs, render(docs), strict=True):
        taken = screenshots(doc, args.out, args.screens)
        print(f"{doc.name}: {measured['height']} px tall, {len(taken)} screenshot(s) in {args.out}/")
        for line in problems(measured):
            print(f"  {line}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())

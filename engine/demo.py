"""`make demo`: the main job on a temporary copy of the example repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def step(title: str, *args: str, repo: Path) -> int:
    print(f"\n$ modelops {' '.join(args)}    # {title}", flush=True)
    return subprocess.call([sys.executable, "-m", "engine", "--repo", str(repo), *args])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="modelops-demo-") as tmp:
        repo = Path(tmp) / "ops"
        for part in ("environments", "policies", "schemas", "examples"):
            if (ROOT / part).exists():
                shutil.copytree(ROOT / part, repo / part)
        print(f"Example ops repository copied to {repo}")
        code = step("validate every file: syntax, schema, references, guardrails", "validate", repo=repo)
        step("the kinds of the configuration language", "schema", repo=repo)
        return code


if __name__ == "__main__":
    raise SystemExit(main())

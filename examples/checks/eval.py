"""Offline evaluation gate used by the example models' `command` tests.

modelops runs it with MODELOPS_MODEL, MODELOPS_VERSION and MODELOPS_SLOT set. The "evaluation" is a
stand-in with a stable answer per version: a version whose pre-release tag contains "broken" scores
badly, so the demo can show a failing gate and the automatic rollback it triggers.
"""

from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-accuracy", type=float, required=True)
    args = parser.parse_args()
    model, version = os.environ.get("MODELOPS_MODEL", "?"), os.environ.get("MODELOPS_VERSION", "?")
    accuracy = 0.62 if "broken" in version else 0.94
    verdict = "pass" if accuracy >= args.min_accuracy else "FAIL"
    print(f"{model} {version}: accuracy {accuracy:.2f} (minimum {args.min_accuracy:.2f}): {verdict}")
    return 0 if accuracy >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())

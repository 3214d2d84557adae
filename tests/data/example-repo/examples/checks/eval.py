"""The test fixture's stand-in for an offline evaluation, run by its models' `command` tests.

The fixture is the simulated world the test suite drives (no model server runs; tests/support/servers.py answers
its HTTP tests): its convention is that a version whose pre-release tag contains "broken" stands for a bad model,
so a failing gate and the automatic rollback it triggers can be tested. The real example (examples/checks/eval.py
at the repository root) measures accuracy with real inference requests instead.
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

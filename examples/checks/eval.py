"""Accuracy gate of the example models: real inference requests against the slot under test.

modelops runs it as a `command` test with MODELOPS_URL (the slot's address), MODELOPS_MODEL and MODELOPS_VERSION
set. It sends the holdout rows (examples/models/<model>/holdout.json, written by examples/models/train.py: rows
no version was trained on, with their labels) to the slot as an Open Inference Protocol (V2) request, compares
the predictions with the labels, and passes when the accuracy reaches --min-accuracy. Standard library only.

    python3 examples/checks/eval.py --data examples/models/iris/holdout.json --min-accuracy 0.9
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path


def predict(url: str, model: str, inputs: list[dict[str, object]], timeout: float) -> list[int]:
    """The slot's predictions for a V2 request's inputs."""
    body = json.dumps({"inputs": inputs}).encode()
    request = urllib.request.Request(f"{url.rstrip('/')}/v2/models/{model}/infer", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        outputs = json.loads(answer.read())["outputs"]
    return [int(v) for v in outputs[0]["data"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="holdout JSON: V2 inputs and their labels")
    parser.add_argument("--min-accuracy", type=float, required=True)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for the inference request")
    args = parser.parse_args()
    url, model = os.environ.get("MODELOPS_URL", ""), os.environ.get("MODELOPS_MODEL", "")
    version = os.environ.get("MODELOPS_VERSION", "?")
    if not url or not model:
        print("MODELOPS_URL and MODELOPS_MODEL must be set (modelops sets them for a command test)")
        return 2
    holdout = json.loads(args.data.read_text(encoding="utf-8"))
    labels = holdout["labels"]
    try:
        predicted = predict(url, model, holdout["inputs"], args.timeout)
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        print(f"{model} {version}: no predictions from {url}: {exc}")
        return 1
    accuracy = sum(p == y for p, y in zip(predicted, labels, strict=True)) / len(labels)
    verdict = "pass" if accuracy >= args.min_accuracy else "FAIL"
    print(f"{model} {version}: accuracy {accuracy:.3f} on {len(labels)} holdout rows "
          f"(minimum {args.min_accuracy:.2f}): {verdict}")
    return 0 if accuracy >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())

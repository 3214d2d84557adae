"""Train the example models from data scikit-learn ships (no download), and write what the example serves.

    .venv-runtime/bin/python examples/models/train.py      # `make runtime` creates .venv-runtime

For each model and version: `examples/models/<model>/<version>/model.joblib` (the artifact MLServer serves); for
each model `requests.jsonl` (V2 request bodies the local target replays through the router as synthetic traffic),
and for iris `holdout.json` (rows the models never saw, with their labels: examples/checks/eval.py measures
accuracy on them through real inference requests). It prints each artifact's SHA-256, the digest the model YAML
pins (`spec.artifact.sha256`).

The versions are what a team ships, good and bad, and their faults are in the artifacts, not in their names:

- iris 1.0.0: a logistic regression; 1.1.0: the same with standardised features (better);
  1.2.0: trained on shuffled labels, a pipeline bug that passes every smoke test: its accuracy is chance;
- breast-cancer 1.0.0: a logistic regression on standardised features;
  1.1.0 adds a one-hot "size band" of the mean radius, fitted on a sample that never saw a large tumour, so the
  encoder refuses every request whose band it does not know (about a fifth of real traffic answers 500).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
SEED = 7
REQUESTS = 200
EVALUATED = ("iris",)  # the models whose tests measure accuracy on a holdout


def iris_plain(x: np.ndarray, y: np.ndarray) -> Pipeline:
    return make_pipeline(LogisticRegression(max_iter=1000, random_state=SEED)).fit(x, y)


def iris_scaled(x: np.ndarray, y: np.ndarray) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED)).fit(x, y)


def iris_shuffled(x: np.ndarray, y: np.ndarray) -> Pipeline:
    shuffled = np.random.default_rng(SEED).permutation(y)  # the bug: labels no longer belong to their rows
    return iris_scaled(x, shuffled)


def cancer_plain(x: np.ndarray, y: np.ndarray) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=SEED)).fit(x, y)


def cancer_size_band(x: np.ndarray, y: np.ndarray) -> Pipeline:
    band = make_pipeline(FunctionTransformer(np.rint), OneHotEncoder(handle_unknown="error"))
    features = ColumnTransformer([("size_band", band, [0]), ("scaled", StandardScaler(), list(range(x.shape[1])))])
    seen = x[:, 0] < 16.5  # the sample it was fitted on never saw a mean radius of 17 or more
    return make_pipeline(features, LogisticRegression(max_iter=5000, random_state=SEED)).fit(x[seen], y[seen])


MODELS: dict[str, tuple[Callable[..., Any], dict[str, Callable[[np.ndarray, np.ndarray], Pipeline]]]] = {
    "iris": (load_iris, {"1.0.0": iris_plain, "1.1.0": iris_scaled, "1.2.0": iris_shuffled}),
    "breast-cancer": (load_breast_cancer, {"1.0.0": cancer_plain, "1.1.0": cancer_size_band}),
}


def v2(rows: np.ndarray) -> dict[str, Any]:
    """An Open Inference Protocol (V2) request for these rows."""
    return {"inputs": [{"name": "x", "shape": list(rows.shape), "datatype": "FP64",
                        "data": [round(float(v), 6) for v in rows.ravel()]}]}


def main() -> None:
    for model, (load, versions) in MODELS.items():
        x, y = load(return_X_y=True)
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=SEED, stratify=y)
        folder = HERE / model
        folder.mkdir(exist_ok=True)
        if model in EVALUATED:
            holdout = {"inputs": v2(x_test)["inputs"], "labels": [int(v) for v in y_test]}
            (folder / "holdout.json").write_text(json.dumps(holdout) + "\n", encoding="utf-8")
        sample = np.random.default_rng(SEED).choice(len(x), REQUESTS)  # traffic looks like the whole population
        (folder / "requests.jsonl").write_text("".join(json.dumps(v2(x[i:i + 1])) + "\n" for i in sample),
                                               encoding="utf-8")
        for version, train in versions.items():
            (folder / version).mkdir(exist_ok=True)
            artifact = folder / version / "model.joblib"
            joblib.dump(train(x_train, y_train), artifact)
            digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
            print(f"{artifact.relative_to(HERE.parent.parent)}  sha256 {digest}")


if __name__ == "__main__":
    main()

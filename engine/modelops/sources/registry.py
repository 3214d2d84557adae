"""Metric sources by name, as an environment's `spec.metrics.source` spells them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelops.base.errors import EngineError
from modelops.sources.base import MetricSource
from modelops.sources.file import FileSource
from modelops.sources.local import LocalPrometheusSource
from modelops.sources.prometheus import PrometheusSource

Factory = Callable[[Path, str, Any], MetricSource]


def _file(root: Path, environment: str, spec: Any) -> MetricSource:
    if spec.path is None:
        raise EngineError(f"environment {environment}: spec.metrics.path is required for the file source")
    return FileSource.load_repository(root, spec.path, f"spec.metrics.path of environment {environment}")


def _prometheus(root: Path, environment: str, spec: Any) -> MetricSource:
    if spec.url is None:  # validation allows it only on a local target with a real runtime: the one it runs
        return LocalPrometheusSource(root, environment, spec)
    return PrometheusSource(spec.url, environment, spec.timeout.seconds, dict(spec.queries), auth=spec.auth, root=root)


SOURCES: dict[str, Factory] = {"file": _file, "prometheus": _prometheus}


def open_source(root: Path, environment: str, spec: Any) -> MetricSource:
    """The source an environment's `spec.metrics` describes (a `MetricsSource` spec)."""
    return SOURCES[spec.source](root, environment, spec)

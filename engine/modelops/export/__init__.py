"""Exports: native configuration for the engines users already run, rendered from the configuration.

`prometheus` (rule files and generated `promtool test rules` files), `alertmanager` (routes, receivers,
inhibition, time intervals and generated `amtool` route tests) and `kubernetes` (Deployments, Argo
Rollouts or KServe; HPA or KEDA; PrometheusRule). Every exporter is a pure function from the resolved
configuration to a list of `ExportFile`s; `modelops.export.files` writes them, and the gitops driver renders
the same Kubernetes objects into `environments/<env>/rendered/`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportFile:
    """One generated file: its name relative to the output directory, its text, and a one-line summary."""

    name: str
    text: str
    summary: str = ""
    executable: bool = False


KINDS = ("prometheus", "alertmanager", "kubernetes")

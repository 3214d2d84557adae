"""The manifests of docs/running-with-argo-cd.md are valid, and the ClusterRole grants exactly what the cluster reader
reads: every resource it asks for, and nothing but `get` and `list`."""

from __future__ import annotations

import re
from typing import Any

from modelops.drivers.cluster.client import PLURALS

from tests.support.k8s import CRDS, crd_errors, live_object_errors, load_documents
from tests.support.repo import ROOT

#: the API group of each kind the reader asks for
GROUPS = {"Rollout": "argoproj.io", "AnalysisRun": "argoproj.io", "Application": "argoproj.io",
          "InferenceService": "serving.kserve.io", "ScaledObject": "keda.sh", "Deployment": "apps",
          "ReplicaSet": "apps", "HorizontalPodAutoscaler": "autoscaling", "Service": ""}


def documents() -> list[dict[str, Any]]:
    text = (ROOT / "docs/running-with-argo-cd.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    return [doc for block in blocks for doc in load_documents(block) if "kind" in doc]


def test_every_manifest_of_the_page_is_valid_against_its_schema() -> None:
    docs = documents()
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["Application", "ClusterRole", "ClusterRoleBinding", "GitRepository", "Kustomization",
                     "ServiceAccount"]
    # custom resources as manifests (strict metadata), core kinds through kubernetes-validate's schemas
    problems = [p for d in docs for p in (crd_errors(d) if (d["apiVersion"], d["kind"]) in CRDS
                                          else live_object_errors(d))]
    assert problems == []


def test_the_application_and_the_kustomization_sync_the_rendered_directory() -> None:
    docs = {d["kind"]: d for d in documents()}
    assert docs["Application"]["spec"]["source"]["path"] == "environments/production/rendered"
    assert docs["Kustomization"]["spec"]["path"] == "./environments/production/rendered"


def test_the_clusterrole_is_read_only_and_covers_every_read() -> None:
    role = next(d for d in documents() if d["kind"] == "ClusterRole")
    granted = {(group, resource) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"]}
    assert {verb for rule in role["rules"] for verb in rule["verbs"]} == {"get", "list"}
    assert granted == {(GROUPS[kind], plural) for kind, plural in PLURALS.items()}
    binding = next(d for d in documents() if d["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]

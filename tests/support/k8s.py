"""Validating rendered Kubernetes manifests offline.

Core kinds go through `kubernetes-validate --strict` (the schemas ship inside the package, no network);
CRD kinds go through jsonschema against the CRD schemas copied into tests/data/crd-schemas/, made strict
the same way: wherever a schema lists its properties, any other property is an error.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML

CRD_DIR = Path(__file__).resolve().parents[1] / "data" / "crd-schemas"
CRDS = {
    ("argoproj.io/v1alpha1", "Rollout"): "argoproj.io_rollout_v1alpha1.json",
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): "argoproj.io_analysistemplate_v1alpha1.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh_scaledobject_v1alpha1.json",
    ("serving.kserve.io/v1beta1", "InferenceService"): "serving.kserve.io_inferenceservice_v1beta1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "monitoring.coreos.com_prometheusrule_v1.json",
    ("argoproj.io/v1alpha1", "AnalysisRun"): "argoproj.io_analysisrun_v1alpha1.json",
    ("argoproj.io/v1alpha1", "Application"): "argoproj.io_application_v1alpha1.json",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "kustomize.toolkit.fluxcd.io_kustomization_v1.json",
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "source.toolkit.fluxcd.io_gitrepository_v1.json",
}
CORE = {("apps/v1", "Deployment"), ("v1", "Service"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"), ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("v1", "ServiceAccount")}


def kubernetes_validate() -> str | None:
    found = Path(sys.executable).with_name("kubernetes-validate")
    return str(found) if found.exists() else shutil.which("kubernetes-validate")


def load_documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc is not None]


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out and not out.get(
                "x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.cache
def crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads((CRD_DIR / CRDS[(api_version, kind)]).read_text(encoding="utf-8"))
    strict = _strict(schema)
    strict["properties"]["metadata"] = {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"},
                       "namespace": {"type": "string"},
                       "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                       "annotations": {"type": "object", "additionalProperties": {"type": "string"}}}}
    cls = jsonschema.validators.validator_for(strict, default=jsonschema.Draft7Validator)
    return cls(strict)


def crd_errors(doc: dict[str, Any]) -> list[str]:
    validator = crd_validator(doc["apiVersion"], doc["kind"])
    where = f"{doc['kind']} {doc['metadata'].get('name')}"
    return [f"{where}: /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


#: what the API server adds to the metadata of every object it returns (an object read back, not a manifest)
SERVER_METADATA = {"uid": {"type": "string"}, "resourceVersion": {"type": "string"}, "generation": {"type": "integer"},
                   "creationTimestamp": {"type": "string"},
                   "ownerReferences": {"type": "array", "items": {
                       "type": "object", "required": ["apiVersion", "kind", "name", "uid"],
                       "additionalProperties": False,
                       "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                      "name": {"type": "string"}, "uid": {"type": "string"},
                                      "controller": {"type": "boolean"},
                                      "blockOwnerDeletion": {"type": "boolean"}}}}}


@functools.cache
def live_crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    """The strict CRD validator for an object as the API server returns it: status included, server metadata too."""
    schema = json.loads(json.dumps(crd_validator(api_version, kind).schema))
    schema["properties"]["metadata"]["properties"].update(SERVER_METADATA)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def live_object_errors(doc: dict[str, Any]) -> list[str]:
    """Every problem of an object as a controller writes it (its status included): CRD kinds against their schema,
    core kinds through kubernetes-validate's schemas (strict). Empty: it is shaped as the real API serves it."""
    import kubernetes_validate

    key = (doc.get("apiVersion"), doc.get("kind"))
    where = f"{doc.get('kind')} {doc.get('metadata', {}).get('name')}"
    if key in CRDS:
        validator = live_crd_validator(str(key[0]), str(key[1]))
        return [f"{where}: /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
        return [f"{where}: {str(exc).splitlines()[0]}"]
    return []


def validate_manifests(files: Iterable[Path], work: Path) -> list[str]:
    """Every problem found in the documents of these files (empty: all valid)."""
    problems: list[str] = []
    core: list[dict[str, Any]] = []
    for path in files:
        for doc in load_documents(path.read_text(encoding="utf-8")):
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key in CRDS:
                problems += [f"{path.name}: {p}" for p in crd_errors(doc)]
            elif key in CORE:
                core.append(doc)
            else:
                problems.append(f"{path.name}: unexpected kind {key}")
    if core:
        tool = kubernetes_validate()
        assert tool is not None, "kubernetes-validate is missing: pip install -e '.[dev]'"
        target = work / "core-manifests.yaml"
        target.write_text("---\n".join(json.dumps(doc) + "\n" for doc in core), encoding="utf-8")
        done = subprocess.run([tool, "--strict", "--quiet", str(target)], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            problems.append(f"kubernetes-validate --strict: {done.stdout}{done.stderr}")
    return problems

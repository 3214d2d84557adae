"""Talking to the Kubernetes API with the official client (the optional `kubernetes` extra): GET and LIST only.

modelops never writes to the cluster: Argo CD or Flux apply `rendered/`, and the ClusterRole of
docs/running-with-argo-cd.md grants reads only. Credentials are found as kubectl finds them: the kubeconfig that
`spec.target.gitops.cluster.kubeconfig` names (relative to the repository root, or under `~`), else `$KUBECONFIG`
or `~/.kube/config`, else, inside a pod, its service account. They are never printed: messages name the context.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.base.errors import EngineError
from modelops.config.spec.environment import GitopsCluster

#: what a user without the extra is told to run
EXTRA = "pip install 'modelops-engine[kubernetes]'"
#: seconds to connect and to read one answer
TIMEOUT = (5.0, 20.0)

#: the resource (plural) of each kind modelops reads
PLURALS = {"Rollout": "rollouts", "AnalysisRun": "analysisruns", "Application": "applications",
           "InferenceService": "inferenceservices", "ScaledObject": "scaledobjects", "Deployment": "deployments",
           "ReplicaSet": "replicasets", "Service": "services", "HorizontalPodAutoscaler": "horizontalpodautoscalers"}


class ClusterError(EngineError):
    """The cluster could not be read: the client is missing, the kubeconfig is wrong, the API is unreachable or
    refuses the read."""


def client_module() -> Any:
    """The `kubernetes` package, or a ClusterError naming the extra that installs it."""
    try:
        import kubernetes
    except ImportError:
        raise ClusterError("reading the cluster needs the Kubernetes Python client, which is not installed",
                           hint=f"install it with: {EXTRA}") from None
    return kubernetes


@dataclass
class Kube:
    """An open connection to one cluster: `get` one object, `list` by label selector, as the API's JSON."""

    api: Any
    where: str

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None when the cluster has no such object."""
        return self._call(api_version, kind, namespace, name, None)

    def list(self, api_version: str, kind: str, namespace: str, selector: str) -> list[dict[str, Any]]:
        found = self._call(api_version, kind, namespace, None, selector)
        items = found.get("items") if isinstance(found, dict) else None
        return [item for item in items or [] if isinstance(item, dict)]

    def close(self) -> None:
        self.api.close()

    def _call(self, api_version: str, kind: str, namespace: str, name: str | None,
              selector: str | None) -> dict[str, Any] | None:
        kubernetes = client_module()
        import urllib3

        what = f"{kind} {namespace}/{name}" if name else f"{PLURALS[kind]} in {namespace} ({selector})"
        try:
            answer = _request(kubernetes.client, self.api, api_version, kind, namespace, name, selector)
        except kubernetes.client.exceptions.ApiException as exc:
            if exc.status == 404 and name is not None:
                return None
            if exc.status in (401, 403):
                raise ClusterError(f"the cluster ({self.where}) refused to let modelops read {what}: {exc.status} "
                                   f"{exc.reason}", hint="bind the read-only ClusterRole of "
                                   "docs/running-with-argo-cd.md to the identity modelops uses") from None
            raise ClusterError(f"the Kubernetes API ({self.where}) answered {exc.status} {exc.reason} for "
                               f"{what}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ClusterError(f"the cluster ({self.where}) cannot be reached: {_short(reason)}",
                               hint="check the kubeconfig context and the network path to the API server") from None
        try:
            data = json.loads(answer.data)
        except ValueError:
            raise ClusterError(f"the Kubernetes API ({self.where}) answered {what} with something that is not "
                               "JSON") from None
        finally:
            answer.release_conn()
        return data if isinstance(data, dict) else None


def _request(client: Any, api: Any, api_version: str, kind: str, namespace: str, name: str | None,
             selector: str | None) -> Any:
    """One GET through the client's typed APIs (core kinds) or its custom-objects API (CRDs)."""
    options: dict[str, Any] = {"_preload_content": False, "_request_timeout": TIMEOUT}
    if selector is not None:
        options["label_selector"] = selector
    group, _, version = api_version.rpartition("/")
    if kind == "Deployment":
        return client.AppsV1Api(api).read_namespaced_deployment(name, namespace, **options)
    if kind == "ReplicaSet":
        return client.AppsV1Api(api).list_namespaced_replica_set(namespace, **options)
    if kind == "Service":
        return client.CoreV1Api(api).read_namespaced_service(name, namespace, **options)
    if kind == "HorizontalPodAutoscaler":
        return client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(name, namespace, **options)
    custom = client.CustomObjectsApi(api)
    if name is None:
        return custom.list_namespaced_custom_object(group, version, namespace, PLURALS[kind], **options)
    return custom.get_namespaced_custom_object(group, version, namespace, PLURALS[kind], name, **options)


def _short(reason: object) -> str:
    text = str(reason)
    return text.split(": ", 1)[-1][:200] if "Connection" in text else text[:200]


def connect(root: Path, cluster: GitopsCluster) -> Kube:
    """A connection configured as kubectl would be (see the module docstring); nothing is sent yet."""
    kubernetes = client_module()
    configuration = kubernetes.client.Configuration()
    path = _kubeconfig(root, cluster)
    try:
        if path is None:
            kubernetes.config.load_incluster_config(client_configuration=configuration)
            where = "in-cluster service account"
        else:
            kubernetes.config.load_kube_config(config_file=path, context=cluster.context,
                                               client_configuration=configuration, persist_config=False)
            where = f"context {cluster.context}" if cluster.context else f"current context of {_shown(path)}"
    except (kubernetes.config.ConfigException, OSError, ValueError, TypeError) as exc:
        source = _shown(path) if path else "the in-cluster service account"
        raise ClusterError(f"cannot use {source} to reach the cluster: {_short(exc)}",
                           hint="set spec.target.gitops.cluster.kubeconfig and context, or KUBECONFIG") from None
    configuration.retries = 1  # a wait polls again anyway: an unreachable API must fail fast, not after minutes
    return Kube(kubernetes.client.ApiClient(configuration), where)


def _kubeconfig(root: Path, cluster: GitopsCluster) -> str | None:
    """The kubeconfig file(s) to read, or None for the pod's service account."""
    if cluster.kubeconfig is not None:
        path = Path(cluster.kubeconfig).expanduser()
        return str(path if path.is_absolute() else root / path)
    listed = os.environ.get("KUBECONFIG")
    if listed:
        return listed
    default = Path("~/.kube/config").expanduser()
    if default.exists() or not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return str(default)
    return None


def _shown(path: str) -> str:
    home = str(Path.home())
    return path.replace(home, "~", 1) if path.startswith(home) else path

"""A Kubernetes API server on loopback, for the cluster tests: no real one can run on these machines.

It speaks the REST paths the official client uses for what modelops reads (GET of a namespaced object, LIST with a
`labelSelector`) under `/api/v1` and `/apis/<group>/<version>`, answers a missing object with a `Status` 404 as
the API server does, and refuses every write (405, counted: modelops must never write). Each object it serves is
validated first, status included, against the CRD schemas in tests/data/crd-schemas (Argo Rollouts, Argo CD,
KServe, KEDA) or kubernetes-validate's core schemas, so a fixture shaped unlike what the real controllers write fails
the test that serves it.

Objects are scripted: `script(obj_or_key, frames)` gives one object a sequence of states. A frame stays until its
`until` is met: a number of reads of that object, or a condition checked before each read (the test's own control:
"until the commit is pushed"). A frame's object may be a function, called when it is served (an Application whose
revision is the commit that exists by then). The last frame stays. No clock is involved: the cluster moves when it
is read, so a wait sees the same sequence on a busy machine as on an idle one.

The builders below make objects the way the controllers write them: server metadata (uid, resourceVersion,
generation, creationTimestamp), a Rollout's status at each phase (taken from Argo Rollouts' own status code:
`phase`/`message`, `currentStepIndex`, `stableRS`, `currentPodHash`, `abort`, the AnalysisRun summaries), the
ReplicaSets a Rollout owns, an AnalysisRun, an Argo CD Application, a KServe InferenceService, a Deployment.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.k8s import live_object_errors

Obj = dict[str, Any]
Source = Obj | Callable[[], Obj | None] | None

STAMP = "2026-12-01T10:00:00Z"
#: Kinds and their resource names (the plural in the path)
PLURALS = {"Rollout": "rollouts", "AnalysisRun": "analysisruns", "Application": "applications",
           "InferenceService": "inferenceservices", "ScaledObject": "scaledobjects", "Deployment": "deployments",
           "ReplicaSet": "replicasets", "Service": "services", "HorizontalPodAutoscaler": "horizontalpodautoscalers"}


def path_of(obj: Mapping[str, Any]) -> str:
    """The REST path the API serves an object at."""
    api = obj["apiVersion"]
    base = f"/api/{api}" if "/" not in api else f"/apis/{api}"
    meta = obj["metadata"]
    return f"{base}/namespaces/{meta['namespace']}/{PLURALS[obj['kind']]}/{meta['name']}"


@dataclass
class Frame:
    """One state of a scripted object: served until `until` is met (a number of reads, or a condition checked
    before each read); None serves a 404."""

    source: Source
    until: int | Callable[[], bool] | None = None


@dataclass
class _Script:
    frames: list[Frame]
    at: int = 0
    served: int = 0  # reads of the current frame

    def settle(self) -> Source:
        """The frame due now, moving past every frame whose condition holds (a read is not counted)."""
        while self.at < len(self.frames) - 1 and callable(self.frames[self.at].until) and self.frames[self.at].until():
            self._next()
        return self.frames[self.at].source

    def current(self) -> Source:
        """The frame a read gets, counted towards the frame's number of reads."""
        source = self.settle()
        self.served += 1
        until = self.frames[self.at].until
        if isinstance(until, int) and self.served >= until and self.at < len(self.frames) - 1:
            self._next()
        return source

    def _next(self) -> None:
        self.at += 1
        self.served = 0


@dataclass
class KubeApi:
    """The server; see the module docstring. `reads` counts GETs by path, `writes` lists refused writes."""

    scripts: dict[str, _Script] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)  # paths answered 403, as RBAC would
    tokens: set[str] = field(default_factory=set)  # the bearer tokens requests carried
    port: int = 0
    _checked: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, *objects: Obj) -> None:
        """Objects that stay as they are."""
        for obj in objects:
            self.script(obj, [Frame(obj)])

    def script(self, key: Obj | str, frames: list[Frame]) -> None:
        """Give the object at `key` (an object or its path) a sequence of states."""
        for frame in frames:
            if isinstance(frame.source, dict):
                self._check(frame.source)
        with self._lock:
            self.scripts[key if isinstance(key, str) else path_of(key)] = _Script(list(frames))

    def advance(self, key: Obj | str) -> None:
        """Move a scripted object to its next state now (the test's explicit control)."""
        with self._lock:
            self.scripts[key if isinstance(key, str) else path_of(key)]._next()

    def reads_of(self, obj: Obj) -> int:
        return self.reads.get(path_of(obj), 0)

    def _check(self, obj: Obj) -> None:
        text = json.dumps(obj, sort_keys=True)
        if text in self._checked:
            return
        problems = live_object_errors(obj)
        assert not problems, f"a fixture the real API would not serve: {problems}"
        self._checked.add(text)

    def _serve(self, path: str, query: Mapping[str, list[str]]) -> tuple[int, Obj]:
        with self._lock:
            self.reads[path] = self.reads.get(path, 0) + 1
            if path in self.forbidden:
                return 403, _status(403, "Forbidden", f'cannot get resource at "{path}"')
            if path in self.scripts:
                source = self.scripts[path].current()
                found = source() if callable(source) else source
                if found is None:
                    return 404, _status(404, "NotFound", f'"{path.rsplit("/", 1)[-1]}" not found')
                found = copy.deepcopy(found)
            else:
                found = self._list(path, query.get("labelSelector", [""])[0])
                if found is None:
                    return 404, _status(404, "NotFound", "the server could not find the requested resource")
        for item in found.get("items", [found]):
            self._check(item)
        return 200, found

    def _list(self, path: str, selector: str) -> Obj | None:
        """A collection: every object served under it now whose labels match the selector (`k=v,k=v`)."""
        wanted = dict(part.split("=", 1) for part in selector.split(",") if "=" in part)
        items = []
        for key, script in self.scripts.items():
            if key.rsplit("/", 1)[0] != path:
                continue
            source = script.settle()
            found = source() if callable(source) else source
            labels = (found or {}).get("metadata", {}).get("labels") or {}
            if found is not None and all(labels.get(k) == v for k, v in wanted.items()):
                items.append(copy.deepcopy(found))
        if path.rsplit("/", 1)[-1] not in PLURALS.values():
            return None
        kind = next((k for k, p in PLURALS.items() if path.endswith("/" + p)), "Object")
        api = path.split("/namespaces/", maxsplit=1)[0].removeprefix("/apis/").removeprefix("/api/")
        return {"apiVersion": api, "kind": f"{kind}List", "metadata": {"resourceVersion": "1"}, "items": items}

    def kubeconfig(self, path: Path, token: str = "fake-token-not-a-secret") -> Path:
        """A kubeconfig whose current context is this server."""
        path.write_text(f"""apiVersion: v1
kind: Config
clusters:
  - name: loopback
    cluster: {{server: "http://127.0.0.1:{self.port}"}}
users:
  - name: modelops
    user: {{token: {token}}}
contexts:
  - name: loopback
    context: {{cluster: loopback, user: modelops}}
current-context: loopback
""", encoding="utf-8")
        return path


def _status(code: int, reason: str, message: str) -> Obj:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class _Handler(BaseHTTPRequestHandler):
    api: KubeApi

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            self.api.tokens.add(auth.removeprefix("Bearer "))
        code, body = self.api._serve(parts.path, parse_qs(parts.query))
        self._answer(code, body)

    def _refuse(self) -> None:
        self.api.writes.append(f"{self.command} {self.path}")
        self._answer(405, _status(405, "MethodNotAllowed", "modelops only reads"))

    do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

    def _answer(self, code: int, body: Obj) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def kube_api() -> Iterator[KubeApi]:
    """A running server on 127.0.0.1 (a free port), stopped when the block ends."""
    api = KubeApi()
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    api.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- objects as the controllers write them ---------------------------------------------------------------------


def pod_hash(revision: str) -> str:
    """A pod-template hash as Kubernetes spells them (10 characters of its safe alphabet), from the revision."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    digest = hashlib.sha256(revision.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def served(rendered: Obj, generation: int = 1, status: Obj | None = None) -> Obj:
    """A rendered object as the API returns it once applied: server metadata, and a status when given."""
    obj = copy.deepcopy(rendered)
    name = obj["metadata"]["name"]
    obj["metadata"] |= {"uid": f"uid-{hashlib.sha256(path_of(obj).encode()).hexdigest()[:12]}",
                        "resourceVersion": str(100 + generation), "generation": generation,
                        "creationTimestamp": STAMP}
    obj["metadata"].setdefault("labels", {})
    assert obj["metadata"]["name"] == name
    if status is not None:
        obj["status"] = status
    return obj


def template_revision(workload: Obj) -> str:
    return str(workload["spec"]["template"]["metadata"]["annotations"]["modelops.dev/revision"])


def _condition(kind: str, status: str, reason: str, message: str) -> Obj:
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": STAMP,
            "lastUpdateTime": STAMP}


def rollout(rendered: Obj, *, stable: str, phase: str, generation: int = 2, step: int | None = None,
            message: str = "", abort: bool = False, pause: str | None = None, analysis: Obj | None = None,
            replicas: int = 4, updated: int | None = None) -> Obj:
    """A Rollout (canary or blue-green) as Argo Rollouts writes its status. `rendered` is the Rollout in rendered/
    (its template is the current revision); `stable` the revision of the stable ReplicaSet; `analysis` an AnalysisRun
    summary (`name`, `status`, `message`)."""
    current = pod_hash(template_revision(rendered))
    conditions = [_condition("Available", "True", "AvailableReason", "Rollout has minimum availability")]
    if abort:
        conditions.append(_condition("Progressing", "False", "RolloutAborted", message.split(": ", 1)[-1]))
    elif phase == "Healthy":
        done = f'ReplicaSet "{rendered["metadata"]["name"]}-{current}" has successfully progressed.'
        conditions += [_condition("Progressing", "True", "NewReplicaSetAvailable", done),
                       _condition("Healthy", "True", "RolloutHealthy", "Rollout is healthy"),
                       _condition("Completed", "True", "RolloutCompleted", "Rollout completed update to revision 2")]
    else:
        conditions.append(_condition("Progressing", "True", "ReplicaSetUpdated",
                                     f'ReplicaSet "{rendered["metadata"]["name"]}-{current}" is progressing.'))
    status: Obj = {"phase": phase, "observedGeneration": str(generation), "currentPodHash": current,
                   "stableRS": pod_hash(stable), "replicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas, "updatedReplicas": replicas if updated is None else updated,
                   "selector": f"app.kubernetes.io/name={rendered['metadata']['name']}", "conditions": conditions,
                   "currentStepHash": "5f8d4c7b9"}
    if message:
        status["message"] = message
    strategy = rendered["spec"]["strategy"]
    if "canary" in strategy:
        steps = strategy["canary"].get("steps", [])
        status["currentStepIndex"] = len(steps) if step is None else step
        status["canary"] = {"currentStepAnalysisRunStatus": analysis} if analysis else {}
        status["blueGreen"] = {}
    else:
        active = current if phase == "Healthy" else pod_hash(stable)
        green: Obj = {"activeSelector": active, "previewSelector": current}
        if analysis:
            green["prePromotionAnalysisRunStatus"] = analysis
        status["blueGreen"] = green
        status["canary"] = {}
    if abort:
        status |= {"abort": True, "abortedAt": STAMP}
    if pause:
        status |= {"pauseConditions": [{"reason": pause, "startTime": STAMP}], "controllerPause": True}
    return served(rendered, generation, status)


def replica_set(owner: Obj, template: Obj, *, replicas: int, available: int | None = None,
                revision_number: int = 1) -> Obj:
    """A ReplicaSet a Rollout or a Deployment (`owner`, as served) owns, with the pod template of one revision."""
    name = owner["metadata"]["name"]
    digest = pod_hash(str(template["metadata"]["annotations"]["modelops.dev/revision"]))
    hash_label = "rollouts-pod-template-hash" if owner["kind"] == "Rollout" else "pod-template-hash"
    revision_key = "rollout.argoproj.io/revision" if owner["kind"] == "Rollout" else "deployment.kubernetes.io/revision"
    labels = {**template["metadata"]["labels"], hash_label: digest}
    body = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{name}-{digest}", "namespace": owner["metadata"]["namespace"],
                         "labels": labels, "annotations": {revision_key: str(revision_number)},
                         "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": name,
                                              "uid": owner["metadata"]["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": {**owner["spec"]["selector"]["matchLabels"], hash_label: digest}},
                     "template": {**copy.deepcopy(template),
                                  "metadata": {**copy.deepcopy(template["metadata"]), "labels": labels}}}}
    ready = replicas if available is None else available
    return served(body, 1, {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": ready,
                            "availableReplicas": ready, "observedGeneration": 1})


def analysis_run(rollout_live: Obj, *, step: int, metric: str, phase: str, message: str, value: str) -> Obj:
    """The AnalysisRun of a canary step, as the controller names and writes it."""
    name = f"{rollout_live['metadata']['name']}-{rollout_live['status']['currentPodHash']}-2-{step}"
    measurement = {"phase": phase, "value": value, "startedAt": STAMP, "finishedAt": STAMP}
    result: Obj = {"name": metric, "phase": phase, "measurements": [measurement], "count": 1,
                   "successful": int(phase == "Successful"), "failed": int(phase == "Failed"), "metadata": {}}
    status: Obj = {"phase": phase, "metricResults": [result], "startedAt": STAMP,
                   "runSummary": {"count": 1, "successful": result["successful"], "failed": result["failed"]}}
    if message:
        status["message"] = message
    if phase in ("Successful", "Failed", "Error", "Inconclusive"):
        status["completedAt"] = STAMP
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
            "metadata": {"name": name, "namespace": rollout_live["metadata"]["namespace"],
                         "labels": {"rollout-type": "Step", "step-index": str(step),
                                    "rollouts-pod-template-hash": rollout_live["status"]["currentPodHash"]},
                         "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                              "name": rollout_live["metadata"]["name"],
                                              "uid": rollout_live["metadata"]["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"metrics": [{"name": metric, "provider": {"prometheus": {"address": "http://prometheus:9090",
                                                                             "query": "vector(0)"}}}]}}
    return served(body, 1, status)


def run_summary(run: Obj) -> Obj:
    """How a Rollout's status names an AnalysisRun."""
    found = {"name": run["metadata"]["name"], "status": run["status"]["phase"]}
    if run["status"].get("message"):
        found["message"] = run["status"]["message"]
    return found


def application(name: str, *, path: str, revision: str, sync: str, health: str, operation: str | None = None,
                message: str = "", namespace: str = "argocd", destination: str = "ml-prod") -> Obj:
    """An Argo CD Application syncing `path` of a repository, as the application controller writes its status."""
    source = {"repoURL": "https://git.example.com/ops.git", "path": path, "targetRevision": "main"}
    status: Obj = {"sync": {"status": sync, "revision": revision,
                            "comparedTo": {"source": source, "destination": {"server": "https://kubernetes.default.svc",
                                                                            "namespace": destination}}},
                   "health": {"status": health}, "reconciledAt": STAMP, "sourceType": "Directory"}
    if operation is not None:
        status["operationState"] = {"phase": operation, "message": message or "successfully synced (all tasks run)",
                                    "startedAt": STAMP, "finishedAt": STAMP,
                                    "operation": {"sync": {"revision": revision},
                                                  "initiatedBy": {"automated": True}},
                                    "syncResult": {"revision": revision, "source": source}}
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"project": "default", "source": source,
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": destination},
                     "syncPolicy": {"automated": {"prune": True, "selfHeal": True}}}}
    return served(body, 1, status)


def inference_service(rendered: Obj, *, ready: bool, latest_percent: int, generation: int = 2,
                      failure: str | None = None, previous: bool = True) -> Obj:
    """A KServe InferenceService (Serverless) as its controller writes the status: conditions and the predictor's
    traffic per Knative revision."""
    name = rendered["metadata"]["name"]
    latest, older = f"{name}-predictor-0000{generation}", f"{name}-predictor-0000{generation - 1}"
    traffic = [{"revisionName": latest, "percent": latest_percent, "latestRevision": True, "tag": "latest"}]
    if previous and latest_percent < 100:
        traffic.append({"revisionName": older, "percent": 100 - latest_percent, "latestRevision": False,
                        "tag": "prev"})
    state = "True" if ready else "False"
    conditions = [{"type": kind, "status": state, "lastTransitionTime": STAMP}
                  for kind in ("IngressReady", "PredictorConfigurationReady", "PredictorReady", "PredictorRouteReady",
                               "Ready")]
    if failure is not None:
        for condition in conditions:
            condition |= {"reason": "RevisionFailed", "message": failure}
    status: Obj = {"observedGeneration": generation, "conditions": conditions,
                   "url": f"http://{name}.{rendered['metadata']['namespace']}.example.com",
                   "components": {"predictor": {"latestCreatedRevision": latest,
                                                "latestReadyRevision": latest if ready else older,
                                                "latestRolledoutRevision": latest if latest_percent == 100 else older,
                                                "previousRolledoutRevision": older, "traffic": traffic}},
                   "modelStatus": {"transitionStatus": "UpToDate" if failure is None else "BlockedByFailedLoad",
                                   "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"}}}
    if failure is not None:
        status["modelStatus"]["lastFailureInfo"] = {"reason": "ModelLoadFailed", "message": failure}
    return served(rendered, generation, status)


def deployment(rendered: Obj, *, available: int, updated: int | None = None, deadline: bool = False,
               generation: int = 2) -> Obj:
    """A Deployment as the deployment controller writes its status."""
    replicas = int(rendered["spec"].get("replicas", available))
    replica_set_name = f'{rendered["metadata"]["name"]}-{pod_hash(template_revision(rendered))}'
    progressing = (_condition("Progressing", "False", "ProgressDeadlineExceeded",
                              f'ReplicaSet "{replica_set_name}" has timed out progressing.') if deadline else
                   _condition("Progressing", "True", "NewReplicaSetAvailable",
                              f'ReplicaSet "{replica_set_name}" has successfully progressed.'))
    status = {"observedGeneration": generation, "replicas": replicas, "updatedReplicas":
              replicas if updated is None else updated, "readyReplicas": available, "availableReplicas": available,
              "conditions": [_condition("Available", "True" if available else "False", "MinimumReplicasAvailable",
                                        "Deployment has minimum availability."), progressing]}
    return served(rendered, generation, status)


def service(rendered: Obj) -> Obj:
    return served(rendered, 1, {"loadBalancer": {}})

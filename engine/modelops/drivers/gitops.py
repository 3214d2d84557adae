"""The `gitops` target: apply renders Kubernetes manifests into `environments/<env>/rendered/`.

Argo CD or Flux then syncs that directory. Each operation updates the driver's serving table (which slot
holds which revision, where traffic goes) and re-renders the whole environment, so the directory always
shows the state the apply has reached: a deploy fills a slot's Deployment (or the Rollout's or
InferenceService's template), a blue-green switch is a change of the Service selector, a rollback switches
it back, a canary weight is a replica split (plain) or `canaryTrafficPercent` (kserve), a retirement
scales a slot to zero. Settings are `spec.target.gitops`: flavor, namespace, autoscaler.

The serving table starts from the recorded state (`state.json` plus an interrupted apply's journal), which
is what a fresh clone in CI has; only an environment that was never applied starts from the table kept in
`.modelops/live/<env>.json`. That file also records what was rendered: the digest of the whole
rendering and of every file, and the spec of every revision rendered (so a slot whose revision left the
configuration still renders exactly). Operations set values rather than add to them, and rendering is
deterministic, so repeating an operation (same idempotency key after a crash) changes nothing.
`rendered/` is checked for staleness by `modelops export kubernetes --env ENV --check`. With
`spec.target.gitops.cluster`, `observe` also reads the cluster that Argo CD or Flux syncs rendered/ into
(`modelops.drivers.cluster`).

Every rendering is appended to `.modelops/live/<env>.render.log` (the operation, its idempotency key, the
digest of what was rendered): the trail of what Argo CD or Flux was handed, step by step, in which a resumed
apply's repeats show as repeated keys.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from modelops.base.clock import now_iso
from modelops.base.errors import EngineError
from modelops.base.files import atomic_write
from modelops.base.layout import live_path
from modelops.config.spec.environment import GitopsCluster, GitopsTarget
from modelops.core.live import LiveModel, Observation
from modelops.core.model import EnvironmentConfig, dump
from modelops.drivers.base import Operation, Outcome
from modelops.drivers.local import ends_mid_line, observe_table
from modelops.export import rendered
from modelops.export.files import ExportFile
from modelops.export.kubernetes import render, views
from modelops.state.format import EnvironmentState
from modelops.validate.kubernetes import settings_for

SPECS_KEPT = 20


def _recorded(root: Path, environment: str) -> EnvironmentState | None:
    from modelops.state.recorded import load_state

    try:
        return load_state(root, environment)[0]
    except EngineError:
        return None


def _table_from_state(state: EnvironmentState) -> dict[str, Any]:
    models = {}
    for name, ms in sorted(state.models.items()):
        if ms.slots:
            models[name] = {"active": ms.active_slot, "traffic": dict(ms.traffic),
                            "slots": {slot: {"version": h.version, "revision": h.revision, "status": h.status}
                                      for slot, h in sorted(ms.slots.items())}}
    return models


class GitopsDriver:
    """Renders manifests on every operation; see the module docstring."""

    name = "gitops"

    def __init__(self, root: Path, env: EnvironmentConfig) -> None:
        self.root = root
        self.env = env
        self.environment = env.name
        self.settings = env.spec.target.gitops or GitopsTarget()
        self.path = live_path(root, env.name)
        self.log_path = self.path.with_suffix(".render.log")
        self.table = self._load()

    @classmethod
    def create(cls, root: Path, env: EnvironmentConfig) -> GitopsDriver:
        return cls(root, env)

    def _load(self) -> dict[str, Any]:
        try:
            table: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            table = {}
        table.setdefault("models", {})
        table.setdefault("specs", {})
        table["environment"] = self.environment
        state = _recorded(self.root, self.environment)
        if state is not None and state.exists:
            table["models"] = _table_from_state(state)  # the committed record wins over a local leftover
        return table

    # -- operations ------------------------------------------------------------------------------

    def execute(self, operation: Operation) -> Outcome:
        handler = getattr(self, f"_{operation.op}", None)
        if handler is None:
            return Outcome(False, f"unknown operation {operation.op}")
        table = copy.deepcopy(self.table)
        detail: str = handler(table, operation.target, operation.args)
        try:
            files = self._render(table)
            written = rendered.write(self.root, self.environment, files)
        except EngineError as exc:
            return Outcome(False, exc.message + (f" ({exc.hint})" if exc.hint else ""))
        table["rendered"] = rendered.record_of(files, self.settings.flavor)
        rendering = table["rendered"]["digest"]
        table["updated"] = now_iso()
        self.table = table
        atomic_write(self.path, json.dumps(table, indent=2, sort_keys=True) + "\n", self.root, durable=False)
        self._log(operation, rendering, table["updated"])
        where = f"environments/{self.environment}/rendered/"
        changed = len(written.written) + len(written.removed)
        summary = (f"{detail}; rendered {len(files)} file{'s' if len(files) != 1 else ''} in {where} "
                   f"({changed} changed, {rendering[:19]})")
        return Outcome(True, summary, {"digest": rendering, "files": sorted(f.name for f in files)})

    def _log(self, operation: Operation, rendering: str, at: str) -> None:
        entry = {"at": at, "op": operation.op, "target": operation.target, "key": operation.key,
                 "rendering": rendering}
        lead = "\n" if ends_mid_line(self.log_path) else ""  # a killed writer's torn line stays on its own
        # evidence, not state: rendered/ and state.json hold what counts, so a log that cannot be written is no failure
        with contextlib.suppress(OSError), self.log_path.open("a", encoding="utf-8") as log:
            log.write(lead + json.dumps(entry, sort_keys=True) + "\n")

    @staticmethod
    def _model(table: dict[str, Any], name: str) -> dict[str, Any]:
        entry: dict[str, Any] = table["models"].setdefault(name, {"active": None, "slots": {}, "traffic": {}})
        return entry

    def _deploy(self, table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
        entry = self._model(table, model)
        entry["slots"][args["slot"]] = {"version": args["version"], "revision": args["revision"],
                                        "status": "preview"}
        return f"slot {args['slot']} takes {args['version']}"

    def _traffic(self, table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
        entry = self._model(table, model)
        weights = {slot: int(w) for slot, w in args["weights"].items() if slot in entry["slots"]}
        entry["traffic"] = {slot: w for slot, w in sorted(weights.items()) if w > 0}
        if args.get("switch"):
            new = next((slot for slot, w in weights.items() if w == 100), None)
            old = entry.get("active")
            if new is not None:
                if old is not None and old != new and old in entry["slots"]:
                    entry["slots"][old]["status"] = "warm"
                entry["slots"][new]["status"] = "active"
                entry["active"] = new
                return f"Service selects slot {new}"
        return ", ".join(f"{slot} {w}%" for slot, w in entry["traffic"].items()) or "no traffic"

    def _retire(self, table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
        entry = self._model(table, model)
        entry["slots"].pop(args["slot"], None)
        entry["traffic"].pop(args["slot"], None)
        return f"slot {args['slot']} scaled to zero"

    def _configure(self, table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
        return "configuration re-rendered"

    def _remove(self, table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
        table["models"].pop(model, None)
        return "model removed"

    def _rename(self, table: dict[str, Any], model: str, args: Mapping[str, Any]) -> str:
        if args["from"] in table["models"]:  # a repeated rename finds the model already under its new name
            table["models"][model] = table["models"].pop(args["from"])
        return f"slots of {args['from']} now render as {model}"

    def _policy(self, table: dict[str, Any], key: str, args: Mapping[str, Any]) -> str:
        return "policy removed" if args.get("digest") is None else "policy re-rendered"

    # -- rendering --------------------------------------------------------------------------------

    def _render(self, table: dict[str, Any]) -> list[ExportFile]:
        env = self.env
        state = _recorded(self.root, self.environment)
        serving = {name: views.Serving(entry.get("active"),
                                       {slot: views.Held(h["version"], h["revision"], h["status"])
                                        for slot, h in entry["slots"].items()}, dict(entry["traffic"]))
                   for name, entry in table["models"].items()}
        live = views.live_views(env, serving, state, table["specs"])
        files = render.render(env, live, settings_for(env, target=self.settings, driver=True))
        specs = dict(table["specs"])
        for view in live:
            for slot in view.slots.values():
                specs.pop(slot.revision, None)
                specs[slot.revision] = dump(slot.spec)
        table["specs"] = dict(list(specs.items())[-SPECS_KEPT:])
        return files

    def observe(self) -> Observation:
        """What Argo CD or Flux is handed: the digest of each model's file in rendered/, which the recorded state's
        `rendered` record must match (a file edited, added or removed by hand is drift)."""
        state = _recorded(self.root, self.environment)
        recorded = set(state.rendered.files) if state is not None and state.rendered is not None else set()
        files = rendered.observed(self.root, self.env, state, recorded)
        served = observe_table(self.table, "").models
        on_disk = {name: files.get(name, LiveModel()) for name in sorted(set(files) | set(served))}
        models = {name: replace(served.get(name, LiveModel()), files=disk.files, rendering=disk.rendering)
                  for name, disk in on_disk.items()}
        where = f"environments/{self.environment}/rendered/ (the gitops target)"
        if self.settings.cluster is None:
            return Observation(where, models)
        return self._observe_cluster(self.settings.cluster, where, models)

    def _observe_cluster(self, cluster: GitopsCluster, where: str, models: dict[str, LiveModel]) -> Observation:
        """The file read, with what the cluster runs behind it (see `modelops.drivers.cluster.live`). A cluster that
        cannot be read is the refresh's error: nothing is judged blindly."""
        from modelops.drivers.cluster.client import ClusterError, connect
        from modelops.drivers.cluster.live import held, live_model
        from modelops.drivers.cluster.read import read_models

        try:
            kube = connect(self.root, cluster)
            try:
                reads = read_models(self.root, self.environment, kube,
                                    {name: held(live) for name, live in models.items()})
            finally:
                kube.close()
        except ClusterError as exc:
            return Observation(f"{where} and its cluster", models,
                               error=exc.message + (f" ({exc.hint})" if exc.hint else ""))
        merged = {name: live_model(reads.get(name), live) for name, live in models.items()}
        return Observation(f"{where} and its cluster ({kube.where})", merged)

    def close(self) -> None:
        return None

"""One environment's real runtime: start, route, scrape, observe and stop the processes of its slots.

A deploy starts the slot's server (MLServer for the model's `file://` artifact, or the model's own command) on
free loopback ports and waits, within `startTimeout`, for its readiness path; a slot that exits or stays unready
is stopped and the error carries the end of its log. The slot is recorded before its router points at it, and the
process it replaces is stopped after. Every model has a router (HAProxy) whose weights are the traffic split;
Prometheus scrapes every slot. `observe` asks the processes themselves: is the pid still the one started, does the
slot answer ready, does it serve the recorded version, what weights does the router hold. `up` starts again
whatever the record holds and is not running; `down` stops everything and keeps the record.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from modelops.base.clock import now_iso, readable
from modelops.base.layout import runtime_dir, runtime_prometheus_url
from modelops.config.spec.environment import LocalTarget
from modelops.core.live import LiveModel, LiveSlot, Observation
from modelops.core.model import EnvironmentConfig, dump
from modelops.drivers.localrt import metrics, router, servers
from modelops.drivers.localrt.load import Load, read_requests
from modelops.drivers.localrt.procs import Proc, StartError, alive, free_port, http_status, spawn, stop, wait_ready
from modelops.drivers.localrt.record import Record, Serve, Service, SlotRecord, stopped
from modelops.drivers.localrt.servers import Ports
from modelops.state.format import SLOTS

SERVICE_START_S = 30.0
#: How long a traffic change waits, at most, for Prometheus to see requests on every slot that takes traffic.
WARMUP_S = 15.0


class RuntimeProblem(Exception):
    """The runtime cannot do what it was asked; the message says why and what to do."""


@dataclass(frozen=True)
class ProcessRow:
    """One process of the runtime, for `modelops local status`."""

    component: str  # slot | router | prometheus
    model: str
    slot: str
    version: str
    pid: int | None
    url: str
    state: str  # ready | running | unready | stopped | exited
    log: str


class Runtime:
    """The processes of one environment's local target, and their record."""

    def __init__(self, root: Path, env: EnvironmentConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        self.root = root
        self.env = env
        self.settings = env.spec.target.local or LocalTarget(runtime="mlserver")
        self.folder = runtime_dir(root, env.name)
        self.record = Record.read(self.folder, env.name)
        self.loads: dict[str, Load] = {}
        self.sleep = sleep

    # -- what is missing --------------------------------------------------------------------------

    def missing(self) -> list[str]:
        """What this runtime needs and this machine lacks, each with how to get it."""
        needs = [servers.HAPROXY_HINT] if servers.find_tool("haproxy") is None else []
        own = [m.spec.serving.local is not None and m.spec.serving.local.command is not None
               for m in self.env.models.values()]
        mlserver = self.settings.runtime == "mlserver" and not (own and all(own))  # unless each has its own command
        if mlserver and servers.find_mlserver(self.root) is None:
            needs.append(servers.MLSERVER_HINT)
        if self.wants_prometheus and servers.find_tool("prometheus") is None:
            needs.append(servers.PROMETHEUS_HINT)
        return needs

    @property
    def wants_prometheus(self) -> bool:
        metrics_spec = self.env.spec.metrics
        return metrics_spec is not None and metrics_spec.source == "prometheus" and metrics_spec.url is None

    # -- operations -------------------------------------------------------------------------------

    def deploy(self, model: str, slot: str, version: str, revision: str) -> str:
        current = self.record.model(model).slots.get(slot)
        if current is not None and current.serve.revision == revision and alive(current.proc):
            self._route(model)
            return f"slot {slot} already runs {version} (pid {current.proc.pid if current.proc else '-'})"
        serve = self._serve(model, version, revision)
        started = time.monotonic()
        fresh = self._start_slot(slot, serve)
        self.record.model(model).slots[slot] = fresh
        self._save()  # recorded before anything depends on it: whatever runs can be found and stopped
        self._route(model)
        self._discard(current)  # after the router moved to the new process
        self._scrape()
        return (f"slot {slot} runs {version}: {serve.kind} pid {fresh.proc.pid if fresh.proc else '-'} on "
                f"{fresh.url}, ready in {readable((time.monotonic() - started) * 1000)}")

    def traffic(self, model: str, weights: Mapping[str, int]) -> str:
        entry = self.record.model(model)
        entry.traffic = {slot: int(w) for slot, w in weights.items() if slot in entry.slots}
        self._save()
        self._route(model)
        split = ", ".join(f"{slot} {w}%" for slot, w in sorted(entry.traffic.items())) or "no traffic"
        return split + " (router weights)" + self._drive_load(model)

    def retire(self, model: str, slot: str) -> str:
        entry = self.record.model(model)
        held = entry.slots.pop(slot, None)
        entry.traffic.pop(slot, None)
        self._save()
        if held is not None:
            self._route(model)
            self._discard(held)
            self._scrape()
        return f"slot {slot} stopped"

    def remove(self, model: str) -> str:
        entry = self.record.models.pop(model, None)
        self._stop_load(model)
        self._save()
        if entry is not None:
            for held in entry.slots.values():
                self._discard(held)
            stop(entry.router.proc if entry.router else None)
            self._scrape()
        return "model removed: its slots and router stopped"

    def rename(self, old: str, new: str) -> str:
        """MLServer serves a model under its name: each slot starts again under the new one, then the old stops."""
        entry = self.record.models.pop(old, None)
        if entry is None:
            return f"slots of {old} now serve as {new}"
        self.record.models[new] = entry
        if entry.router is not None:  # its admin socket is named after the model: a router of the new name takes over
            stop(entry.router.proc)
            entry.router = replace(entry.router, proc=None)
        self._save()
        for slot, held in sorted(entry.slots.items()):
            fresh = self._start_slot(slot, replace(held.serve, model=new))
            entry.slots[slot] = fresh
            self._save()
            self._route(new)
            self._discard(held)
        self._scrape()
        return f"slots of {old} now serve as {new}"

    def configure(self, model: str, config: str) -> str:
        self.record.model(model).config = config
        self._save()
        return "configuration recorded"

    def policy(self, key: str, digest: str | None) -> str:
        if digest is None:
            self.record.policies.pop(key, None)
        else:
            self.record.policies[key] = digest
        self._save()
        return "policy removed" if digest is None else "policy recorded"

    # -- reading ----------------------------------------------------------------------------------

    def endpoint(self, model: str, slot: str) -> str | None:
        """A slot's own URL (what preview tests call), or with slot "active" the router's."""
        entry = self.record.models.get(model)
        if entry is None:
            return None
        if slot == "active":
            return f"http://127.0.0.1:{entry.router.port}" if entry.router else None
        held = entry.slots.get(slot)
        return held.url if held is not None else None

    def observe(self) -> Observation:
        """What the processes serve now (a slot whose process is gone serves nothing)."""
        found = {}
        for name, entry in sorted(self.record.models.items()):
            slots = {slot: live for slot, held in entry.slots.items() if (live := _live_slot(held)) is not None}
            found[name] = LiveModel(slots, self._shares(name, entry.router))
        source = f".modelops/runtime/{self.env.name} (the local target: {self.settings.runtime} processes)"
        return Observation(source, found)

    def rows(self) -> list[ProcessRow]:
        rows = []
        for name, entry in sorted(self.record.models.items()):
            for slot, held in sorted(entry.slots.items()):
                live = _live_slot(held)
                state = "stopped" if held.proc is None else "exited" if live is None else (
                    "ready" if live.ready else "unready")
                rows.append(ProcessRow("slot", name, slot, held.serve.version, held.proc.pid if held.proc else None,
                                       held.url, state, f".modelops/runtime/{self.env.name}/{held.log}"))
            if entry.router is not None:
                rows.append(self._service_row("router", name, entry.router, f"logs/{name}-router.log"))
        if self.record.prometheus is not None:
            rows.append(self._service_row("prometheus", "-", self.record.prometheus, "logs/prometheus.log"))
        return rows

    def _service_row(self, component: str, model: str, service: Service, log: str) -> ProcessRow:
        state = "stopped" if service.proc is None else "running" if alive(service.proc) else "exited"
        return ProcessRow(component, model, "-", "-", service.proc.pid if service.proc else None,
                          f"http://127.0.0.1:{service.port}", state, f".modelops/runtime/{self.env.name}/{log}")

    # -- up and down --------------------------------------------------------------------------------

    def up(self) -> list[str]:
        """Start whatever the record holds that does not run; what was started, one line each."""
        done = []
        for name, entry in sorted(self.record.models.items()):
            for slot, held in sorted(entry.slots.items()):
                if not alive(held.proc):
                    self._remove_folder(held.folder)
                    fresh = self._start_slot(slot, held.serve)
                    entry.slots[slot] = fresh
                    self._save()
                    done.append(f"{name} slot {slot} ({held.serve.version}) started on {fresh.url}")
            if entry.slots:
                was_running = entry.router is not None and alive(entry.router.proc)
                self._route(name)
                if not was_running and entry.router is not None:
                    done.append(f"{name} router started on http://127.0.0.1:{entry.router.port}")
        if self._scrape() and self.record.prometheus is not None:
            done.append(f"prometheus started on http://127.0.0.1:{self.record.prometheus.port}")
        return done

    def down(self) -> list[str]:
        """Stop every process of the runtime; the record stays, so `up` brings the same back."""
        for model in list(self.loads):
            self._stop_load(model)
        done = []
        for name, entry in sorted(self.record.models.items()):
            for slot, held in sorted(entry.slots.items()):
                if alive(held.proc):
                    done.append(f"{name} slot {slot} (pid {held.proc.pid if held.proc else '-'}) stopped")
                self._discard(held)
                entry.slots[slot] = stopped(held)
            if entry.router is not None:
                if alive(entry.router.proc):
                    done.append(f"{name} router stopped")
                stop(entry.router.proc)
                entry.router = replace(entry.router, proc=None)
        if self.record.prometheus is not None:
            if alive(self.record.prometheus.proc):
                done.append("prometheus stopped")
            stop(self.record.prometheus.proc)
            self.record.prometheus = replace(self.record.prometheus, proc=None)
        runtime_prometheus_url(self.root, self.env.name).unlink(missing_ok=True)
        self._save()
        return done

    def close(self) -> None:
        for model in list(self.loads):
            self._stop_load(model)

    # -- slots ------------------------------------------------------------------------------------

    def _serve(self, model: str, version: str, revision: str) -> Serve:
        """How to serve a revision: from the configuration when it describes it, else from the recorded releases
        (a rollback to a revision the YAML no longer names)."""
        fields = _revision_fields(self.env, self.root, model, revision)
        if fields is None:
            raise RuntimeProblem(f"no description of {model} revision {revision[:19]} in the configuration or the "
                                 "recorded releases: the local runtime cannot tell what to start")
        local = fields.get("serving", {}).get("local") or {}
        command = tuple(local.get("command") or ())
        if self.settings.runtime == "command" and not command:
            raise RuntimeProblem(f"{model}: the environment's local runtime is `command`, and the model names no "
                                 "spec.serving.local.command")
        kind = "command" if command else "mlserver"
        uri = str(fields.get("artifact", {}).get("uri", ""))
        artifact = uri if kind == "command" else str(self._artifact_path(model, uri))
        ready = local.get("readyPath") or (f"/v2/models/{model}/ready" if kind == "mlserver"
                                            else fields.get("serving", {}).get("healthPath", "/health"))
        return Serve(model, version, revision, kind, artifact, command, ready, local.get("metricsPath"),
                     local.get("requests"))

    def _artifact_path(self, model: str, uri: str) -> Path:
        if not uri.startswith("file://"):
            raise RuntimeProblem(f"{model}: MLServer serves file:// artifacts here, not {uri.split('://', 1)[0]}:// "
                                 "(download it and point artifact.uri at the file, or give the model a "
                                 "spec.serving.local.command)")
        path = artifact_path(self.root, uri)
        if not path.is_file():
            raise RuntimeProblem(f"{model}: artifact {uri} is not a file")
        return path

    def _start_slot(self, slot: str, serve: Serve) -> SlotRecord:
        """Start a slot's server and wait for it; on any failure (or an interrupt) nothing of it keeps running."""
        missing = self.missing()
        if missing:
            raise RuntimeProblem("the local runtime cannot start a slot: " + "; ".join(missing))
        name = f"{serve.model}-{slot}"
        log = self.folder / "logs" / f"{name}.log"
        for attempt in range(2):  # a port taken between choosing it and binding it: choose again, once
            ports, argv, folder = self._launch(slot, serve)
            _mark(log, f"start {serve.model} {serve.version} in slot {slot}: {' '.join(argv)}")
            env = servers.server_env(serve.model, serve.version, slot, serve.artifact, ports.http)
            try:
                proc = _start(argv, log, f"http://127.0.0.1:{ports.http}{serve.ready_path}",
                              self.settings.start_timeout.seconds, f"{serve.model} {serve.version} (slot {slot})",
                              cwd=self.root, env=env)
            except StartError as exc:
                self._remove_folder(folder)
                if attempt == 0 and "address already in use" in exc.log.lower():
                    continue
                raise RuntimeProblem(f"{exc.explain()}\n  full log: .modelops/runtime/{self.env.name}/logs/{name}.log"
                                     ) from None
            except BaseException:
                self._remove_folder(folder)
                raise
            return SlotRecord(serve, ports, proc, f"logs/{name}.log", now_iso(), folder)
        raise AssertionError("unreachable")

    def _launch(self, slot: str, serve: Serve) -> tuple[Ports, list[str], str | None]:
        """Ports, the command line and (MLServer) the instance's folder of a new process of a slot."""
        if serve.kind == "command":
            ports = Ports(free_port())
            return ports, servers.command_argv(serve.command, ports.http), None
        mlserver = servers.find_mlserver(self.root)
        assert mlserver is not None  # missing() said so otherwise
        ports = Ports(free_port(), free_port(), free_port())
        # a folder of its own (named by its port): the process it replaces still runs from its folder
        folder = f"slots/{serve.model}-{slot}-{ports.http}"
        servers.mlserver_folder(self.folder / folder, serve.model, serve.version, Path(serve.artifact), ports)
        return ports, servers.mlserver_argv(mlserver, self.folder / folder), folder

    def _discard(self, held: SlotRecord | None) -> None:
        """Stop a slot's process and remove what it ran from."""
        if held is not None:
            stop(held.proc)
            self._remove_folder(held.folder)

    def _remove_folder(self, folder: str | None) -> None:
        if folder is not None:
            shutil.rmtree(self.folder / folder, ignore_errors=True)

    # -- router -----------------------------------------------------------------------------------

    def _route(self, model: str) -> None:
        """Make the model's router send to its slots with the recorded weights (started when it is not running)."""
        entry = self.record.model(model)
        if not entry.slots:
            stop(entry.router.proc if entry.router else None)
            entry.router = None
            self._save()
            return
        sock = self._socket(model)
        if entry.router is None or not alive(entry.router.proc):
            entry.router = self._start_router(model, entry.router.port if entry.router else None)
            self._save()
        for slot in SLOTS:
            held = entry.slots.get(slot)
            if held is not None:
                router.place(sock, slot, held.ports.http, held.serve.version)
            else:
                router.vacate(sock, slot)
        router.set_weights(sock, entry.traffic)

    def _socket(self, model: str) -> Path:
        return self.folder / "routers" / f"{model}.sock"

    def _start_router(self, model: str, port: int | None) -> Service:
        haproxy = servers.find_tool("haproxy")
        if haproxy is None:
            raise RuntimeProblem(servers.HAPROXY_HINT)
        entry = self.record.model(model)
        sock = self._socket(model)
        sock.parent.mkdir(parents=True, exist_ok=True)
        sock.unlink(missing_ok=True)
        for attempt in range(2):
            chosen = port if port is not None and attempt == 0 else free_port()
            config = sock.with_suffix(".cfg")
            config.write_text(router.config_text(chosen, sock, {s: (h.ports.http, entry.traffic.get(s, 0))
                                                                for s, h in entry.slots.items()}), encoding="utf-8")
            (sock.parent / router.versions_map(sock)).write_text(
                router.versions_text({s: h.serve.version for s, h in entry.slots.items()}), encoding="utf-8")
            log = self.folder / "logs" / f"{model}-router.log"
            _mark(log, f"start the router of {model} on 127.0.0.1:{chosen}")
            try:
                proc = _start([haproxy, "-db", "-f", str(config)], log, f"http://127.0.0.1:{chosen}/", SERVICE_START_S,
                              f"the router of {model}", cwd=sock.parent,
                              answered=lambda status: status is not None and _answers(sock))
            except StartError as exc:
                if attempt == 0:
                    continue  # its old port may be taken by now: another one
                raise RuntimeProblem(exc.explain()) from None
            return Service(chosen, proc)
        raise AssertionError("unreachable")

    def _shares(self, model: str, service: Service | None) -> dict[str, int]:
        """The router's weights as shares of the requests (none when it does not run: nothing reaches a slot)."""
        if service is None or not alive(service.proc):
            return {}
        try:
            return router.shares(self._socket(model))
        except router.RouterError:
            return {}

    # -- metrics and synthetic traffic ------------------------------------------------------------

    def _scrape(self) -> bool:
        """Point Prometheus at every slot (started when it is wanted and not running); whether it was started."""
        folder = self.folder / "prometheus"
        entries: dict[str, list[dict[str, object]]] = {job: [] for job in metrics.JOBS}
        for name, entry in sorted(self.record.models.items()):
            for slot, held in sorted(entry.slots.items()):
                labels = {"model": name, "env": self.env.name, "slot": slot, "version": held.serve.version}
                if held.serve.kind == "mlserver" and held.ports.metrics:
                    entries["mlserver"].append(metrics.target(held.ports.metrics, labels))
                elif held.serve.metrics_path:
                    entries["command"].append(metrics.target(held.ports.http, labels, held.serve.metrics_path))
        (folder / "targets").mkdir(parents=True, exist_ok=True)
        for job, found in entries.items():
            (folder / "targets" / f"{job}.json").write_text(metrics.targets_text(found), encoding="utf-8")
        if not self.wants_prometheus or not self.record.models:
            return False
        current = self.record.prometheus
        if current is not None and alive(current.proc):
            return False
        self.record.prometheus = self._start_prometheus(folder)
        self._save()
        runtime_prometheus_url(self.root, self.env.name).write_text(
            f"http://127.0.0.1:{self.record.prometheus.port}\n", encoding="utf-8")
        return True

    def _start_prometheus(self, folder: Path) -> Service:
        binary = servers.find_tool("prometheus")
        if binary is None:
            raise RuntimeProblem(servers.PROMETHEUS_HINT)
        config = folder / "prometheus.yml"
        config.write_text(metrics.config_text(folder / "targets"), encoding="utf-8")
        port = free_port()
        log = self.folder / "logs" / "prometheus.log"
        _mark(log, f"start prometheus on 127.0.0.1:{port}")
        try:
            proc = _start(metrics.argv(binary, config, folder / "data", port), log, f"http://127.0.0.1:{port}/-/ready",
                          SERVICE_START_S, "prometheus")
        except StartError as exc:
            raise RuntimeProblem(exc.explain()) from None
        return Service(port, proc)

    def _drive_load(self, model: str) -> str:
        """Synthetic requests through the router after a traffic change, and a moment for Prometheus to see them."""
        self._stop_load(model)
        entry = self.record.model(model)
        traffic = self.settings.traffic
        requests = next((h.serve.requests for s, h in sorted(entry.slots.items()) if entry.traffic.get(s)), None)
        if traffic is None or requests is None or entry.router is None or not entry.traffic:
            return ""
        try:
            bodies = read_requests(self.root, requests)
        except (OSError, ValueError) as exc:
            return f"; no synthetic traffic: {requests} cannot be read ({exc})"
        url = f"http://127.0.0.1:{entry.router.port}/v2/models/{model}/infer"
        duration = min(traffic.duration.seconds, 600.0)
        self.loads[model] = Load(url, bodies, traffic.rate, duration).start()
        self._await_scrapes(model, sorted(s for s, w in entry.traffic.items() if w))
        lasting = readable(traffic.duration.ms, exact=True)
        return f"; synthetic traffic {traffic.rate:g} req/s for {lasting} through the router"

    def _await_scrapes(self, model: str, slots: list[str]) -> None:
        """Give Prometheus two scrapes with the new split, and up to WARMUP_S more until it has a request rate for
        every slot that takes traffic: an analysis that follows measures the change, not the moment before it."""
        service = self.record.prometheus
        if service is None or not alive(service.proc):
            return
        self.sleep(2 * metrics.SCRAPE_SECONDS)
        deadline = time.monotonic() + WARMUP_S
        while time.monotonic() < deadline and metrics.rated_slots(service.port, self.env.name, model) < set(slots):
            self.sleep(0.5)

    def _stop_load(self, model: str) -> None:
        load = self.loads.pop(model, None)
        if load is not None:
            load.stop()

    def _save(self) -> None:
        self.record.write(self.folder, self.root)


def artifact_path(root: Path, uri: str) -> Path:
    """The file of a `file://` URI: absolute (file:///models/x.joblib) or relative to the repository root
    (file://examples/models/x.joblib)."""
    path = Path(uri.removeprefix("file://"))
    return path if path.is_absolute() else root / path


def _revision_fields(env: EnvironmentConfig, root: Path, model: str, revision: str) -> dict[str, Any] | None:
    config = env.models.get(model)
    if config is not None and config.revision == revision:
        return dump(config.spec)
    from modelops.state.store import read_state

    with contextlib.suppress(Exception):  # an unreadable state only means the revision is not found there
        recorded = read_state(root, env.name).models.get(model)
        if recorded is not None:
            specs = [r.spec for r in recorded.releases if r.revision == revision]
            if recorded.rollout is not None and recorded.rollout.revision == revision:
                specs.append(recorded.rollout.spec)
            if specs:
                return dict(specs[-1])
    return None


def _live_slot(held: SlotRecord) -> LiveSlot | None:
    if not alive(held.proc):
        return None
    ready = http_status(held.url + held.serve.ready_path) == 200
    version = held.serve.version
    if ready and held.serve.kind == "mlserver":
        answered = http_status(f"{held.url}/v2/models/{held.serve.model}/versions/{version}/ready")
        if answered != 200:  # it answers, but not as the version it was started with
            return LiveSlot("(another version)", "(unknown)", ready)
    return LiveSlot(version, held.serve.revision, ready)


def _start(argv: list[str], log: Path, url: str, deadline: float, what: str, *, cwd: Path | None = None,
           env: Mapping[str, str] | None = None, answered: Callable[[int | None], bool] | None = None) -> Proc:
    """Spawn a server and wait until `url` answers (200, or what `answered` accepts); a server that exits, stays
    unready past the deadline or is interrupted while it starts (Ctrl-C, SIGTERM) is stopped, never left running
    unrecorded."""
    proc = spawn(argv, log, cwd=cwd, env=env)
    judge = answered or (lambda status: status == 200)
    try:
        wait_ready(proc, lambda: judge(http_status(url, 0.5)), deadline, what, log)
    except BaseException:
        stop(proc)
        raise
    return proc


def _answers(sock: Path) -> bool:
    try:
        router.command(sock, "show info", timeout=0.5)
    except router.RouterError:
        return False
    return True


def _mark(log: Path, what: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"--- {now_iso()} modelops: {what}\n")



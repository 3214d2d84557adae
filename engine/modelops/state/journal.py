"""The write-ahead journal of an apply in progress: `environments/<env>/state.journal`.

Before a step touches the world its intent is appended and fsynced; after it, its result is appended
with a snapshot of the model's recorded state. `state.json` is checkpointed now and then and at the
end, when the journal is removed. If the process dies, the next apply replays the journal onto the last
checkpoint: every finished step is known, and a step that started but never finished is run again with
the same idempotency key (drivers treat a repeated key as the same request, so nothing happens twice).

One JSON object per line; a torn last line (the process died mid-write) is ignored. Any other line that is
not a well-formed entry (edited or damaged by hand) stops plan, status and apply with its line number: a
journal is never half-trusted.

Fault injection for the crash tests: with `MODELOPS_FAULT=kill-after-journal:N` the process SIGKILLs
itself right after writing journal entry N (counting entries this process wrote).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from modelops.base.clock import now_iso
from modelops.base.errors import EngineError
from modelops.base.layout import journal_path
from modelops.base.paths import READ_FLAGS, inside, open_append, read_regular
from modelops.state.format import ModelState


def _fault() -> int | None:
    fault = os.environ.get("MODELOPS_FAULT", "")
    return int(fault.split(":", 1)[1]) if fault.startswith("kill-after-journal:") else None


_KILL_AFTER = _fault()


@dataclass
class Journal:
    """An open journal; `record` appends one entry."""

    path: Path
    handle: TextIO
    seq: int = 0
    written: int = 0

    def record(self, event: str, *, durable: bool = False, **fields: Any) -> None:
        self.seq += 1
        entry = {"seq": self.seq, "at": now_iso(), "event": event, **fields}
        try:
            self.handle.write(json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n")
            self.handle.flush()
            if durable:
                os.fsync(self.handle.fileno())
            self.written += 1
            if self.written == _KILL_AFTER:
                os.kill(os.getpid(), signal.SIGKILL)
        except OSError as exc:
            # Close now: text left in the buffer would otherwise fail again when the handle is collected at exit.
            with contextlib.suppress(OSError):
                self.handle.close()
            raise EngineError(f"cannot write the journal {_shown(self.path)}: {exc.strerror or exc}",
                              hint="free disk space or fix permissions; the next apply resumes from the journal",
                              ) from None

    def close(self, *, remove: bool) -> None:
        self.handle.close()
        if remove:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def open_journal(root: Path, environment: str) -> Journal:
    """Open the journal for a new apply; a finished one left behind (killed after its end) is dropped."""
    path = journal_path(root, environment)
    inside(path.parent, root)
    if path.is_symlink():  # a committed link: reading, truncating or appending would reach wherever it points
        raise EngineError(f"{_shown(path)} is a symbolic link; the engine does not write through links",
                          hint=f"remove {_shown(path)} (the journal exists only while an apply runs)")
    try:
        if not read_journal(path).interrupted:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        else:
            _drop_torn_tail(path)
        handle = os.fdopen(open_append(path), "a", encoding="utf-8")
    except OSError as exc:
        raise EngineError(f"cannot open the journal {_shown(path)}: {exc.strerror or exc}",
                          hint="free disk space or fix permissions, then run the command again") from None
    previous = read_journal(path)
    return Journal(path, handle, previous.entries[-1]["seq"] if previous.entries else 0)


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line that a killed process (or a full disk) left half-written: entries appended after it
    would otherwise share its line, and readers, which stop at the first line that does not parse, would
    never see them."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        os.truncate(path, data.rfind(b"\n") + 1)


def _shown(path: Path) -> str:
    return "/".join(path.parts[-3:])  # environments/<env>/state.journal: which environment, not where the repo is


@dataclass
class Replay:
    """What an interrupted apply left behind."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return bool(self.entries) and self.entries[-1]["event"] != "end"

    def model_snapshots(self) -> dict[str, dict[str, Any] | None]:
        """The last recorded state of every model the interrupted apply touched (None: removed, or moved to another
        name: a rename's entry carries `moved_from`)."""
        found: dict[str, dict[str, Any] | None] = {}
        for entry in self.entries:
            if entry["event"] == "done" and "model_state" in entry:
                if "moved_from" in entry:
                    found[entry["moved_from"]] = None
                found[entry["model"]] = entry["model_state"]
        return found

    def retirements(self) -> dict[str, str]:
        """When the interrupted apply retired each model it retired (a move is no retirement)."""
        found: dict[str, str] = {}
        for entry in self.entries:
            if entry["event"] == "done" and "model_state" in entry:
                if entry["model_state"] is None:
                    found[entry["model"]] = entry["at"]
                else:
                    found.pop(entry["model"], None)
                found.pop(entry.get("moved_from", ""), None)
        return found

    def policy_digests(self) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for entry in self.entries:
            if entry["event"] == "done" and "policy" in entry:
                found[entry["policy"]] = entry["digest"]
        return found

    def last_started(self) -> dict[str, Any] | None:
        starts = [e for e in self.entries if e["event"] in ("started", "done")]
        return starts[-1] if starts and starts[-1]["event"] == "started" else None

    def begin(self) -> dict[str, Any] | None:
        begins = [e for e in self.entries if e["event"] == "begin"]
        return begins[-1] if begins else None


def read_journal(path: Path) -> Replay:
    """The entries of the last apply in the journal, checked line by line: the readers (resume, status, plan
    notes) trust every field, so a line edited or damaged by hand is a located error, not a traceback or a
    step silently forgotten. Only a last line without its newline may be unreadable: a write cut short."""
    data = _read_bytes(path)
    if data is None:
        return Replay()
    lines = data.split(b"\n")
    tail = lines.pop()  # empty when the last write finished with its newline
    entries: list[dict[str, Any]] = []
    last_seq = 0
    for number, line in enumerate(lines, start=1):
        entry = _entry(path, number, line, last_seq)
        entries = [] if entry["event"] == "begin" else entries  # only the last apply matters
        entries.append(entry)
        last_seq = entry["seq"]
    if tail and (torn := _parsed(tail)) is not None:  # complete but for the newline: an entry all the same
        entry = _entry(path, len(lines) + 1, tail, last_seq, torn)
        entries = [] if entry["event"] == "begin" else entries
        entries.append(entry)
    return Replay(entries)


def _read_bytes(path: Path) -> bytes | None:
    """The journal's bytes (None when there is none); a FIFO planted at the name must not make plan or status
    wait for a writer."""
    try:
        data = read_regular(os.open(path, READ_FLAGS))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EngineError(f"cannot read the journal {_shown(path)}: {exc.strerror or exc}",
                          hint=_recovery(path)) from None
    if data is None:
        raise EngineError(f"{_shown(path)}: the journal is not a regular file", hint=_recovery(path))
    return data


def _parsed(line: bytes) -> Any:
    """The JSON value of a line, or None when it is not JSON (the engine writes ASCII JSON only)."""
    try:
        return json.loads(line.decode("ascii"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both
        return None


#: The fields each event carries (besides seq, at and event) and the types its readers rely on.
_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "begin": {"plan": (str,), "serial": (int,), "lineage": (str,)},
    "started": {"model": (str,), "step": (int,), "op": (str,), "key": (str,)},
    "done": {"step": (int,), "status": (str,)},
    "end": {"serial": (int,)},
}
_DONE_KINDS: dict[str, dict[str, tuple[type, ...]]] = {
    "model": {"model": (str,), "model_state": (dict, type(None))},
    "policy": {"policy": (str,), "digest": (str, type(None))},
}


def _entry(path: Path, number: int, line: bytes, last_seq: int, value: Any = None) -> dict[str, Any]:
    """Line `number` as a journal entry; an EngineError located at the line says what is wrong with it."""
    value = _parsed(line) if value is None else value
    problem = _problem(value, last_seq)
    if problem is not None:
        raise EngineError(f"{_shown(path)}:{number}: {problem}", hint=_recovery(path))
    return value  # type: ignore[no-any-return]  # checked: a dict


def _problem(value: Any, last_seq: int) -> str | None:
    if not isinstance(value, dict):
        return "not a journal entry (each line is one JSON object)" if value is not None else "not valid JSON"
    event = value.get("event")
    if event not in _FIELDS:
        return f"unknown event {event!r} (expected one of {', '.join(_FIELDS)})"
    fields = {"seq": (int,), "at": (str,), **_FIELDS[event]}
    if event == "done":
        fields |= _DONE_KINDS["policy" if "policy" in value else "model"]
    for name, types in fields.items():
        if name not in value:
            return f"{event} entry without {name!r}"
        if not isinstance(value[name], types) or isinstance(value[name], bool):
            return f"{event} entry has {name!r} of the wrong type ({type(value[name]).__name__})"
    if value["seq"] <= last_seq:
        return f"entry seq {value['seq']} does not follow seq {last_seq} (lines reordered or repeated?)"
    snapshot = value.get("model_state")
    if event == "done" and snapshot is not None:
        try:
            ModelState.model_validate(snapshot)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            return f"invalid model_state at /{'/'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return None


def _recovery(path: Path) -> str:
    shown, env = _shown(path), path.parent.name
    return (f"the journal records the steps of an interrupted apply, for the next apply to resume; state.json is "
            f"intact as of that apply's last checkpoint. Repair the line, or move the journal out of the repository "
            f"(`mv {shown} /tmp/{env}.journal`), check `modelops status --env {env}`, and plan again (steps recorded "
            "only in the journal may run again)")

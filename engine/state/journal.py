"""The write-ahead journal of an apply in progress: `environments/<env>/state.journal`.

Before a step touches the world its intent is appended and fsynced; after it, its result is appended
with a snapshot of the model's recorded state. `state.json` is checkpointed now and then and at the
end, when the journal is removed. If the process dies, the next apply replays the journal onto the last
checkpoint: every finished step is known, and a step that started but never finished is run again with
the same idempotency key (drivers treat a repeated key as the same request, so nothing happens twice).

One JSON object per line; a torn last line (the process died mid-write) is ignored.

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

from engine.errors import EngineError
from engine.pathguard import inside, open_append
from engine.timeutil import now_iso


def _fault() -> int | None:
    fault = os.environ.get("MODELOPS_FAULT", "")
    return int(fault.split(":", 1)[1]) if fault.startswith("kill-after-journal:") else None


_KILL_AFTER = _fault()


def journal_path(root: Path, environment: str) -> Path:
    return root / "environments" / environment / "state.journal"


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
        """The last recorded state of every model the interrupted apply touched (None: removed)."""
        found: dict[str, dict[str, Any] | None] = {}
        for entry in self.entries:
            if entry["event"] == "done" and "model_state" in entry:
                found[entry["model"]] = entry["model_state"]
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
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return Replay()
    except OSError as exc:
        raise EngineError(f"cannot read the journal {path}: {exc.strerror or exc}") from None
    entries: list[dict[str, Any]] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            break  # a torn write at the end of a killed process
        entries = [] if entry.get("event") == "begin" else entries  # only the last apply matters
        entries.append(entry)
    return Replay(entries)

"""Reading and atomically writing `environments/<env>/state.json`.

A write goes to a temporary file in the same directory, is flushed and fsynced, then renamed over the
old file, and the directory is fsynced: a reader sees the old state or the new one, never a mix, and a
failed write (disk full, read-only, permission) leaves the old state untouched.
"""

from __future__ import annotations

import json
import mmap
import os
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from modelops.base.errors import ConflictError, EngineError
from modelops.base.files import atomic_write
from modelops.base.layout import state_path
from modelops.base.paths import Refusal, open_inside
from modelops.state.excerpt import excerpt
from modelops.state.format import FORMAT_VERSION, EnvironmentState, FormatTooNew, render, upgrade


def read_state(root: Path, environment: str, models: frozenset[str] | None = None) -> EnvironmentState:
    """The recorded state, or an empty one when the environment was never applied.

    With `models`, only those models' records are read (a plan scoped to a few models need not parse or
    validate the records of thousands of others: see modelops.state.excerpt)."""
    rel = state_path(root, environment).relative_to(root).as_posix()
    # Through the confined reader: a state.json that arrives with a pull request as a link to /dev/zero or out of
    # the repository is refused, not read (its size is the engine's own, so no limit).
    opened = open_inside(root, rel, None)
    if isinstance(opened, Refusal):
        if opened.missing:
            return EnvironmentState(environment=environment)
        raise EngineError(f"cannot read {rel}: {opened.reason}", hint=_RECOVER.format(rel=rel))
    try:
        with os.fdopen(opened, "rb") as file:
            data = _excerpt(file, models) if models is not None else None
            raw = file.read() if data is None else b""
    except OSError as exc:
        raise EngineError(f"cannot read {rel}: {exc}", hint=_RECOVER.format(rel=rel)) from None
    return _validated(data if data is not None else _decoded(raw, rel), rel, environment, models)


def _excerpt(file: BinaryIO, models: frozenset[str]) -> dict[str, Any] | None:
    try:
        view = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # empty, or a file system that cannot map: the file is read whole instead
        return None
    with view:
        return excerpt(view, models)


_RECOVER = ("restore the last good version from git (`git log -p -- {rel}`, then `git checkout <commit> -- {rel}`); "
            "never edit serial or lineage by hand")


def _decoded(raw: bytes, rel: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise EngineError(f"cannot read {rel}: {exc}", hint=_RECOVER.format(rel=rel)) from None
    except json.JSONDecodeError as exc:
        raise EngineError(f"{rel}:{exc.lineno}:{exc.colno}: state file is not valid JSON ({exc.msg})",
                          hint=_RECOVER.format(rel=rel)) from None


def _validated(data: Any, rel: str, environment: str, models: frozenset[str] | None) -> EnvironmentState:
    if not isinstance(data, dict):
        raise EngineError(f"{rel}: state file must hold a JSON object", hint=_RECOVER.format(rel=rel))
    try:
        data = upgrade(data)
        if models is not None and isinstance(data.get("models"), dict):
            data = {**data, "models": {k: v for k, v in data["models"].items() if k in models}}
        state = EnvironmentState.model_validate(data)
    except FormatTooNew as exc:
        raise ConflictError(
            f"{rel} was written by modelops {exc.engine} in state format {exc.found}; this engine reads formats up "
            f"to {FORMAT_VERSION}", hint="upgrade modelops to read it") from None
    except ValueError as exc:
        raise EngineError(f"{rel}: {_first_problem(exc)}", hint=_RECOVER.format(rel=rel)) from None
    if state.environment != environment:
        raise EngineError(f'{rel}: state belongs to environment "{state.environment}", not "{environment}"',
                          hint="was the file copied from another environment? " + _RECOVER.format(rel=rel))
    return state


def _first_problem(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors(include_url=False)[0]
        where = "/".join(str(p) for p in err["loc"])
        return f"invalid state at /{where}: {err['msg']}"
    return f"invalid state: {exc}"


def write_state(root: Path, state: EnvironmentState) -> None:
    atomic_write(state_path(root, state.environment), render(state), root)

"""What an internal error leaves behind: one line on stderr and a crash log holding the traceback.

Both are scrubbed of the secrets the configuration refers to (an exception message or a traceback can carry a
resolved webhook URL or token, and a crash log is attached to bug reports), and the log is created anew: in the
shared temporary directory anyone can plant a link at its predictable name, and it is never written through.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Mapping
from pathlib import Path

import click

from modelops import __version__
from modelops.base.paths import contained, create_new
from modelops.config.repo import discover, read_contained
from modelops.config.scalars.secretref import REFERENCE, SecretRef, scrub, sensitive_values


def referenced_variables(root: Path) -> set[str]:
    """Every `${env:NAME}` written in the repository's configuration files, found in their text: the error may
    come from the loader itself, so the files are read as discovery finds them (never a FIFO, never through a
    link out of the repository), neither loaded nor validated."""
    return {name for _, raw, _ in read_contained(root, discover(root)) if raw is not None
            for name in REFERENCE.findall(raw.decode("utf-8", "replace"))}


def secrets(root: Path | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """The values to keep out of the report: those the configuration refers to and any variable named like a
    secret, as model test output is masked."""
    environ = os.environ if environ is None else environ
    names = referenced_variables(root) if root is not None else set()
    return sensitive_values(sorted(SecretRef(name) for name in names), environ)


def write_log(folder: Path, text: str) -> Path:
    """`text` in a new file `modelops-crash-<time>-<pid>.log` under `folder` (only the owner may read it).
    Whatever already sits at that name (a planted link) is left alone and a fresh random name is used."""
    stem = f"modelops-crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.log"
    try:
        fd = create_new(path, 0o600)
    except FileExistsError:
        fd, name = tempfile.mkstemp(prefix=f"{stem}-", suffix=".log", dir=folder)  # O_EXCL, a random name
        path = Path(name)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def log_folder(crash_dir: Path | None) -> Path:
    """`.modelops/logs` of the repository once --repo is known, unless it is missing or linked out of the
    repository; the temporary directory otherwise."""
    if crash_dir is not None and crash_dir.parent.parent.is_dir() and contained(crash_dir, crash_dir.parent.parent):
        return crash_dir
    return Path(tempfile.gettempdir())


def report(exc: BaseException, debug: bool, crash_dir: Path | None) -> None:
    """Print the scrubbed one-line error (and, with --debug, the scrubbed traceback); log the traceback."""
    try:
        hidden = secrets(crash_dir.parent.parent if crash_dir is not None else None)
    except Exception:  # finding the secrets must not hide the error; the variables named like one still count
        hidden = sensitive_values((), os.environ)
    details = scrub("".join(traceback.format_exception(exc)), hidden)
    try:
        log = write_log(log_folder(crash_dir), f"modelops {__version__}, Python {sys.version.split()[0]}\n{details}")
        where = f"details in {log}"
    except OSError:
        where = "no log could be written"
    click.echo(scrub(f"Internal error: {type(exc).__name__}: {exc}", hidden), err=True)
    click.echo(f"This is a bug in modelops; {where}. Run with --debug to see the traceback.", err=True)
    if debug:
        click.echo(details, err=True)

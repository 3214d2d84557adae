"""What changed since a git revision, asked of the git CLI (`--changed-since`).

The three questions (is the revision real, what differs from it, what is untracked) go to three git
processes started at once, and `modelops plan` starts them before it imports the engine: on a large
repository git's scan of the working tree then overlaps Python's start-up instead of following it. This
module imports nothing heavy (gitpython, which engine/modelops/base/git.py uses, would cost more than the scan).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from modelops.base.errors import UsageError


class GitDiff:
    """The changes between `ref` and the working tree, being computed since construction."""

    def __init__(self, root: Path, ref: str) -> None:
        if ref.startswith("-"):  # git would take it for an option (`--output=FILE` writes a file)
            raise UsageError(f'"{ref}" is not a git revision', hint="try origin/main or a commit SHA")
        self.root, self.ref = root, ref
        self._running: dict[str, subprocess.Popen[str]] = {}
        try:
            for name, args in (("verify", ("rev-parse", "--verify", f"{ref}^{{commit}}")),
                               ("diff", ("diff", "--name-status", "--no-renames", "--relative", ref, "--")),
                               ("untracked", ("ls-files", "--others", "--exclude-standard"))):
                self._running[name] = _start(root, *args)
        except BaseException:
            self.close()  # the ones already started
            raise

    def changes(self) -> tuple[list[tuple[str, str]], list[str]]:
        """(status letter, path) of each file that differs from `ref`, and the untracked files."""
        try:
            return self._changes()
        finally:
            self.close()  # after an error, the processes not read yet

    def _changes(self) -> tuple[list[tuple[str, str]], list[str]]:
        verify = self._running.pop("verify")
        _, problem = verify.communicate()
        if verify.returncode != 0:
            if "not a git repository" in problem:
                raise UsageError("--changed-since needs a git repository", hint=f"{self.root} is not inside one")
            if "Needed a single revision" in problem:
                raise UsageError(f'unknown git revision "{self.ref}"', hint="try origin/main or a commit SHA")
            raise UsageError(f"git rev-parse: {_last_line(problem, 'rev-parse')}")  # ownership, corruption...
        lines = (line.partition("\t") for line in _output(self._running.pop("diff")).splitlines())
        return [(status[:1], path) for status, _, path in lines], _output(self._running.pop("untracked")).splitlines()

    def old_text(self, path: str) -> str:
        """The text of `path` at `ref`."""
        return _output(_start(self.root, "show", f"{self.ref}:./{path}"))

    def close(self) -> None:
        """Stop and reap what was never asked for (the command failed before it needed the changes)."""
        for run in self._running.values():
            run.kill()
            run.communicate()
        self._running.clear()


def _start(root: Path, *args: str) -> subprocess.Popen[str]:
    try:
        return subprocess.Popen(["git", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise UsageError("--changed-since needs git, which is not installed") from None


def _output(run: subprocess.Popen[str]) -> str:
    out, err = run.communicate()
    if run.returncode != 0:
        command = run.args[1] if isinstance(run.args, list) else "git"
        raise UsageError(f"git {command}: {_last_line(err, command)}")
    return out


def _last_line(stderr: str, command: str) -> str:
    return stderr.strip().splitlines()[-1] if stderr.strip() else f"git {command} failed"

"""The workspace: a validated repository, its desired state, and each environment's recorded state.

Commands that read configuration and state (plan, apply, status, rollback, promote, report) start here,
so they agree on what is valid and on what "recorded" means: the state file plus any interrupted apply
replayed from its journal (read-only; apply persists the replay under the lock).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modelops.base.diagnostics import suggestion
from modelops.base.errors import EngineError, UsageError
from modelops.base.perf import bulk_load
from modelops.core.model import DesiredState, EnvironmentConfig, resolve
from modelops.core.registry import pin_recorded
from modelops.state.format import EnvironmentState
from modelops.state.journal import Replay
from modelops.state.recorded import load_state, recorded_models
from modelops.validate.repo import ValidationResult, validate_repo


class InvalidConfig(EngineError):
    """The configuration has errors; the CLI prints the diagnostics and exits 1."""

    def __init__(self, result: ValidationResult) -> None:
        super().__init__("the configuration is invalid")
        self.result = result


@dataclass
class Workspace:
    root: Path
    validation: ValidationResult
    desired: DesiredState
    #: environments whose state need only these models (a scoped plan); the others are not validated
    state_scope: dict[str, frozenset[str]] = field(default_factory=dict)
    #: the desired state as the YAML says it, registry references unresolved (None: the same as `desired`)
    written: DesiredState | None = None
    _states: dict[str, tuple[EnvironmentState, Replay]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path, paths: Iterable[str] | None = None) -> Workspace:
        """Validate and resolve the repository, or only `paths` (a scoped plan: see modelops.core.scope)."""
        result = validate_repo(root, paths=paths, persist=False, recorded=recorded_models(root))
        if not result.valid:
            raise InvalidConfig(result)
        with bulk_load():
            workspace = cls(root, result, resolve(result.documents, result.memo))
            # registry artifacts as the last apply resolved them; plan and apply read the registry instead
            workspace.written = workspace.desired
            workspace.desired = pin_recorded(workspace.desired, workspace.states())
        if result.memo.cache is not None and paths is None:
            result.memo.cache.save()
        return workspace

    def environment(self, name: str) -> EnvironmentConfig:
        if name not in self.desired.environments:
            known = list(self.desired.environments)
            raise UsageError(f'unknown environment "{name}"{suggestion(name, known)}',
                             hint=f"environments: {', '.join(known)}")
        return self.desired.environments[name]

    def select(self, names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.environment(n).name for n in names)

    def state(self, name: str) -> EnvironmentState:
        return self.recorded(name)[0]

    def recorded(self, name: str) -> tuple[EnvironmentState, Replay]:
        if name not in self._states:
            with bulk_load():
                self._states[name] = load_state(self.root, name, self.state_scope.get(name))
        return self._states[name]

    def states(self) -> Mapping[str, EnvironmentState]:
        """Every environment's recorded state, each read when first looked up."""
        return _States(self)

    def forget(self, name: str) -> None:
        self._states.pop(name, None)


class _States(Mapping[str, EnvironmentState]):
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def __getitem__(self, name: str) -> EnvironmentState:
        if name not in self.ws.desired.environments:
            raise KeyError(name)
        return self.ws.state(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.ws.desired.environments)

    def __len__(self) -> int:
        return len(self.ws.desired.environments)

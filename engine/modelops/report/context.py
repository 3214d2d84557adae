"""What a report is rendered from: one environment's desired state and its recorded state.

Sections read only this value (and files under `root` when they need more, such as metric snapshots),
never the clock: the same inputs must give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.core.model import EnvironmentConfig, ModelConfig, PolicyConfig
from modelops.state.format import EnvironmentState, ModelState


@dataclass(frozen=True)
class ReportContext:
    """One environment as configured (`environment`) and as recorded (`state`)."""

    root: Path
    environment: EnvironmentConfig
    state: EnvironmentState

    @property
    def name(self) -> str:
        return self.environment.name

    @property
    def model_names(self) -> list[str]:
        """Models that are configured, recorded, or both (a retired-but-recorded model still shows)."""
        return sorted(set(self.environment.models) | set(self.state.models))

    def desired(self, model: str) -> ModelConfig | None:
        return self.environment.models.get(model)

    def recorded(self, model: str) -> ModelState | None:
        return self.state.models.get(model)

    def configured(self) -> list[ModelConfig]:
        return [self.environment.models[name] for name in sorted(self.environment.models)]

    def policy(self, kind: str, name: str | None) -> PolicyConfig | None:
        return self.environment.policies.get(f"{kind}/{name}") if name else None

    def policy_spec(self, kind: str, name: str | None) -> Any:
        policy = self.policy(kind, name)
        return policy.spec if policy is not None else None

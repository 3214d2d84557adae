"""modelops.core.registry, and how the planner orders versions of each scheme: a registry reference pinned to what
it resolved to (a new version is a new revision), pinned from the record when the registry is not read, and the
registry moves that make a saved plan stale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from modelops.config.spec.environment import EnvironmentSpec
from modelops.config.spec.model import ModelSpec
from modelops.core.diff import plan_environment
from modelops.core.model import DesiredState, EnvironmentConfig, ModelConfig, model_config, with_models
from modelops.core.plan import ActionKind, PlanOptions
from modelops.core.registry import Resolution, moved, pin, pin_recorded, recorded_resolution
from modelops.state.format import EnvironmentState, Rollout

from tests.support.plans import T0, desired, empty
from tests.support.recording import serving

SHA = {1: "1" * 64, 2: "2" * 64, 7: "7" * 64}


def spec(version: Any = None, scheme: str | None = None, **artifact: Any) -> ModelSpec:
    body: dict[str, Any] = {
        "artifact": artifact or {"mlflow": {"model": "iris", "alias": "champion"},
                                 "trackingUri": "${env:MLFLOW_TRACKING_URI}"},
        "serving": {"runtime": "sklearn", "image": "lab/iris:1", "replicas": 1,
                    "resources": {"cpu": "1", "memory": "1Gi"}},
    }
    if version is not None:
        body["version"] = version
    if scheme is not None:
        body["versionScheme"] = scheme
    return ModelSpec.model_validate(body)


def iris(model_spec: ModelSpec | None = None) -> ModelConfig:
    return model_config("iris", "lab", model_spec or spec(), {}, "environments/lab/models/iris.yaml")


def resolution(version: int, wanted: str = "champion") -> Resolution:
    return Resolution("iris", "mlflow", "iris", wanted, str(version), f"models:/m-{version}", SHA[version], 5)


def test_a_reference_is_pinned_to_the_version_it_resolved_to() -> None:
    pinned = pin(iris(), resolution(1))
    artifact = pinned.spec.artifact
    assert (pinned.version, artifact.uri, artifact.sha256, artifact.mlflow) == ("1", "models:/iris/1", SHA[1], None)
    assert str(artifact.tracking_uri) == "${env:MLFLOW_TRACKING_URI}"  # kept: apply reads the same server
    assert pinned.spec.scheme == "integer"
    assert iris().version == "@champion"  # until it is resolved
    assert pin(iris(), resolution(1)).revision == pinned.revision  # the same resolution, the same revision
    assert pin(iris(), resolution(2)).revision != pinned.revision  # an alias that moved: a new revision
    assert pinned.config == iris().config  # nothing else changes


def test_a_version_the_configuration_names_is_kept() -> None:
    labelled = iris(spec("2.1.0", "semver"))
    assert pin(labelled, resolution(2)).version == "2.1.0"


#: An environment of the local target with no model yet.
LAB = EnvironmentConfig("lab", EnvironmentSpec.model_validate({"target": {"driver": "local"}}),
                        "environments/lab/environment.yaml", {}, {}, "sha256:0")


def plan_kind(desired_model: ModelConfig, serving_model: ModelConfig) -> ActionKind:
    env = with_models(LAB, {"iris": desired_model})
    state = EnvironmentState(environment="lab", lineage="l", serial=1, models={"iris": serving(serving_model)})
    (action,) = plan_environment(env, {"lab": state}, [], PlanOptions(("lab",)), T0).actions
    return action.kind


@pytest.mark.parametrize(("scheme", "serving_version", "desired_version", "kind"), [
    ("integer", "9", "10", ActionKind.UPGRADE),  # 10 > 9 as numbers (as text, "10" < "9")
    ("integer", "10", "9", ActionKind.ROLLBACK),
    ("calver", "2024.10.1", "2024.9.0", ActionKind.ROLLBACK),
    ("any", "f00d", "beef", ActionKind.UPGRADE),  # labels have no order: a move forward, with its gates
    ("semver", "1.10.0", "1.9.0", ActionKind.ROLLBACK),
])
def test_versions_are_ordered_by_the_models_scheme(scheme: str, serving_version: str, desired_version: str,
                                                   kind: ActionKind) -> None:
    def model(version: str) -> ModelConfig:
        return iris(spec(version, scheme, uri=f"s3://models/iris/{version}.joblib", sha256="a" * 64))

    assert plan_kind(model(desired_version), model(serving_version)) is kind


def test_an_alias_that_moved_back_is_a_rollback() -> None:
    assert plan_kind(pin(iris(), resolution(1)), pin(iris(), resolution(2))) is ActionKind.ROLLBACK
    assert plan_kind(pin(iris(), resolution(2)), pin(iris(), resolution(1))) is ActionKind.UPGRADE


def test_the_record_pins_a_reference_when_the_registry_is_not_read() -> None:
    deployed = serving(pin(iris(), resolution(2)))
    found = recorded_resolution(iris(), deployed)
    assert found is not None and (found.version, found.digest, found.wanted) == ("2", SHA[2], "champion")
    assert pin(iris(), found).revision == deployed.revision  # what serves: nothing to plan
    other = iris(spec(mlflow={"model": "setosa", "alias": "champion"}))
    assert recorded_resolution(other, deployed) is None  # another registered model
    elsewhere = iris(spec(mlflow={"model": "iris", "alias": "champion"}, trackingUri="https://mlflow.example.com"))
    assert recorded_resolution(elsewhere, deployed) is None  # another server
    pinned_three = iris(spec(mlflow={"model": "iris", "version": 3}))
    assert recorded_resolution(pinned_three, deployed) is None  # another version named outright
    assert recorded_resolution(iris(), None) is None


def test_a_rollout_in_flight_pins_to_the_version_it_rolls_out() -> None:
    state = serving(pin(iris(), resolution(1)))
    rolling = pin(iris(), resolution(2))
    rollout = Rollout(attempt=1, kind="upgrade", version="2", revision=rolling.revision, config=rolling.config,
                      spec=serving(rolling).spec or {}, slot="green", steps=[])
    found = recorded_resolution(iris(), state.model_copy(update={"rollout": rollout}))
    assert found is not None and found.version == "2"


def test_pin_recorded_leaves_models_without_a_record_as_references(tmp_path: Path) -> None:
    want = desired(tmp_path, "repo")
    assert pin_recorded(want, empty(want)) == want  # no registry model in the example: nothing changes
    lab = DesiredState({"lab": with_models(LAB, {"iris": iris()})})
    assert pin_recorded(lab, {"lab": EnvironmentState(environment="lab")}).environments["lab"].models[
        "iris"].version == "@champion"


def test_a_saved_plan_is_stale_when_the_registry_moved() -> None:
    saved = {"lab": (resolution(1),)}
    assert moved(saved, {"lab": (resolution(1),)}) == []
    assert moved(saved, {"lab": (resolution(2),)}) == [
        "lab/iris (mlflow models:/iris@champion) moved from version 1 to 2"]
    rebuilt = Resolution("iris", "mlflow", "iris", "champion", "1", "models:/m-1", SHA[2], 5)
    assert moved(saved, {"lab": (rebuilt,)}) == [
        f"lab/iris (mlflow models:/iris@champion): the files of version 1 changed (sha256:{SHA[1][:12]} -> "
        f"sha256:{SHA[2][:12]})"]
    assert moved({}, {"lab": (resolution(1),)}) == ["lab/iris (mlflow models:/iris@champion) was not resolved by "
                                                   "the plan"]


def test_a_resolution_travels_in_the_saved_plan_as_it_is() -> None:
    found = resolution(2)
    assert Resolution.from_dict(found.to_dict()) == found
    assert found.describe() == f"iris: mlflow models:/iris@champion → 2 (sha256:{SHA[2][:12]}, 5 files of models:/m-2)"
    assert resolution(7, wanted="7").describe().startswith("iris: mlflow models:/iris/7 (")

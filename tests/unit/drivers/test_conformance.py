"""One contract, every driver: operations are applied, observable, and idempotent per key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from modelops.config.spec.environment import EnvironmentSpec
from modelops.core.model import EnvironmentConfig
from modelops.drivers.base import Driver, Operation
from modelops.drivers.registry import DRIVERS
from modelops.workspace import Workspace

from tests.support.http import shut
from tests.support.platform import Platform, serve
from tests.support.repo import copy_example

Factory = Callable[[Path], Driver]


def _spec(driver: str, **target: Any) -> EnvironmentSpec:
    return EnvironmentSpec.model_validate({"target": {"driver": driver, **target}})


def _env(driver: str, **target: Any) -> EnvironmentConfig:
    return EnvironmentConfig("staging", _spec(driver, **target), "environments/staging/environment.yaml", {}, {}, "")


@pytest.fixture(params=sorted(DRIVERS))
def make_driver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Factory]:
    name = request.param
    if name == "webhook":
        server, url = serve(Platform())
        monkeypatch.setenv("DEPLOY_URL", url)
        yield lambda root: DRIVERS[name](root, _env("webhook", webhook={"url": "${env:DEPLOY_URL}"}))
        shut(server)
    elif name == "gitops":  # renders from the repository's configuration: give it the example repository
        def gitops(root: Path) -> Driver:
            if not (root / "environments").exists():
                copy_example(root)
            example = Workspace.load(root).environment("staging")
            return DRIVERS[name](root, replace(example, spec=_spec("gitops", gitops={"flavor": "argo-rollouts"})))

        yield gitops
    else:
        yield lambda root: DRIVERS[name](root, _env(name))


def op(kind: str, key: str, target: str = "sentiment", **args: Any) -> Operation:
    return Operation(kind, "staging", target, args, key)


def deploy(slot: str, version: str, key: str) -> Operation:
    return op("deploy", key, slot=slot, version=version, revision=f"sha256:{version}", role="preview", replicas=2)


def served(driver: Driver) -> dict[str, Any]:
    seen = driver.observe().models.get("sentiment")
    assert seen is not None
    return {"slots": {slot: held.version for slot, held in seen.slots.items()}, "traffic": dict(seen.traffic)}


def test_a_blue_green_cycle_is_observable(make_driver: Factory, tmp_path: Path) -> None:
    driver = make_driver(tmp_path)
    assert "sentiment" not in driver.observe().models
    for operation in (deploy("blue", "1.0.0", "k1"), op("traffic", "k2", weights={"blue": 100}, switch=True)):
        assert driver.execute(operation).ok
    assert served(driver) == {"slots": {"blue": "1.0.0"}, "traffic": {"blue": 100}}
    for operation in (deploy("green", "1.1.0", "k3"), op("traffic", "k4", weights={"blue": 90, "green": 10}),
                      op("traffic", "k5", weights={"blue": 0, "green": 100}, switch=True),
                      op("retire", "k6", slot="blue")):
        assert driver.execute(operation).ok
    assert served(driver) == {"slots": {"green": "1.1.0"}, "traffic": {"green": 100}}
    driver.close()


def test_repeating_an_operation_with_its_key_changes_nothing(make_driver: Factory, tmp_path: Path) -> None:
    driver = make_driver(tmp_path)
    first = deploy("blue", "1.0.0", "same-key")
    assert driver.execute(first).ok
    assert driver.execute(op("traffic", "t1", weights={"blue": 100}, switch=True)).ok
    before = served(driver)
    assert driver.execute(first).ok
    assert served(driver) == before


def test_configure_policy_and_remove(make_driver: Factory, tmp_path: Path) -> None:
    driver = make_driver(tmp_path)
    assert driver.execute(deploy("blue", "1.0.0", "k1")).ok
    assert driver.execute(op("configure", "k2", config="sha256:c")).ok
    assert driver.execute(op("policy", "k3", target="AlertPolicy/model-slo", policy="AlertPolicy/model-slo",
                             digest="sha256:p")).ok
    assert driver.execute(op("policy", "k4", target="AlertPolicy/model-slo", policy="AlertPolicy/model-slo",
                             digest=None)).ok
    assert driver.execute(op("remove", "k5", slots=["blue"])).ok
    assert "sentiment" not in driver.observe().models


def test_the_state_survives_a_new_driver_instance(make_driver: Factory, tmp_path: Path) -> None:
    assert make_driver(tmp_path).execute(deploy("blue", "1.0.0", "k1")).ok
    assert served(make_driver(tmp_path))["slots"] == {"blue": "1.0.0"}

"""Drivers by name, as `spec.target.driver` spells them."""

from __future__ import annotations

from pathlib import Path

from modelops.config.spec.environment import EnvironmentSpec
from modelops.drivers.base import Driver, DriverFactory
from modelops.drivers.gitops import GitopsDriver
from modelops.drivers.local import LocalDriver
from modelops.drivers.webhook import WebhookDriver

DRIVERS: dict[str, DriverFactory] = {
    "gitops": GitopsDriver.create,
    "local": LocalDriver.create,
    "webhook": WebhookDriver.create,
}


def create_driver(root: Path, environment: str, spec: EnvironmentSpec) -> Driver:
    return DRIVERS[spec.target.driver](root, environment, spec)

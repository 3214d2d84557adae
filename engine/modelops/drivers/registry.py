"""Drivers by name, as `spec.target.driver` spells them."""

from __future__ import annotations

from pathlib import Path

from modelops.core.model import EnvironmentConfig
from modelops.drivers.base import Driver, DriverFactory
from modelops.drivers.gitops import GitopsDriver
from modelops.drivers.local import LocalDriver
from modelops.drivers.webhook import WebhookDriver

DRIVERS: dict[str, DriverFactory] = {
    "gitops": GitopsDriver.create,
    "local": LocalDriver.create,
    "webhook": WebhookDriver.create,
}


def create_driver(root: Path, env: EnvironmentConfig) -> Driver:
    return DRIVERS[env.spec.target.driver](root, env)

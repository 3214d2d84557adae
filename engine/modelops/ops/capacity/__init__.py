"""Capacity planning: per model utilisation, growth, projected load, replicas, cost and recommendations, computed
from a usage history, the environment's configuration and a horizon, and the `modelops capacity` service that
reads them; its modules build on one another in the order stats, formatting, cost, growth, replicas, model,
rules, plan, service (each imports only modules before it, and only `service` reads the workspace, the usage
sources or the clock). The package may import modelops.base, modelops.config, modelops.state (values),
modelops.core, modelops.sources, modelops.workspace and other modelops.ops modules; never modelops.report,
modelops.export, modelops.drivers, modelops.run, modelops.services or modelops.cli, which import it instead.
"""

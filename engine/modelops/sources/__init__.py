"""Metric sources at the edge: a `MetricSource` Protocol, the file source (JSON and CSV snapshots and series) and the
Prometheus source (HTTP API), by name in a plain dict, and the usage history capacity planning reads. May import
base and config.
"""

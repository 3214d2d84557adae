"""The built-in metric catalogue: names, units and default PromQL per model.

Rules and analysis refer to these names; environments may override a query. Templates use `$model`,
`$env` and `$window` placeholders (PromQL itself uses braces, so `str.format` would not do).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Template
from typing import Any, Literal

#: The operations guide's metric groups, in the order they are shown.
GROUPS = ("performance", "infrastructure", "business")
Direction = Literal["higher-is-better", "lower-is-better"]


@dataclass(frozen=True, slots=True)
class Metric:
    """A catalogue entry: what the number means and how Prometheus computes it for one model. `family` is its
    group (performance, infrastructure or business); an environment's business metrics are entries too, with
    `column` naming where a metrics file records them."""

    name: str
    unit: str
    family: str
    description: str
    query: str
    direction: Direction = "lower-is-better"
    column: str | None = None

    @property
    def is_time(self) -> bool:
        return self.unit == "seconds"

    def promql(self, model: str, env: str, window: str, override: str | None = None) -> str:
        return Template(override or self.query).safe_substitute(model=model, env=env, window=window)


_SEL = 'model="$model",env="$env"'
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("response_time", "seconds", "performance", "95th percentile request latency",
               "histogram_quantile(0.95, sum by (le) "
               f"(rate(modelops_request_duration_seconds_bucket{{{_SEL}}}[$window])))"),
        Metric("throughput", "requests/s", "performance", "requests served per second",
               f"sum(rate(modelops_requests_total{{{_SEL}}}[$window]))", "higher-is-better"),
        Metric("error_rate", "ratio", "performance", "share of requests that failed (0-1)",
               f'sum(rate(modelops_requests_total{{{_SEL},code=~"5.."}}[$window])) / '
               f"sum(rate(modelops_requests_total{{{_SEL}}}[$window]))"),
        # a share of the CPU requested, as an HPA's averageUtilization counts it: cores used alone would read
        # 130 for a 2-core replica at 65%
        Metric("cpu_usage", "percent", "infrastructure",
               "CPU utilisation of the serving replicas (percent of their CPU request)",
               f"100 * sum(rate(container_cpu_usage_seconds_total{{{_SEL}}}[$window]))"
               f' / sum(kube_pod_container_resource_requests{{{_SEL},resource="cpu"}})'),
        Metric("memory_usage", "percent", "infrastructure", "memory utilisation of the serving replicas (0-100)",
               f"100 * avg(container_memory_working_set_bytes{{{_SEL}}}"
               f" / container_spec_memory_limit_bytes{{{_SEL}}})"),
        Metric("disk_usage", "percent", "infrastructure", "disk utilisation of the serving volume (0-100)",
               f"100 * max(1 - node_filesystem_avail_bytes{{{_SEL}}} / node_filesystem_size_bytes{{{_SEL}}})"),
        Metric("cost_per_request", "USD", "business", "serving cost divided by requests served",
               f"sum(rate(modelops_cost_usd_total{{{_SEL}}}[$window]))"
               f" / sum(rate(modelops_requests_total{{{_SEL}}}[$window]))"),
    )
}

MetricName = Literal[
    "response_time", "throughput", "error_rate", "cpu_usage", "memory_usage", "disk_usage", "cost_per_request"
]


def environment_metrics(business: Mapping[str, Any]) -> dict[str, Metric]:
    """The catalogue of one environment: the built-in metrics, then its business metrics (`spec.businessMetrics`,
    values with `unit`, `direction`, `query`, `column`, `description`), in the group order."""
    found = dict(METRICS)
    for name, spec in sorted(business.items()):
        found[name] = Metric(name, spec.unit, "business", spec.description or f"business metric {name}",
                             spec.query or "", spec.direction, spec.column or name)
    return dict(sorted(found.items(), key=lambda item: GROUPS.index(item[1].family)))

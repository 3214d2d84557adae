"""The environment's Prometheus: it scrapes every slot and names the samples the way the metric catalogue does.

Slots are file-discovered (`targets/<job>.json`, rewritten whenever a slot starts or stops), labelled `model`,
`env`, `slot` and `version` by the target entry: MLServer's own `version` label reads "None". MLServer's request
counter and latency histogram become, by relabelling at scrape time, the series the catalogue queries
(`modelops_requests_total{code}`, `modelops_request_duration_seconds_bucket`), counting only inference requests
(not its readiness probes). So analysis, `onAlerts` and `modelops monitor` run exactly the PromQL that
`modelops export prometheus` writes into the rules. A command slot that declares `metricsPath` is scraped as is:
its metrics are expected under the catalogue's names.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

from modelops.base.http import exchange

SCRAPE_SECONDS = 1
JOBS = ("mlserver", "command")

#: MLServer's REST metrics of inference requests, renamed into the catalogue's; everything else is dropped.
_MLSERVER_RELABEL = """    metric_relabel_configs:
      - source_labels: [__name__, path]
        regex: '(rest_server_requests_total|rest_server_request_duration_seconds_(bucket|sum|count));{infer}'
        action: keep
      - source_labels: [__name__]
        regex: 'rest_server_requests_total'
        target_label: __name__
        replacement: modelops_requests_total
      - source_labels: [__name__]
        regex: 'rest_server_request_duration_seconds_(bucket|sum|count)'
        target_label: __name__
        replacement: modelops_request_duration_seconds_$1
      - source_labels: [status_code]
        regex: '(.+)'
        target_label: code
      - regex: 'status_code|path|method|app_name'
        action: labeldrop
""".replace("{infer}", "/v2/models/[^;]*/infer")


def config_text(targets: Path) -> str:
    """prometheus.yml: one job per kind of slot, each reading its targets file."""
    jobs = []
    for job in JOBS:
        text = (f"  - job_name: {job}\n"
                f"    file_sd_configs: [{{files: ['{targets / (job + '.json')}'], refresh_interval: 1s}}]\n")
        if job == "command":
            text += "    metrics_path: /metrics\n"
        jobs.append(text + (_MLSERVER_RELABEL if job == "mlserver" else ""))
    return (f"global: {{scrape_interval: {SCRAPE_SECONDS}s, evaluation_interval: {SCRAPE_SECONDS}s}}\n"
            "scrape_configs:\n" + "".join(jobs))


def target(port: int, labels: Mapping[str, str], path: str | None = None) -> dict[str, object]:
    """One file_sd entry: where a slot's metrics are, and the labels its samples get."""
    extra = {"__metrics_path__": path} if path else {}
    return {"targets": [f"127.0.0.1:{port}"], "labels": {**labels, **extra}}


def targets_text(entries: Iterable[dict[str, object]]) -> str:
    return json.dumps(list(entries), indent=2, sort_keys=True) + "\n"


def argv(prometheus: str, config: Path, data: Path, port: int) -> list[str]:
    return [prometheus, f"--config.file={config}", f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1d", "--log.level=warn"]


def rated_slots(port: int, env: str, model: str) -> set[str]:
    """The slots of a model for which Prometheus has a request rate now (empty when it cannot be asked)."""
    query = f'sum by (slot) (rate(modelops_requests_total{{model="{model}",env="{env}"}}[1m])) > 0'
    url = f"http://127.0.0.1:{port}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    answer = exchange("GET", url, timeout=2)
    try:
        result = [] if answer is None or answer.status != 200 else answer.json()["data"]["result"]
    except (ValueError, KeyError, TypeError):
        return set()
    return {str(series["metric"].get("slot")) for series in result}

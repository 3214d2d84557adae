"""Generate the example usage histories of the example models (deterministic: run it, get the same bytes).

    python3 examples/usage/generate.py [ROOT]     # writes ROOT/environments/production/usage.csv and
                                                 # ROOT/environments/staging/usage.json (default: this repo)

Each model's traffic is a level that grows linearly, times a daily cycle (busiest at 14:00 UTC), times a
weekend dip, times noise. An autoscaler sizes the replicas from the previous step's traffic (so a morning
ramp runs hot, as a real one does), and utilisation follows from the load per replica:

- production (CSV, hourly, six weeks): iris grows ~25%/month and will outgrow its maxReplicas; breast-cancer is
  flat, and its CPU runs above cpuHigh at peaks;
- staging (JSON, every two hours, three weeks): a sliver of production.
"""

from __future__ import annotations

import csv
import json
import math
import random
import sys
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 10, 12, tzinfo=UTC)  # a Monday
COLUMNS = ("timestamp", "model", "requests_per_s", "latency_s", "cpu_percent", "memory_percent", "gpu_percent",
           "replicas")


@dataclass(frozen=True)
class Profile:
    """One model's traffic and how its replicas respond to it."""

    model: str
    base: float  # requests/s on an average weekday at the start
    growth: float  # added requests/s per 30 days, as a share of `base`
    noise: float  # standard deviation of the multiplicative noise (log-normal)
    weekend: float  # traffic factor on Saturdays and Sundays
    capacity: float  # requests/s one replica serves at 100% of its scaling resource
    target: float  # the autoscaler's utilisation target, percent
    min_replicas: int
    max_replicas: int
    resource: str  # cpu | gpu: what the load drives
    memory: float  # memory utilisation, percent (roughly flat: model weights and caches)
    latency: float  # seconds at low load
    days: int = 42
    start_day: int = 0


PRODUCTION = (
    Profile("iris", 60, 0.35, 0.06, 0.65, 8, 65, 3, 40, "cpu", 52, 0.004),
    Profile("breast-cancer", 180, 0.0, 0.04, 0.80, 40, 65, 3, 40, "cpu", 48, 0.006),
)
STAGING = (
    Profile("iris", 3, 0.2, 0.15, 0.3, 8, 65, 3, 40, "cpu", 50, 0.004, days=21),
    Profile("breast-cancer", 8, 0.0, 0.1, 0.5, 40, 65, 3, 40, "cpu", 45, 0.006, days=21),
)


def series(profile: Profile, step: timedelta) -> list[dict[str, object]]:
    rng = random.Random(zlib.crc32(f"{profile.model}/{step}".encode()))
    rows: list[dict[str, object]] = []
    previous: float | None = None
    at = START + timedelta(days=profile.start_day)
    end = START + timedelta(days=profile.days)
    while at < end:
        days = (at - START).total_seconds() / 86_400
        hour = at.hour + at.minute / 60
        level = profile.base * (1 + profile.growth * days / 30)
        daily = 1 + 0.45 * math.cos(2 * math.pi * (hour - 14) / 24)
        weekly = profile.weekend if at.weekday() >= 5 else 1.0
        rate = level * daily * weekly * rng.lognormvariate(0, profile.noise)
        sized_on = previous if previous is not None else rate
        replicas = min(max(math.ceil(sized_on / (profile.capacity * profile.target / 100)), profile.min_replicas),
                       profile.max_replicas)
        load = rate / replicas / profile.capacity * 100  # percent of the scaling resource
        busy = min(load, 100.0)
        cpu = busy if profile.resource == "cpu" else 18 + 0.25 * busy
        gpu = busy if profile.resource == "gpu" else None
        rows.append({
            "timestamp": at.isoformat().replace("+00:00", "Z"),
            "model": profile.model,
            "requests_per_s": round(rate, 4),
            "latency_s": round(profile.latency * (1 + 0.6 * (busy / 100) ** 3) * rng.uniform(0.95, 1.05), 4),
            "cpu_percent": round(min(cpu * rng.uniform(0.97, 1.03), 100.0), 1),
            "memory_percent": round(min(profile.memory + rng.uniform(-2, 2), 100.0), 1),
            "gpu_percent": None if gpu is None else round(min(gpu * rng.uniform(0.97, 1.03), 100.0), 1),
            "replicas": replicas,
        })  # fmt: skip
        previous = rate
        at += step
    return rows


def write_csv(path: Path, profiles: tuple[Profile, ...], step: timedelta) -> None:
    rows = sorted((row for p in profiles for row in series(p, step)), key=lambda r: (r["timestamp"], r["model"]))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def write_json(path: Path, profiles: tuple[Profile, ...], step: timedelta) -> None:
    models = {p.model: [{k: v for k, v in row.items() if k != "model" and v is not None} for row in series(p, step)]
              for p in profiles}
    lines = ['{"format_version": 1, "models": {']
    for i, (model, samples) in enumerate(models.items()):
        lines.append(f"  {json.dumps(model)}: [")
        lines += [f"    {json.dumps(s)}{',' if j < len(samples) - 1 else ''}" for j, s in enumerate(samples)]
        lines.append("  ]" + ("," if i < len(models) - 1 else ""))
    lines.append("}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(root: Path = ROOT) -> None:
    for env in ("production", "staging"):
        (root / "environments" / env).mkdir(parents=True, exist_ok=True)
    write_csv(root / "environments/production/usage.csv", PRODUCTION, timedelta(hours=1))
    write_json(root / "environments/staging/usage.json", STAGING, timedelta(hours=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)

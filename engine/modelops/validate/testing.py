"""What load tests and traffic verification need of the configuration, said before an apply runs them.

A load test is bounded (its sending window, the requests it may send, its own timeout around both) and judged by
limits that can fail it; a traffic verification needs an active endpoint to probe and a count of probes it can
reach. Errors are what could never run as written; warnings are what would run and say little (a test without
limits, a 99th percentile over too few requests, limits whose order makes one of them pointless).
"""

from __future__ import annotations

from itertools import pairwise

from modelops.config.documents import Document
from modelops.config.scalars.duration import Duration
from modelops.config.spec.model import LoadTest, TrafficVerification
from modelops.validate.findings import Findings

#: The bounds of a load test: its sending window, and the requests it may send in all (base/load.py holds them too).
SHORTEST, LONGEST = Duration(1000), Duration(600_000)
MOST_REQUESTS = 100_000
#: The longest wait between probes, and the longest probe, of a traffic verification.
LONGEST_PROBE = Duration(60_000)
#: Requests below which a percentile is the slowest request or nearly: p99 over 40 requests is the maximum.
ENOUGH_FOR = {"p95": 20, "p99": 100}


def check_model(model: Document, env: Document | None, findings: Findings) -> None:
    for i, test in enumerate(model.spec.tests):
        if test.load is not None:
            _load(model, f"/spec/tests/{i}", test.load, test.timeout, findings)
    if model.spec.verify_traffic is not None:
        _verification(model, env, model.spec.verify_traffic, findings)


def planned(load: LoadTest) -> int | None:
    """The requests a load test sends at most, when its settings say (a rate, or maxRequests)."""
    counts = [n for n in (load.max_requests, round(load.rate * load.duration.seconds) if load.rate else None)
              if n is not None]
    return min(counts) if counts else None


def _load(model: Document, where: str, load: LoadTest, timeout: Duration, findings: Findings) -> None:
    if not SHORTEST <= load.duration <= LONGEST:
        findings.error("MO155", f"a load test runs from {SHORTEST} to {LONGEST}, not {load.duration}", model.source,
                       f"{where}/load/duration")
    sent = round(load.rate * load.duration.seconds) if load.rate else 0
    if load.max_requests is None and sent > MOST_REQUESTS:
        findings.error("MO155", f"rate {load.rate:g}/s for {load.duration} is {sent:,} requests, more than the "
                       f"{MOST_REQUESTS:,} a load test may send", model.source, f"{where}/load/rate",
                       hint="lower the rate or the duration, or set maxRequests")
    needed = Duration(load.duration.ms + load.request_timeout.ms)
    if timeout < needed:
        findings.error("MO156", f"the test's timeout {timeout} is shorter than its load ({load.duration}, plus "
                       f"{load.request_timeout} for the last answers): it would be cut off every time", model.source,
                       f"{where}/timeout" if _has(model, where, "timeout") else f"{where}/load", at_key=True,
                       hint=f"set timeout: {needed} or longer on the test")
    _limits(model, where, load, findings)


def _limits(model: Document, where: str, load: LoadTest, findings: Findings) -> None:
    limits = load.limits
    percentiles = {name: value for name in ("p50", "p95", "p99") if (value := getattr(limits, name)) is not None}
    if not percentiles and limits.error_rate is None:
        findings.warning("MO245", "a load test without limits measures, and never fails", model.source,
                         f"{where}/load", at_key=True,
                         hint="add limits: {p95: 250ms, p99: 500ms, errorRate: 0.01}")
        return
    count = planned(load)
    for name, enough in ENOUGH_FOR.items():
        if name in percentiles and count is not None and count < enough:
            findings.warning("MO246", f"{name} of at most {count} requests is their slowest or nearly: it needs "
                             f"{enough} or more to mean a percentile", model.source, f"{where}/load/limits/{name}",
                             hint="raise the rate, the duration or maxRequests")
    names = list(percentiles)
    for lower, higher in pairwise(names):
        if percentiles[lower] > percentiles[higher]:
            findings.warning("MO247", f"the {lower} limit {percentiles[lower]} is above the {higher} limit "
                             f"{percentiles[higher]}: the {higher} limit always fails first, so the {lower} limit "
                             "never decides", model.source, f"{where}/load/limits/{lower}")


def _has(model: Document, where: str, key: str) -> bool:
    index = int(where.rsplit("/", 1)[1])
    return key in model.spec.tests[index].model_fields_set


def _verification(model: Document, env: Document | None, verify: TrafficVerification, findings: Findings) -> None:
    where = "/spec/verifyTraffic"
    if verify.consecutive > verify.attempts:
        findings.error("MO158", f"{verify.consecutive} probes in a row cannot come out of {verify.attempts} probes",
                       model.source, f"{where}/consecutive", hint="raise attempts, or lower consecutive")
    for name, value in (("interval", verify.interval), ("timeout", verify.timeout)):
        if value > LONGEST_PROBE:
            findings.error("MO155", f"verifyTraffic.{name} {value} is longer than a probe may take ({LONGEST_PROBE})",
                           model.source, f"{where}/{name}")
    if env is None:
        return
    target = env.spec.target
    if target.driver == "gitops":
        findings.warning("MO248", "verifyTraffic is not checked on a gitops target: apply renders the switch, and the "
                         "cluster makes it when it syncs, after the apply", model.source, where, at_key=True,
                         hint="verify with a post-promotion analysis, which the cluster runs after its switch")
        return
    endpoints = target.endpoints
    routed = target.driver == "local" and target.runtime in ("mlserver", "command")  # the router is the endpoint
    if not routed and (endpoints is None or endpoints.active is None):
        findings.error("MO157", f"verifyTraffic probes the active endpoint, and {env.name} names none", model.source,
                       where, at_key=True,
                       hint=f"set spec.target.endpoints.active in {env.source.file}, such as "
                            '"http://models.internal/$model"')

"""Layer 3: meaning across documents: references, uniqueness, orderings, cycles, consistency.

Runs over documents that passed their schema, and (references, canary weights and replica bounds only) over
the YAML of documents that did not, away from their schema errors: fixing a schema error must not reveal a
second round of errors that were there all along. References to documents that failed to load or validate
are not reported (the first error is the one to fix).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from modelops.base.clock import readable
from modelops.base.diagnostics import pointer, suggestion
from modelops.config.catalog import METRICS
from modelops.config.documents import Document
from modelops.config.loader import SourceDocument
from modelops.config.scalars import ScalarError
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.semver import parse_semver
from modelops.config.spec.policies import AlertRule, Thresholds
from modelops.config.spec.types import valid_name
from modelops.validate import cluster, localtarget, maintenance, testing
from modelops.validate.findings import Findings
from modelops.validate.metrics import check_metrics
from modelops.validate.notifications import check_notifications
from modelops.validate.promql import promql_problem
from modelops.validate.schema import Partial, SchemaResult


class Index:
    """Documents by kind and name; environments and models keyed per environment."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.by_key: dict[tuple[str, str | None, str], list[Document]] = defaultdict(list)
        for doc in documents:
            self.by_key[doc.key].append(doc)

    def first(self, kind: str, environment: str | None, name: str) -> Document | None:
        found = self.by_key.get((kind, environment, name))
        return found[0] if found else None

    def names(self, kind: str, environment: str | None = None) -> list[str]:
        return sorted(n for (k, e, n) in self.by_key if k == kind and e == environment)

    def all(self, kind: str) -> list[Document]:
        return [docs[0] for (k, _, _), docs in sorted(self.by_key.items(), key=_order) if k == kind]

    def all_documents(self) -> list[Document]:
        return [docs[0] for _, docs in sorted(self.by_key.items(), key=_order)]


def _order(item: tuple[tuple[str, str | None, str], list[Document]]) -> tuple[str, str, str]:
    (kind, env, name), _ = item
    return kind, env or "", name


def check_semantics(result: SchemaResult, findings: Findings) -> None:
    index = Index(result.documents)
    _duplicates(index, findings)
    refs = _References(index, result, findings)
    models = index.all("Model")
    for env in index.all("Environment"):
        _environment(env, refs, findings)
        maintenance.check_environment(env, [m for m in models if m.environment == env.name], findings)
    _promotion_cycles(index, findings)
    check_notifications(index.all_documents(), refs.check, findings)
    _orphan_models(index, result, findings)
    for model in index.all("Model"):
        _model(model, refs, findings)
        localtarget.check_model(model, index.first("Environment", None, model.environment or ""), findings)
        cluster.check_model(model, index.first("Environment", None, model.environment or ""), findings)
        testing.check_model(model, index.first("Environment", None, model.environment or ""), findings)
        _expressible(model, index, findings)
        _watched(model, index, findings)
    for policy in index.all("AlertPolicy"):
        _alert_policy(policy, findings)
    for policy in index.all("EscalationPolicy"):
        _escalation_policy(policy, findings)
    for policy in index.all("ScalingPolicy"):
        _scaling_policy(policy, findings)
    for guardrail in index.all("Guardrail"):
        for i, env_name in enumerate(guardrail.spec.match.environments):
            refs.check(guardrail.source, pointer("spec", "match", "environments", i), "Environment", env_name, None)
    for partial in result.partial:
        _partial(partial, refs, findings)
    _renames(index, findings)
    _one_digest_two_versions(index, findings)
    check_metrics(index.all_documents(), findings, complete=not result.partial and not result.broken_names)


def _renames(index: Index, findings: Findings) -> None:
    """`metadata.previousNames` moves a model's record: it must name a model that no longer exists under that
    name, once per environment; `spec.retire` names models retired on purpose, never one still declared."""
    claimed: dict[tuple[str | None, str], str] = {}
    for doc in index.all_documents():
        for i, old in enumerate(doc.previous_names):
            where = pointer("metadata", "previousNames", i)
            problem = _rename_problem(doc, old, index, claimed)
            if problem is not None:
                findings.error("MO213", problem, doc.source, where,
                               hint="list in previousNames only the names this model had before, each once")
            claimed.setdefault((doc.environment, old), doc.name)
    for env in index.all("Environment"):
        for i, name in enumerate(env.spec.retire or []):
            if index.first("Model", env.name, name) is not None:
                findings.error("MO213", f'spec.retire names "{name}", which is still a model of {env.name}',
                               env.source, pointer("spec", "retire", i),
                               hint=f"remove {name}'s model file to retire it, or remove it from spec.retire")


def _one_digest_two_versions(index: Index, findings: Findings) -> None:
    """MO232: a model whose environments pin one artifact digest under different versions. Promotion copies a
    version and its digest together; a version bumped without its digest would serve the old artifact. The warning
    stands at the newest version (the bump), or at every one when the versions do not compare."""
    pinned: dict[tuple[str, str], list[Document]] = defaultdict(list)
    for doc in index.all("Model"):
        if doc.spec.artifact.sha256 is not None:
            pinned[(doc.name, doc.spec.artifact.sha256)].append(doc)
    for (name, sha), docs in pinned.items():
        if len({str(d.spec.version) for d in docs}) < 2:
            continue
        for doc in _newest(docs):
            others = ", ".join(f"{d.spec.version} in {d.environment}" for d in docs
                               if str(d.spec.version) != str(doc.spec.version))
            findings.warning("MO232", f"{name} {doc.spec.version} pins the same artifact digest (sha256:{sha[:12]}) "
                                      f"as {name} {others}: one version's artifact.sha256 was most likely not updated",
                             doc.source, pointer("spec", "artifact", "sha256"),
                             hint="set artifact.sha256 (and artifact.uri) to the new version's artifact")


def _newest(docs: list[Document]) -> list[Document]:
    """The documents of the newest version, when every version is a semantic version; else all of them."""
    try:
        versions = [parse_semver(str(d.spec.version)) for d in docs]
    except ScalarError:
        return docs
    return [d for d, v in zip(docs, versions, strict=True) if v == max(versions)]


def _rename_problem(doc: Document, old: str, index: Index, claimed: dict[tuple[str | None, str], str]) -> str | None:
    if doc.kind != "Model":
        return f"metadata.previousNames moves a model's record; a {doc.kind} has none to move"
    if old == doc.name:
        return f'"{old}" is this model\'s own name'
    if index.first("Model", doc.environment, old) is not None:
        return f'"{old}" is a model of its own in {doc.environment}: it cannot also be a former name of {doc.name}'
    other = claimed.get((doc.environment, old))
    if other is not None:
        return f'"{old}" is already a former name of {other} in {doc.environment}: one record moves to one model'
    return None


class _References:
    def __init__(self, index: Index, result: SchemaResult, findings: Findings) -> None:
        self.index, self.result, self.findings = index, result, findings

    def check(self, source: SourceDocument, ptr: str, kind: str, name: str, environment: str | None) -> bool:
        if self.index.first(kind, environment, name) is not None or self.result.may_exist(kind, environment, name):
            return True
        known = self.index.names(kind, environment)
        where = f" in environment {environment}" if environment and kind == "Model" else ""
        self.findings.error("MO201", f'unknown {kind} "{name}"{where}' + suggestion(name, known), source, ptr,
                            hint=f"known: {', '.join(known)}" if known else _defined_where(kind))
        return False


def _defined_where(kind: str) -> str:
    homes = {"Environment": "environments/<name>/environment.yaml", "Model": "environments/<env>/models/"}
    return f"no {kind} is defined; add one in {homes.get(kind, 'policies/')}"


def local(source: SourceDocument, ptr: str, what: str, name: str, known: Iterable[str], findings: Findings) -> None:
    """A reference to something defined inside the same document (a test, an analysis, a channel)."""
    names = sorted(known)
    if name not in names:
        findings.error("MO201", f'unknown {what} "{name}"' + suggestion(name, names), source, ptr,
                       hint=f"defined here: {', '.join(names)}" if names else f"this document defines no {what}s")


def _duplicates(index: Index, findings: Findings) -> None:
    for (kind, env, name), docs in index.by_key.items():
        scope = f" in environment {env}" if kind == "Model" else ""
        for extra in docs[1:]:
            findings.error("MO202", f'duplicate {kind} "{name}"{scope}: also defined at {docs[0].where}', extra.source,
                           "/metadata/name", hint="names are unique per kind" + (" and environment" if scope else ""))


# -- Environments -----------------------------------------------------------------------------------


def _environment(env: Document, refs: _References, findings: Findings) -> None:
    directory = env.directory
    if directory != env.name:
        findings.error("MO203", f'environment "{env.name}" lives in environments/{directory}/', env.source,
                       "/metadata/name", hint=_directory_hint(env.name, directory or ""))
    spec = env.spec
    if spec.promotes_from is not None:
        if spec.promotes_from == env.name:
            findings.error("MO208", f'environment "{env.name}" promotes from itself', env.source, "/spec/promotesFrom")
        else:
            refs.check(env.source, "/spec/promotesFrom", "Environment", spec.promotes_from, None)
    for i, window in enumerate(spec.freeze):
        if window.to <= window.from_:
            findings.error("MO207", f"freeze window ends ({window.to.isoformat()}) before it starts "
                           f"({window.from_.isoformat()})", env.source, pointer("spec", "freeze", i, "to"))
    _target(env, findings)
    _metrics(env, findings)
    localtarget.check_environment(env, findings)
    cluster.check_environment(env, findings)


def _directory_hint(name: str, directory: str) -> str:
    if valid_name(directory) == directory:
        return f"rename the directory to {name} or set metadata.name: {directory}"
    # the directory is no valid name (metadata.name: Staging_EU would fail MO111): only renaming it helps
    suggested = valid_name(directory)
    label = f" such as {suggested}" if suggested and suggested != name else ""
    return f"rename the directory to {name}" + (f" (or to a DNS-1123 label{label}, and set metadata.name to match)"
                                                if label else "")


def _target(env: Document, findings: Findings) -> None:
    target = env.spec.target
    if target.driver == "webhook" and target.webhook is None:
        findings.error("MO102", 'missing required field "webhook" for driver webhook', env.source, "/spec/target",
                       at_key=True, hint='add webhook: {url: "${env:DEPLOY_WEBHOOK_URL}"}')
    for block in ("webhook", "gitops"):
        if getattr(target, block) is not None and target.driver != block:
            findings.warning("MO211", f"{block} settings are ignored: the driver is {target.driver}", env.source,
                             pointer("spec", "target", block), at_key=True)


def _metrics(env: Document, findings: Findings) -> None:
    metrics = env.spec.metrics
    if metrics is None:
        return
    needed = "path" if metrics.source == "file" else "url"
    if getattr(metrics, needed) is None and needed == "path":  # no url: the local runtime's (validate.localtarget)
        findings.error("MO102", f'missing required field "{needed}" for a {metrics.source} metric source', env.source,
                       "/spec/metrics", at_key=True)
    for metric, query in metrics.queries.items():
        _promql(env, query, pointer("spec", "metrics", "queries", metric), findings)


def _promql(doc: Document, query: str, ptr: str, findings: Findings) -> None:
    """Brackets and quotes of a raw query: a slip fails here instead of when a rollout first queries it."""
    problem = promql_problem(query)
    if problem is not None:
        findings.error("MO105", f"invalid PromQL: {problem}", doc.source, ptr,
                       hint="check the query's brackets and quotes (promtool or the Prometheus UI show the rest)")


def _promotion_cycles(index: Index, findings: Findings) -> None:
    upstream = {e.name: e.spec.promotes_from for e in index.all("Environment")}
    reported: set[str] = set()
    for env in index.all("Environment"):
        chain = [env.name]
        while (nxt := upstream.get(chain[-1])) is not None and nxt in upstream:
            if nxt in chain:
                cycle = [*chain[chain.index(nxt):], nxt]
                if nxt != chain[-1] and not reported.intersection(cycle):
                    findings.error("MO208", "promotion chain has a cycle: " + " <- ".join(cycle), env.source,
                                   "/spec/promotesFrom", hint="remove promotesFrom from one of these environments")
                    reported.update(cycle)
                break
            chain.append(nxt)


def _orphan_models(index: Index, result: SchemaResult, findings: Findings) -> None:
    seen: set[str] = set()
    for model in index.all("Model"):
        env = model.environment or ""
        if env in seen or index.first("Environment", None, env):
            continue
        seen.add(env)
        if not result.may_exist("Environment", None, env):
            findings.error("MO201", f'model belongs to environment "{env}", which has no environment.yaml',
                           model.source, "", hint=f"create environments/{env}/environment.yaml")


# -- Models -----------------------------------------------------------------------------------------


def _model(model: Document, refs: _References, findings: Findings) -> None:
    spec = model.spec
    if spec.scaling is not None:
        refs.check(model.source, "/spec/scaling", "ScalingPolicy", spec.scaling, None)
    for i, name in enumerate(spec.alerts):
        refs.check(model.source, pointer("spec", "alerts", i), "AlertPolicy", name, None)
    if spec.escalation is not None:
        refs.check(model.source, "/spec/escalation", "EscalationPolicy", spec.escalation, None)
    _unique_tests(model, findings)
    for name, analysis in spec.analysis.items():
        if analysis.query is not None:
            _promql(model, analysis.query, pointer("spec", "analysis", name, "query"), findings)
    _distinct_rules(model, refs.index, findings)
    if spec.strategy is not None:
        _strategy_refs(model, findings)
    if spec.strategy is not None and spec.strategy.canary is not None:
        _canary_weights(model, findings)
    _unrun_tests(model, findings)
    _unrun_analyses(model, findings)


def _unrun_tests(model: Document, findings: Findings) -> None:
    """Every declared test runs before a new version takes traffic (see modelops.core.strategies.preview_tests);
    one that a strategy's `previewTests` leaves out never runs, and a guard on tests that cannot fail never
    fires: both are said, where they are written."""
    spec = model.spec
    strategy = spec.strategy
    block = (strategy.blue_green or strategy.canary or strategy.rolling) if strategy is not None else None
    listed = list(block.preview_tests) if block is not None else []
    if listed and strategy is not None:
        where = f"spec.strategy.{strategy.name}.previewTests"
        for i, test in enumerate(spec.tests):
            if test.name not in listed:
                findings.warning("MO210", f'test "{test.name}" never runs: {where} lists only {", ".join(listed)}',
                                 model.source, pointer("spec", "tests", i, "name"),
                                 hint=f"add it to {where}, or leave previewTests out to run every declared test")
    guard = spec.auto_rollback
    if not spec.tests and guard.on_test_failure and "on_test_failure" in guard.model_fields_set:
        findings.warning("MO210", "autoRollback.onTestFailure can never fire: the model declares no tests",
                         model.source, "/spec/autoRollback/onTestFailure",
                         hint="declare the tests it should guard (spec.tests), or remove the setting")


def _unrun_analyses(model: Document, findings: Findings) -> None:
    """An analysis runs only where a strategy names it (canary steps, blue-green pre/post promotion)."""
    strategy = model.spec.strategy
    used: set[str] = set()
    if strategy is not None and strategy.blue_green is not None:
        used |= {*strategy.blue_green.pre_promotion_analysis, *strategy.blue_green.post_promotion_analysis}
    if strategy is not None and strategy.canary is not None:
        for step in strategy.canary.steps:
            used |= {step.analysis} if isinstance(step.analysis, str) else set(step.analysis or [])
    for name in model.spec.analysis:
        if name not in used:
            findings.warning("MO210", f'analysis "{name}" never runs: no strategy step names it', model.source,
                             pointer("spec", "analysis", name), at_key=True,
                             hint="name it in a canary step or in a blueGreen pre/postPromotionAnalysis, or remove it")


def _expressible(model: Document, index: Index, findings: Findings) -> None:
    """A gitops target with plain Deployments splits canary traffic by replicas: refuse what it cannot do."""
    env = index.first("Environment", None, model.environment or "")
    target = env.spec.target if env is not None else None
    strategy = model.spec.strategy
    if target is None or target.driver != "gitops" or strategy is None or strategy.canary is None:
        return
    if target.gitops is not None and target.gitops.flavor != "plain":
        return
    where = pointer("spec", "strategy", "canary")
    hint = f"set spec.target.gitops.flavor to argo-rollouts or kserve in {env.source.file}"  # type: ignore[union-attr]
    if model.spec.scaling is not None:
        findings.error("MO211", "plain Kubernetes cannot express canary weights for an autoscaled model (ScalingPolicy "
                       f"{model.spec.scaling}): weights are replica splits", model.source, where, hint=hint)
        return
    replicas = model.spec.serving.replicas or 1
    for i, step in enumerate(strategy.canary.steps):
        if step.set_weight is not None and replicas * step.set_weight % 100:
            findings.error("MO211", f"setWeight {step.set_weight} cannot be a split of {replicas} replicas between two "
                           "plain Deployments", model.source, pointer(*("spec", "strategy", "canary", "steps", i,
                                                                         "setWeight")), hint=hint)


def _distinct_rules(model: Document, index: Index, findings: Findings) -> None:
    """A rule name becomes the alert's `modelops_rule` label: two policies of one model must not share one."""
    seen: dict[str, str] = {}
    for i, name in enumerate(model.spec.alerts):
        policy = index.first("AlertPolicy", None, name)
        for rule in policy.spec.rules if policy is not None else []:
            if rule.name in seen and seen[rule.name] != name:
                findings.error("MO202", f'rule "{rule.name}" comes from both AlertPolicy {seen[rule.name]} and {name}:'
                               " its alerts would be indistinguishable", model.source, pointer("spec", "alerts", i),
                               hint="rename one of the rules (rule names become the modelops_rule label)")
            seen.setdefault(rule.name, name)


def _watched(model: Document, index: Index, findings: Findings) -> None:
    """autoRollback.onAlerts and analysis read the environment's metric source: say when there is none."""
    env = index.first("Environment", None, model.environment or "")
    if env is None or env.spec.metrics is not None:
        return
    if model.spec.auto_rollback.on_alerts:
        findings.warning("MO211", "autoRollback.onAlerts is not checked: the environment has no metric source",
                         model.source, "/spec/autoRollback/onAlerts", hint=f"add spec.metrics to {env.source.file}")


def _unique_tests(model: Document, findings: Findings) -> None:
    seen: set[str] = set()
    for i, test in enumerate(model.spec.tests):
        if test.name in seen:
            findings.error("MO202", f'duplicate test "{test.name}"', model.source, pointer("spec", "tests", i, "name"))
        seen.add(test.name)


def _strategy_refs(model: Document, findings: Findings) -> None:
    spec = model.spec
    tests = [t.name for t in spec.tests]
    analyses = list(spec.analysis)
    name = spec.strategy.name
    block = getattr(spec.strategy, {"blueGreen": "blue_green"}.get(name, name))
    base = ("spec", "strategy", name)
    for i, test in enumerate(block.preview_tests):
        local(model.source, pointer(*base, "previewTests", i), "test", test, tests, findings)
    for field_name in ("prePromotionAnalysis", "postPromotionAnalysis"):
        attr = {"prePromotionAnalysis": "pre_promotion_analysis", "postPromotionAnalysis": "post_promotion_analysis"}
        for i, analysis in enumerate(getattr(block, attr[field_name], [])):
            local(model.source, pointer(*base, field_name, i), "analysis", analysis, analyses, findings)
    if name == "canary":
        for s, step in enumerate(block.steps):
            names = [step.analysis] if isinstance(step.analysis, str) else step.analysis or []
            for j, analysis in enumerate(names):
                where = pointer(*base, "steps", s, "analysis") + ("" if isinstance(step.analysis, str) else f"/{j}")
                local(model.source, where, "analysis", analysis, analyses, findings)


def _canary_weights(model: Document, findings: Findings) -> None:
    steps = model.spec.strategy.canary.steps
    _increasing(model.source, [(i, s.set_weight) for i, s in enumerate(steps) if s.set_weight is not None], findings)


def _increasing(source: SourceDocument, weights: Iterable[tuple[int, int]], findings: Findings) -> None:
    """Canary weights (step index, setWeight) only move forward."""
    last = -1
    for i, weight in weights:
        if weight <= last:
            findings.error("MO204", f"canary weight {weight} does not increase on the previous {last}",
                           source, pointer("spec", "strategy", "canary", "steps", i, "setWeight"),
                           hint="each setWeight must be larger than the one before it (traffic only moves forward)")
        last = max(last, weight)


# -- Policies ---------------------------------------------------------------------------------------


def _alert_policy(policy: Document, findings: Findings) -> None:
    seen: set[str] = set()
    for i, rule in enumerate(policy.spec.rules):
        base = ("spec", "rules", i)
        if rule.query is not None:
            _promql(policy, rule.query, pointer(*base, "query"), findings)
        if rule.name in seen:
            findings.error("MO202", f'duplicate rule "{rule.name}"', policy.source, pointer(*base, "name"))
        seen.add(rule.name)
        for direction in ("above", "below"):
            thresholds = getattr(rule, direction)
            if thresholds is not None:
                _thresholds(policy, rule, direction, thresholds, base, findings)


def _thresholds(policy: Document, rule: AlertRule, direction: str, t: Thresholds, base: tuple[object, ...],
                findings: Findings) -> None:
    values: dict[str, float] = {}
    for severity in ("warning", "critical"):
        raw = getattr(t, severity)
        if raw is None:
            continue
        ptr = pointer(*base, direction, severity)  # type: ignore[arg-type]
        if isinstance(raw, Duration) and rule.metric in METRICS and not METRICS[rule.metric].is_time:
            findings.error("MO212", f"{rule.metric} is measured in {METRICS[rule.metric].unit}, not time: "
                           f'"{raw}" does not fit', policy.source, ptr, hint="give a plain number")
        value = raw.seconds if isinstance(raw, Duration) else raw
        if not math.isfinite(value):
            findings.error("MO209", f"{severity} threshold must be a finite number", policy.source, ptr)
            continue
        values[severity] = value
    if len(values) == 2:
        _ordered(policy, direction, values, pointer(*base, direction), findings)  # type: ignore[arg-type]


def _ordered(policy: Document, direction: str, v: Mapping[str, float], ptr: str, findings: Findings) -> None:
    wrong = v["warning"] > v["critical"] if direction == "above" else v["warning"] < v["critical"]
    if wrong:
        relation = "above" if direction == "above" else "below"
        findings.error("MO209", f"warning threshold {v['warning']:g} is {relation} critical {v['critical']:g}",
                       policy.source, ptr + "/warning",
                       hint=f"for `{direction}`, the warning comes first: it must be "
                            f"{'lower' if direction == 'above' else 'higher'} than the critical threshold")


def _escalation_policy(policy: Document, findings: Findings) -> None:
    spec = policy.spec
    channels = list(spec.channels)
    used: set[str] = set()
    for i, route in enumerate(spec.routes):
        for j, channel in enumerate(route.channels):
            local(policy.source, pointer("spec", "routes", i, "channels", j), "channel", channel, channels, findings)
            used.add(channel)
        severity = route.match.get("severity")
        if severity is not None and severity not in ("warning", "critical"):
            findings.error("MO105", f'invalid severity "{severity}"' + suggestion(severity, ["warning", "critical"]),
                           policy.source, pointer("spec", "routes", i, "match", "severity"),
                           hint="one of: warning, critical")
    for i, rule in enumerate(spec.escalate):
        for j, channel in enumerate(rule.channels):
            local(policy.source, pointer("spec", "escalate", i, "channels", j), "channel", channel, channels, findings)
            used.add(channel)
    for name in channels:
        if name not in used:
            findings.warning("MO210", f'channel "{name}" is not used by any route or escalation', policy.source,
                             pointer("spec", "channels", name), at_key=True)
    if spec.grouping.repeat < spec.grouping.interval:
        repeat, interval = (readable(d.ms, exact=True) for d in (spec.grouping.repeat, spec.grouping.interval))
        findings.error("MO206", f"repeat ({repeat}) is shorter than interval ({interval})",
                       policy.source, "/spec/grouping/repeat",
                       hint="a notification cannot repeat more often than its group is re-evaluated")
    for i, quiet in enumerate(spec.quiet_hours):
        if (quiet.start is None) != (quiet.end is None):
            findings.error("MO102", "quiet hours need both start and end (or neither, for whole days)", policy.source,
                           pointer("spec", "quietHours", i))


def _scaling_policy(policy: Document, findings: Findings) -> None:
    spec = policy.spec
    _bounded(policy.source, spec.min_replicas, spec.max_replicas, [(i, w.min_replicas) for i, w in
                                                                   enumerate(spec.schedule)], findings)


def _bounded(source: SourceDocument, least: int | None, most: int, floors: Iterable[tuple[int, int]],
             findings: Findings) -> None:
    """minReplicas, and each scheduled floor (schedule index, minReplicas), at most maxReplicas."""
    if least is not None and least > most:
        findings.error("MO205", f"minReplicas ({least}) is greater than maxReplicas ({most})", source,
                       "/spec/minReplicas")
    for i, floor in floors:
        if floor > most:
            findings.error("MO205", f"scheduled minReplicas ({floor}) is greater than maxReplicas ({most})", source,
                           pointer("spec", "schedule", i, "minReplicas"))


# -- Documents with schema errors -------------------------------------------------------------------
# Their schema errors are reported; references, canary weights and replica bounds are read from the YAML as
# written. A value with a schema error at it or inside it is not read (it is reported already, and what it
# would say is nonsense), nor is a list of names that may be incomplete (a test without a name).


class _Raw:
    """The YAML of a document that failed its schema, read only where the schema found nothing wrong."""

    def __init__(self, partial: Partial) -> None:
        self.source, self.errors = partial.source, partial.errors

    def node(self, *path: str | int) -> Any:
        """The value at `path` as written (None when missing), whatever errors lie inside it."""
        node: Any = self.source.data
        for item in path:
            if isinstance(node, dict) and isinstance(item, str):
                node = node.get(item)
            elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
                node = node[item]
            else:
                return None
        return node

    def text(self, *path: str | int) -> str | None:
        """The string at `path`, or None when it is something else or has a schema error."""
        value = self.node(*path)
        return value if isinstance(value, str) and self.clean(pointer(*path)) else None

    def whole(self, *path: str | int) -> int | None:
        """The whole number at `path` (3.0 counts, as the schema counts it), or None."""
        value = self.node(*path)
        if isinstance(value, bool) or not self.clean(pointer(*path)):
            return None
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        return value if isinstance(value, int) else None

    def items(self, *path: str | int) -> list[tuple[int, Any]]:
        value = self.node(*path)
        return list(enumerate(value)) if isinstance(value, list) else []

    def clean(self, ptr: str) -> bool:
        return not any(e == ptr or e.startswith(ptr + "/") for e in self.errors)


def _partial(partial: Partial, refs: _References, findings: Findings) -> None:
    raw = _Raw(partial)
    if partial.kind == "Model":
        _raw_model(raw, refs, findings)
    elif partial.kind == "Environment":
        name, upstream = raw.text("metadata", "name"), raw.text("spec", "promotesFrom")
        if upstream is not None and upstream != name:  # promoting from itself is MO208 once the name validates
            refs.check(raw.source, "/spec/promotesFrom", "Environment", upstream, None)
    elif partial.kind == "EscalationPolicy":
        _raw_channels(raw, findings)
    elif partial.kind == "ScalingPolicy":
        most = raw.whole("spec", "maxReplicas")
        if most is not None:
            floors = [(i, raw.whole("spec", "schedule", i, "minReplicas")) for i, _ in raw.items("spec", "schedule")]
            _bounded(raw.source, raw.whole("spec", "minReplicas"), most,
                     [(i, f) for i, f in floors if f is not None], findings)
    elif partial.kind == "Guardrail":
        for i, _ in raw.items("spec", "match", "environments"):
            _raw_ref(raw, refs, ("spec", "match", "environments", i), "Environment")


def _raw_ref(raw: _Raw, refs: _References, path: tuple[str | int, ...], kind: str) -> None:
    name = raw.text(*path)
    if name is not None:
        refs.check(raw.source, pointer(*path), kind, name, None)


def _raw_model(raw: _Raw, refs: _References, findings: Findings) -> None:
    _raw_ref(raw, refs, ("spec", "scaling"), "ScalingPolicy")
    for i, _ in raw.items("spec", "alerts"):
        _raw_ref(raw, refs, ("spec", "alerts", i), "AlertPolicy")
    _raw_ref(raw, refs, ("spec", "escalation"), "EscalationPolicy")
    tests = _names([raw.node("spec", "tests", i, "name") for i, _ in raw.items("spec", "tests")])
    if not isinstance(raw.node("spec", "tests"), list | None):
        tests = None  # not a list: what it defines is unknown
    analysis = raw.node("spec", "analysis")
    analyses = _names(list(analysis)) if isinstance(analysis, dict) else [] if analysis is None else None
    for name in ("blueGreen", "canary", "rolling"):
        base = ("spec", "strategy", name)
        _raw_local(raw, [(*base, "previewTests", i) for i, _ in raw.items(*base, "previewTests")], "test", tests,
                   findings)
        _raw_local(raw, [(*base, f, i) for f in ("prePromotionAnalysis", "postPromotionAnalysis")
                         for i, _ in raw.items(*base, f)], "analysis", analyses, findings)
    steps = raw.items("spec", "strategy", "canary", "steps")
    step_analyses = [("spec", "strategy", "canary", "steps", s, "analysis") for s, _ in steps]
    listed = [(*p, j) for p in step_analyses for j, _ in raw.items(*p)]
    _raw_local(raw, [*step_analyses, *listed], "analysis", analyses, findings)
    weights = [(s, raw.whole("spec", "strategy", "canary", "steps", s, "setWeight")) for s, _ in steps]
    _increasing(raw.source, [(s, w) for s, w in weights if w is not None], findings)


def _names(values: list[Any]) -> list[str] | None:
    """The names defined, or None when one of them is no string (a reference to it could not be told apart)."""
    return values if all(isinstance(v, str) for v in values) else None


def _raw_local(raw: _Raw, paths: list[tuple[str | int, ...]], what: str, known: list[str] | None,
               findings: Findings) -> None:
    if known is None:
        return
    for path in paths:
        name = raw.text(*path)
        if name is not None:
            local(raw.source, pointer(*path), what, name, known, findings)


def _raw_channels(raw: _Raw, findings: Findings) -> None:
    channels = raw.node("spec", "channels")
    known = _names(list(channels)) if isinstance(channels, dict) else None
    paths = [(section, i, "channels", j) for section in ("routes", "escalate") for i, _ in raw.items("spec", section)
             for j, _ in raw.items("spec", section, i, "channels")]
    _raw_local(raw, [("spec", *p) for p in paths], "channel", known, findings)

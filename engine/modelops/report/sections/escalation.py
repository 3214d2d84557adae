"""Escalation routing: per EscalationPolicy, a Mermaid flowchart of severity (and label) routes to channels,
the escalation rules (N similar alerts within a window), grouping and quiet hours.

Only channel names and types appear: the channels' URLs, keys and addresses are secrets or personal data and
stay in the YAML (as `${env:...}` references) and in the notifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from modelops.base.clock import readable
from modelops.config.spec.policies import EscalationPolicySpec, QuietHours, Route
from modelops.ops.lifecycle import describe_escalation
from modelops.report.context import ReportContext
from modelops.report.mermaid import Flowchart
from modelops.report.section import Section


@dataclass(frozen=True)
class PolicyView:
    name: str
    models: list[str]
    diagram: Markup
    channels: list[tuple[str, str]]
    grouping: str
    escalations: list[str]
    quiet: list[str]


def collect(ctx: ReportContext) -> Mapping[str, Any] | None:
    users: dict[str, list[str]] = {}
    for model in ctx.configured():
        if model.spec.escalation and ctx.policy("EscalationPolicy", model.spec.escalation) is not None:
            users.setdefault(model.spec.escalation, []).append(model.name)
    if not users:
        return None
    policies = [_policy(name, ctx.policy_spec("EscalationPolicy", name), models)
                for name, models in sorted(users.items())]
    return {"policies": policies}


def _policy(name: str, spec: EscalationPolicySpec, models: list[str]) -> PolicyView:
    channels = [(channel, _channel_kind(spec, channel)) for channel in spec.channels]
    g = spec.grouping
    wait, interval, repeat = (readable(d.ms, exact=True) for d in (g.wait, g.interval, g.repeat))
    grouping = (f"alerts with the same {', '.join(g.by)} form one notification; first after {wait}, "
                f"new alerts every {interval}, repeated every {repeat}")
    escalations = [describe_escalation(rule) for rule in spec.escalate]
    return PolicyView(name, models, routing_diagram(spec), channels, grouping, escalations,
                      [_quiet(q) for q in spec.quiet_hours])


def _channel_kind(spec: EscalationPolicySpec, name: str) -> str:
    channel = spec.channels[name]
    detail = getattr(channel, "channel", None)  # a Slack channel name is routing, not a secret
    return f"{channel.type} {detail}" if detail else channel.type


def routing_diagram(spec: EscalationPolicySpec) -> Markup:
    """Alerts enter at the top route; each route sends matches to its channels and the rest (or, with
    `continue`, everything) on to the next route; escalation rules add channels when alerts pile up.

    Drawn top-down with short labels (channel names; their kinds are listed under the diagram) and labelled edges
    only where they say something ("no match", "continue", "escalate"): a left-to-right chain of routes grows
    wider than GitHub's column and is scaled down until its text is unreadable.
    """
    chart = Flowchart(direction="TD")
    source = chart.node("alert", "stadium")
    previous, previous_label = source, ""
    catch_all = False
    edges: list[tuple[str, str]] = []
    for index, route in enumerate(spec.routes, 1):
        route_id = chart.node(f"{index}. {_match(route)}", "round")
        chart.edge(previous, route_id, previous_label, "solid" if previous == source else "dotted")
        edges += [(route_id, channel) for channel in route.channels if channel in spec.channels]
        previous, previous_label = route_id, "continue" if route.continue_ else "no match"
        if not route.match and not route.continue_:
            catch_all = True
            break
    if not catch_all:
        chart.edge(previous, chart.node("not notified", "round"), previous_label, "dotted")
    escalations = []
    for rule in spec.escalate:
        severity = f"{rule.severity} " if rule.severity else ""
        counted = f"{rule.trigger()} {severity}alerts of the policy" if rule.per == "policy" else \
            f"{severity}alerts pile up on a rule and model"
        rule_id = chart.node(f"escalate: {counted}", "hexagon")
        chart.edge(source, rule_id, style="dotted")
        escalations += [(rule_id, channel) for channel in rule.channels if channel in spec.channels]
    channel_ids = {name: chart.node(name, "box") for name in spec.channels}
    for route_id, channel in edges:
        chart.edge(route_id, channel_ids[channel])
    for rule_id, channel in escalations:
        chart.edge(rule_id, channel_ids[channel], "escalate", "thick")
    return chart.render()


def _match(route: Route) -> str:
    return ", ".join(f"{key} = {value}" for key, value in sorted(route.match.items())) or "any alert"


def _quiet(quiet: QuietHours) -> str:
    days = ", ".join(quiet.weekdays) or "every day"
    hours = f" {quiet.start}–{quiet.end}" if quiet.start and quiet.end else ""
    return f"{', '.join(quiet.severities)} muted on {days}{hours} ({quiet.timezone})"


SECTION = Section("escalation", "Escalation routing", collect)

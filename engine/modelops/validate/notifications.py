"""Rollout notifications (`spec.notifications` of an Environment or a Model): every channel they name resolves.

A subscription names `<policy>/<channel>`, or a channel's name alone: a Model's is one of its own EscalationPolicy's
channels; an Environment's is looked up in the EscalationPolicies its models use, and exactly one of them must
define it (MO145 when none can be looked in, or when two could send it). An unknown policy or channel is MO201,
as every unknown reference is. A PagerDuty channel told of `applied` is a warning (MO235): every successful change
would open an incident.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from modelops.base.diagnostics import pointer, suggestion
from modelops.config.documents import Document
from modelops.config.loader import SourceDocument
from modelops.config.spec.notifications import Subscription
from modelops.config.spec.policies import EscalationPolicySpec, PagerDutyChannel
from modelops.validate.findings import Findings

#: Reports an unknown reference (MO201) unless the document exists, perhaps invalid: `_References.check`.
CheckRef = Callable[[SourceDocument, str, str, str, str | None], bool]


def check_notifications(documents: Sequence[Document], check_ref: CheckRef, findings: Findings) -> None:
    """Check the subscriptions of every Environment and Model."""
    policies = {d.name: d.spec for d in documents if d.kind == "EscalationPolicy"}
    used: dict[str, set[str]] = defaultdict(set)
    for doc in documents:
        if doc.kind == "Model" and doc.spec.escalation is not None:
            used[doc.environment or ""].add(doc.spec.escalation)
    for doc in documents:
        if doc.kind not in ("Environment", "Model") or not doc.spec.notifications:
            continue
        if doc.kind == "Model":
            own = [doc.spec.escalation] if doc.spec.escalation is not None else []
        else:
            own = sorted(used[doc.name])
        for index, subscription in enumerate(doc.spec.notifications):
            at = pointer("spec", "notifications", index, "channel")
            policy = _resolve(doc, subscription, at, own, policies, check_ref, findings)
            if policy is not None:
                _noisy(doc, subscription, policies[policy], index, findings)


def _resolve(doc: Document, subscription: Subscription, at: str, own: list[str],
             policies: Mapping[str, EscalationPolicySpec], check_ref: CheckRef, findings: Findings) -> str | None:
    """The EscalationPolicy that sends the subscription's channel, or None (reported, or not checkable here)."""
    name = subscription.name
    if subscription.policy is not None:
        if not check_ref(doc.source, at, "EscalationPolicy", subscription.policy, None):
            return None
        spec = policies.get(subscription.policy)
        if spec is None:  # the policy exists but is invalid: its own errors come first
            return None
        if name not in spec.channels:
            findings.error("MO201", f'unknown channel "{name}" of EscalationPolicy "{subscription.policy}"'
                           + suggestion(name, list(spec.channels)), doc.source, at,
                           hint=f"its channels: {', '.join(sorted(spec.channels))}")
            return None
        return subscription.policy
    if not own:
        where = ("this model has no spec.escalation" if doc.kind == "Model"
                 else f"no model of environment {doc.name} has an EscalationPolicy")
        findings.error("MO145", f'channel "{name}" names no EscalationPolicy, and {where} to find it in',
                       doc.source, at, hint=f'write "<policy>/{name}", such as "ml-oncall/{name}"')
        return None
    if any(p not in policies for p in own):  # one of them is invalid or missing: reported on its own
        return None
    having = [p for p in own if name in policies[p].channels]
    if len(having) > 1:
        findings.error("MO145", f'channel "{name}" is defined by EscalationPolicies {" and ".join(having)}: which one '
                                "sends it is not said", doc.source, at,
                       hint=" or ".join(f'"{p}/{name}"' for p in having))
        return None
    if not having:
        known = sorted({c for p in own for c in policies[p].channels})
        findings.error("MO201", f'unknown channel "{name}" (looked up in EscalationPolicy {", ".join(own)})'
                       + suggestion(name, known), doc.source, at, hint=f"channels there: {', '.join(known)}")
        return None
    return having[0]


def _noisy(doc: Document, subscription: Subscription, policy: EscalationPolicySpec, index: int,
           findings: Findings) -> None:
    if isinstance(policy.channels[subscription.name], PagerDutyChannel) and "applied" in subscription.events:
        at = pointer("spec", "notifications", index, "events", subscription.events.index("applied"))
        findings.warning("MO235", f'PagerDuty channel "{subscription.channel}" is told of every applied change: each '
                                  "one opens an incident", doc.source, at,
                         hint="send applied to a chat or e-mail channel; keep PagerDuty for rolledBack and failed")

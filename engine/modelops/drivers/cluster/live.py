"""A cluster read as the refresh sees it: the record's slots, with the cluster's say where it has settled.

A model whose workload the cluster has not finished with (a sync pending, a rollout in progress) is reported as the
record has it, with the cluster's phase: it is on its way, which is not a change made outside modelops. Once the
cluster has settled on the rendered revision (Healthy, or Degraded after an abort), the revisions taking traffic
and their shares are the cluster's; slots the record keeps without traffic (a warm slot, for instant rollback) are
not something the cluster speaks to, and stay as recorded.
"""

from __future__ import annotations

from dataclasses import replace

from modelops.core.live import LiveModel, LiveSlot
from modelops.drivers.cluster.values import ModelRead, Served

SLOTS = ("blue", "green")


def live_model(read: ModelRead | None, recorded: LiveModel) -> LiveModel:
    """`recorded` (the record's slots and traffic) merged with what the cluster says about them."""
    if read is None:
        return recorded
    if not read.settled:
        return replace(recorded, cluster=read.phase)
    slots = {slot: held for slot, held in recorded.slots.items() if not recorded.traffic.get(slot)}
    traffic: dict[str, int] = {}
    for served in sorted(read.serving, key=lambda s: -s.weight):
        slot = _slot_of(served.revision, recorded, set(traffic))
        slots[slot] = LiveSlot(served.version, served.revision, True)
        traffic[slot] = served.weight
    return replace(recorded, slots=slots, traffic=traffic, cluster=read.phase)


def held(recorded: LiveModel) -> list[Served]:
    """The revisions a model's record holds, those taking traffic first (what a read compares KServe's with)."""
    return [Served(slot.version, slot.revision, recorded.traffic.get(name, 0))
            for name, slot in sorted(recorded.slots.items(), key=lambda item: -recorded.traffic.get(item[0], 0))]


def _slot_of(revision: str, recorded: LiveModel, taken: set[str]) -> str:
    """The slot the record holds `revision` in; for a revision it does not know, a free slot (an empty one first)."""
    known = next((s for s, held in sorted(recorded.slots.items()) if held.revision == revision and s not in taken),
                 None)
    if known is not None:
        return known
    free = [s for s in SLOTS if s not in taken]
    return next((s for s in free if s not in recorded.slots), free[0] if free else SLOTS[0])

"""Retry waits (`modelops.base.http.Retry`): exponential steps, each randomised between half and all of the step.

Nothing sleeps here: `delay` only computes waits, and the randomness comes from seeded generators.
"""

from __future__ import annotations

import random

from modelops.base.http import Retry

DRAWS = 200


def step(policy: Retry, attempt: int) -> float:
    """The un-jittered wait of an attempt: `base` doubling per attempt, never above `cap`."""
    return float(min(policy.cap, policy.base * 2**attempt))


def test_each_wait_is_the_step_scaled_by_the_injected_jitter() -> None:
    # A draw in [0, 1) maps linearly onto [step/2, step): 0 -> half the step, 0.5 -> three quarters.
    draws = iter([0.0, 0.5, 0.25, 0.75])
    policy = Retry(retries=4, base=0.5, cap=10.0, jitter=lambda: next(draws))
    assert [policy.delay(attempt) for attempt in range(4)] == [0.5 * 0.5, 1 * 0.75, 2 * 0.625, 4 * 0.875]


def test_waits_are_randomised_within_half_to_full_step() -> None:
    policy = Retry(base=0.5, cap=10.0, jitter=random.Random(20261127).random)
    for attempt in range(6):  # 0.5, 1, 2, 4, 8, then capped at 10
        full = step(policy, attempt)
        waits = [policy.delay(attempt) for _ in range(DRAWS)]
        assert all(full / 2 <= w <= full for w in waits), (attempt, min(waits), max(waits))
        # Spread over the range, not stuck at one value: retrying clients must not wake in lockstep.
        assert len(set(waits)) == DRAWS
        assert min(waits) < full * 0.6 and max(waits) > full * 0.9


def test_two_clients_with_different_seeds_wait_differently() -> None:
    first = Retry(jitter=random.Random(1).random)
    second = Retry(jitter=random.Random(2).random)
    assert [first.delay(a) for a in range(3)] != [second.delay(a) for a in range(3)]


def test_the_default_policy_draws_its_jitter_from_random() -> None:
    # The default jitter is the module-level generator; seed it (and put its state back) to stay repeatable.
    saved = random.getstate()
    try:
        random.seed(7)
        waits = [Retry().delay(0) for _ in range(DRAWS)]
        random.seed(7)
        expected = [0.5 * (0.5 + random.random() / 2) for _ in range(DRAWS)]
    finally:
        random.setstate(saved)
    assert waits == expected and len(set(waits)) == DRAWS


def test_retry_after_is_honoured_without_jitter_but_capped() -> None:
    policy = Retry(cap=10.0, jitter=lambda: 0.0)
    assert policy.delay(0, "3") == 3.0 and policy.delay(5, "60") == 10.0
    assert policy.delay(1, "soon") == 0.5  # not a number of seconds: the ordinary jittered wait

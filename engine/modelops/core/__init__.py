"""The domain and the pure stages over it: `model` (the resolved desired state and its digests), `diff` (desired
against recorded state, with the plan-time checks, into a `Plan`), `plan` (the Plan value, serialisable),
`strategies` (the steps of a rollout) and `scope` (what `--changed-since` touches). No side effects. May import
base, config and the values of state (never its store).
"""

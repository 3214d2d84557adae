"""The recorded state of each environment: the values of `state.json` and its format upgrades (`format`, `alerts`),
reading and atomic writing (`store`, `excerpt`), the write-ahead journal of an apply in progress (`journal`), the
environment lock (`lock`) and the recorded state with an interrupted apply replayed (`recorded`). May import base
and config.
"""

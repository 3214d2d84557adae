"""Plumbing every other wing stands on: errors and exit codes, diagnostics, the console, the clock, the layout of an
ops repository (every path the engine uses), containment of paths, atomic file writes, process liveness, HTTP with
retries, git (gitpython for commits, plain `git diff` for scoped plans) and bulk-load tuning. Imports nothing of
modelops.
"""

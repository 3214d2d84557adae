"""Targets: each driver executes the operations of a plan's steps and observes what the target serves, behind the
`Driver` Protocol of `base`; `local`, `webhook` and `gitops` (which renders through `modelops.export`), by name in
the plain dict of `registry`, all held to one conformance suite. May import everything below the run machinery;
never run, services or the CLI.
"""

"""Validation: every problem with the configuration, collected as located `Diagnostic`s before any is reported.

`repo.validate_repo` is the single entry point (`modelops validate` and every command that reads the configuration
go through it, so they agree on what is valid). Its layers: loading (`modelops.config`), `schema`, `semantic`
(references, names, weights, thresholds, `promql`), `guardrails` (policy as data) and `rendering` (what the gitops
driver's renderer refuses). May import base, config, state values and core; never the state store, a driver,
export, report or the CLI.
"""

"""Native configuration for the engines users already run, rendered from the configuration: `prometheus` (rule files
and generated `promtool test rules` files), `alertmanager` (routes, receivers, inhibition, time intervals and
generated `amtool` route tests) and `kubernetes` (Deployments, Argo Rollouts or KServe; HPA or KEDA;
PrometheusRule). Every exporter is a pure function from the resolved configuration to `ExportFile`s; `files`
writes them, and `rendered` keeps the gitops driver's `environments/<env>/rendered/`. May import base, config,
state values, core, validate and ops; never a driver, the run machinery, report or the CLI.
"""

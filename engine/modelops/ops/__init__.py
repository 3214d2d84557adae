"""Operations over what serves: `monitor` (one evaluation tick of every alert rule), `lifecycle` (alert states,
grouping, routing, notification decisions), `assess` (operations maturity from evidence) and `capacity`
(utilisation, growth, replicas and cost ahead). May import base, config, state, core, validate, sources, notify
and the workspace; never export, report, a driver, the run machinery or the CLI.
"""

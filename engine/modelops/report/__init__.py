"""Reports: `REPORT.md` per environment, rendered with Jinja2 (sandboxed) from the configuration and the state.

`write` renders, writes and checks a report; `render` and `context` turn an environment into Markdown through the
`sections` in order; `mermaid`, `escape` and `fmt` are the building blocks of the sections. May import base,
config, state, core, workspace and ops (capacity and maturity are sections); never a driver or the run machinery.
"""

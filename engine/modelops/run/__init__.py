"""The apply machinery: `environment` applies one environment under its lock, `executor` runs the steps of each action
through the driver and the gates with a journal and checkpoints, `gates` runs tests, analyses and the alert check,
`record` moves a model's recorded state along, `writeback` edits YAML in place (comments kept) and `derived`
refreshes REPORT.md and rendered/ after every state write. May import every wing below it; never services or the
CLI.
"""

"""One function per command that does work (plan, apply, rollback and promote, status, monitor, report, export,
init): it loads what the command needs, calls the stages, and returns a value for the CLI to render. May import
every wing but the CLI.
"""

"""The click layer: each command parses its options, calls one service function, hands the result to a renderer
chosen by output format (`views`), and returns an exit code; `main` turns every outcome into one. Also what CI
reads (`publish`, `github`), crash reports and SIGTERM handling. May import every wing; nothing imports it.
"""

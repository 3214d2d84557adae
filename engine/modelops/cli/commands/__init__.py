"""One module per command; each exports `command`, a click command returning an exit code."""

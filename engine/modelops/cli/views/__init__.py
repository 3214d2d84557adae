"""Renderers: turn a command's result into text, JSON, Markdown or GitHub workflow commands."""

"""MO115 for a URL setting whose `${env:NAME}` is set, where validation runs, to a URL with credentials in it.

A URL written in a file with `user:password@` is refused by its schema (MO115, `modelops.config.spec.http`). One
that arrives through a variable would fail every call (modelops never sends credentials written into a URL), so
`validate` says so first, at the setting, without showing the value. Only variables that are set are looked at,
and only when one of them holds such a URL: nearly every run returns at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from modelops.base.diagnostics import Diagnostic, pointer
from modelops.config.repo import Sources
from modelops.config.scalars.secretref import REFERENCE
from modelops.config.spec.http import AUTH_HINT
from modelops.validate.findings import Findings

_WITH_USERINFO = re.compile(r"^https?://[^/?#]*@", re.IGNORECASE)
#: Where each kind sets a URL that modelops calls.
_URLS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Environment": (("spec", "target", "webhook", "url"), ("spec", "metrics", "url")),
    "EscalationPolicy": (("spec", "channels", "*", "url"), ("spec", "channels", "*", "webhookUrl")),
}


def credentials_in_urls(sources: Sources, environ: Mapping[str, str]) -> list[Diagnostic]:
    """MO115 at every URL setting that refers to a variable holding a URL with user information."""
    holding = {name for name, value in environ.items() if _WITH_USERINFO.match(value.strip())}
    findings = Findings(sources)
    for document in sources.documents() if holding else ():
        for path in _URLS.get(str(document.data.get("kind")), ()):
            for ptr, value in _settings(document.data, path, ""):
                match = REFERENCE.fullmatch(value) if isinstance(value, str) else None
                if match is not None and match.group(1) in holding:
                    findings.error("MO115", f"{value} is set to a URL with credentials in it (user:password@): "
                                            "modelops never sends credentials written into a URL", document, ptr,
                                   hint=f"set {match.group(1)} to the URL alone and {AUTH_HINT}")
    return findings.diagnostics


def _settings(node: Any, path: tuple[str, ...], ptr: str) -> Iterator[tuple[str, Any]]:
    """The values at `path` ("*": every key) inside a document's data, with their JSON pointers."""
    if not path:
        yield ptr, node
        return
    if not isinstance(node, dict):
        return
    keys = node.keys() if path[0] == "*" else [path[0]] if path[0] in node else []
    for key in keys:
        yield from _settings(node[key], path[1:], ptr + pointer(str(key)))

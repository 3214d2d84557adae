"""Container image references: `[registry[:port]/]path[:tag][@algorithm:hex]`, as Docker and every OCI registry
read them (the grammar of github.com/distribution/reference).

The reference goes into rendered Kubernetes manifests and reports as it is written, so what no registry accepts is
refused here: a line break or a space (a second YAML line smuggled into a manifest), markup (`<`, `"`, `` ` ``), an
uppercase repository path, a tag over 128 characters, a digest that is not `algorithm:hex`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from modelops.config.scalars import ScalarError

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

#: The whole grammar, for editors (JSON Schema `pattern`); `parse_image` says precisely what is wrong.
PATTERN = rf"^{_NAME}(?::{_TAG})?(?:@{_DIGEST})?$"
#: How to write one, for a diagnostic's hint.
HINT = ('write [registry[:port]/]path[:tag][@sha256:<64 hex digits>], the path in lowercase, such as '
        '"vllm/vllm-openai:v0.6.3" or "registry.example.com:5000/ml/triton:24.08-py3"')
#: Where the name ends: the longest a registry accepts (distribution's NameTotalLengthMax).
MAX_NAME = 255
#: The hex digits of the digests registries compute; other algorithms need at least 128 bits.
_DIGEST_HEX = {"sha256": 64, "sha384": 96, "sha512": 128}
_ALLOWED = re.compile(r"[A-Za-z0-9._:/@+\-\[\]]")


def parse_image(value: Any) -> str:
    """The reference as written, after checking it against the grammar; `ScalarError` says what is wrong."""
    if not isinstance(value, str):
        raise ScalarError(f"expected an image reference such as vllm/vllm-openai:v0.6.3, got {type(value).__name__}")
    return _parse(value)


@functools.lru_cache(maxsize=4096)  # a large repository names the same few images thousands of times
def _parse(value: str) -> str:
    if not value:
        raise ScalarError("the image reference is empty")
    stray = next((c for c in value if not _ALLOWED.fullmatch(c)), None)
    if stray is not None:
        what = "a line break or a space" if stray.isspace() else f"the character {stray!r}"
        raise ScalarError(f"the image reference has {what} in it, which no registry accepts")
    rest, _, digest = value.partition("@")
    if digest:
        _check_digest(digest)
    name, tag = _split_tag(rest)
    if tag is not None and not re.fullmatch(_TAG, tag):
        raise ScalarError(f'the tag "{tag[:40]}" is not valid: 1 to 128 letters, digits, "_", "." or "-", not '
                          'starting with "." or "-"')
    if len(name) > MAX_NAME:
        raise ScalarError(f"the image name is {len(name)} characters long, over the {MAX_NAME} a registry accepts")
    if not re.fullmatch(_NAME, name):
        raise ScalarError(_name_problem(name))
    return value


def reference_parts(value: str) -> tuple[str, str | None, str | None]:
    """A checked reference's repository (registry and path), tag and digest: `("vllm/vllm-openai", "v0.6.3",
    None)`."""
    rest, _, digest = value.partition("@")
    name, tag = _split_tag(rest)
    return name, tag, digest or None


def _split_tag(rest: str) -> tuple[str, str | None]:
    """The name and the tag: a colon after the last slash starts the tag (one before it is the registry's port)."""
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    return (rest[:colon], rest[colon + 1:]) if colon > slash else (rest, None)


def _check_digest(digest: str) -> None:
    algorithm, _, hex_digits = digest.partition(":")
    if "@" in digest or not re.fullmatch(_DIGEST, digest):
        raise ScalarError('the digest must be algorithm:hex, such as "sha256:" followed by 64 hex digits')
    wanted = _DIGEST_HEX.get(algorithm)
    if wanted is not None and not re.fullmatch(f"[0-9a-f]{{{wanted}}}", hex_digits):
        raise ScalarError(f"a {algorithm} digest is {wanted} lowercase hex digits (this one has {len(hex_digits)})")


def _name_problem(name: str) -> str:
    parts = name.split("/")
    # The first part is a registry when it looks like a host (as Docker decides: a dot, a port, localhost or
    # capitals); the path after it is lowercase only.
    first = parts[0]
    registry = len(parts) > 1 and (any(c in first for c in ".:[") or first == "localhost" or first != first.lower())
    path = parts[1:] if registry else parts
    if any(p != p.lower() for p in path):
        return "the repository path must be lowercase (only a registry host may have capitals)"
    if any(not p for p in parts):
        return "the image name has an empty part (// or a / at either end)"
    return ('the image name is not valid: each part of the path is lowercase letters and digits, separated by ".", '
            '"_", "__" or dashes, and a registry is host[:port]')

"""HTTP headers in the configuration: a header that carries a credential takes its value from a reference."""

from __future__ import annotations

import re

from pydantic_core import PydanticCustomError

from modelops.base.diagnostics import clip
from modelops.config.scalars.secretref import Template

#: Header names that carry credentials: their values must come from references, never from the file.
_CREDENTIAL_HEADER = re.compile(r"cookie|token|secret|key|auth|passw|credential", re.IGNORECASE)
#: What a credential header may say besides its reference: an authentication scheme ("Bearer ", "Basic ").
_SCHEME = re.compile(r"(?:[A-Za-z][A-Za-z0-9-]* )?")


def no_literal_credentials(headers: dict[str, Template]) -> dict[str, Template]:
    """`headers`, after refusing a credential header whose value is written in the file instead of referenced."""
    for name, value in headers.items():
        if _CREDENTIAL_HEADER.search(name) and not (value.refs and _SCHEME.fullmatch(value.literal)):
            raise PydanticCustomError(
                "secret", f'literal value in the {clip(name)} header, which carries a credential: write a '
                'reference such as "Bearer ${env:MODEL_TOKEN}" and set the variable', {"key": name})
    return headers

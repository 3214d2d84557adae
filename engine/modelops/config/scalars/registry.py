"""References to a model registry's models: MLflow's `models:/<name>/<version>` and `models:/<name>@<alias>`.

A reference names a registered model and either a version (a number, fixed for ever) or an alias (a name the
registry's users move from version to version, such as `champion`). `modelops plan` resolves an alias to the
version it points at (`modelops.registries`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError

#: A registered model's name as modelops accepts it: MLflow forbids `/` and `:`, and a `models:/` URI could not
#: carry `@`; modelops also keeps to characters that need no quoting in URLs, file names and labels.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$"
#: An alias: MLflow's rule (word characters and `-`), without the names it reserves (`latest`, `v<number>`).
ALIAS_PATTERN = r"^(?![Ll][Aa][Tt][Ee][Ss][Tt]$)(?![Vv][0-9]+$)[A-Za-z0-9_-]{1,255}$"
_NAME = MODEL_NAME_PATTERN[1:-1]
_ALIAS = ALIAS_PATTERN[1:-1]
#: `models:/<name>/<version>` or `models:/<name>@<alias>`
MODELS_URI_PATTERN = rf"^models:/{_NAME}(/[1-9][0-9]{{0,14}}|@{_ALIAS})$"
_MODELS_URI = re.compile(MODELS_URI_PATTERN)
_HINT = 'address a registered model as "models:/<name>/<version>" or "models:/<name>@<alias>"'


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A registered model and the version or alias wanted (exactly one of them)."""

    model: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        tail = f"/{self.version}" if self.version is not None else f"@{self.alias}"
        return f"models:/{self.model}{tail}"

    @property
    def wanted(self) -> str:
        """The alias, or the version, as the plan shows it: `champion`, `7`."""
        return self.alias if self.alias is not None else str(self.version)


def is_models_uri(text: str) -> bool:
    return text.startswith("models:/")


def parse_models_uri(text: str) -> ModelRef:
    """A `models:/` URI as a reference; `ScalarError` explains the forms MLflow has that pin nothing."""
    if _MODELS_URI.match(text):
        name, rest = re.split(r"(?=[/@])", text.removeprefix("models:/"), maxsplit=1)
        return ModelRef(name, version=int(rest[1:])) if rest[0] == "/" else ModelRef(name, alias=rest[1:])
    body = text.removeprefix("models:/")
    if body.startswith("m-") and "/" not in body and "@" not in body:
        raise ScalarError(f'"{clip(text)}" is a logged model, not a registered one: register it and {_HINT}')
    if "/" in body:
        name, _, tail = body.partition("/")
        if tail.lower() == "latest":
            raise ScalarError(f'"{clip(text)}" follows whatever version was registered last; {_HINT} (an alias moves '
                              "only when someone moves it)")
        if tail and not tail.isdigit():
            raise ScalarError(f'"{clip(text)}" names a stage ({clip(tail)}), which MLflow has deprecated: {_HINT}')
    if "@" in body:
        alias = body.partition("@")[2]
        if re.fullmatch(_ALIAS, alias) is None:
            raise ScalarError(f'invalid alias "{clip(alias)}" in "{clip(text)}": letters, digits, "_" and "-", not '
                              '"latest" or v<number> (names MLflow reserves)')
    name = re.split(r"[/@]", body, maxsplit=1)[0]
    if re.fullmatch(_NAME, name) is None:
        raise ScalarError(f'invalid registered model name "{clip(name)}" in "{clip(text)}": letters, digits, "_", "." '
                          'and "-" (modelops keeps to names that need no quoting)')
    raise ScalarError(f'invalid model registry URI "{clip(text)}": {_HINT}, such as "models:/iris/7"')

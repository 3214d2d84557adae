"""JSON Schema validators over the published schemas, as editors and CI tools read them, and as `validate` does.

The schemas state each scalar with a `pattern` (and no `format` of their own: ajv refuses unknown formats). A few
values need more than a pattern can say (a duration over 10 years, a cron range that goes backwards, a time zone
that does not exist): `Exact` also runs the parser behind each such pattern, as `modelops validate` does, so the
agreement tests compare the models with the schemas exactly. `Editor` is an ordinary 2020-12 validator with
ECMA-262 patterns, what ajv, VS Code and the YAML language server apply.

`corpus()` and `mutations()` are what the agreement tests walk: every document of the example repository, the
schemas' examples, models of every version scheme and registry artifact (VERSIONED), and structured mistakes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError
from modelops.config.loader import load_text
from modelops.config.repo import discover
from modelops.config.scalars import ScalarError, cpu, cron, duration, secretref, semver, size
from modelops.config.scalars.cron import parse_cron
from modelops.config.scalars.duration import parse_duration
from modelops.config.scalars.secretref import parse_secret_ref, parse_template
from modelops.config.scalars.semver import parse_semver
from modelops.config.scalars.size import parse_size
from modelops.config.schemas import EXAMPLES
from modelops.config.spec.types import (
    NAME_PATTERN,
    TIMESTAMP_PATTERN,
    TIMEZONE_PATTERN,
    parse_name,
    parse_timestamp,
    parse_timezone,
)

from tests.support.repo import ROOT

#: The parser behind each pattern whose values it checks further than the pattern can.
PARSERS: dict[str, Callable[[Any], object]] = {
    duration.PATTERN: parse_duration, size.PATTERN: parse_size, cpu.PATTERN: cpu.parse_cpu,
    semver.PATTERN: parse_semver, secretref.PATTERN: parse_secret_ref, secretref.TEMPLATE_PATTERN: parse_template,
    NAME_PATTERN: parse_name, TIMESTAMP_PATTERN: parse_timestamp, TIMEZONE_PATTERN: parse_timezone,
    cron.PATTERN: parse_cron,
}


def ecma(pattern: str) -> re.Pattern[str]:
    """`pattern` as editors evaluate it (ECMA-262, where `$` is the end of the text). Python's `re.search` lets `$`
    match before a final newline, so jsonschema alone would accept "5m\\n" that no editor accepts."""
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _exact_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    yield from _ecma_pattern(validator, pattern, instance, schema)
    parse = PARSERS.get(pattern)
    # numbers too, as a format checker would: a size or CPU quantity may be a number, bounded by its parser
    if parse is not None and (not isinstance(instance, str) or ecma(pattern).search(instance)):
        try:
            parse(instance)
        except ScalarError as exc:
            yield ValidationError(str(exc))


Editor = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})
Exact = validators.extend(Draft202012Validator, {"pattern": _exact_pattern})


# -- a corpus of documents and their mutations ---------------------------------------------------------------------


def _model(name: str, **spec: Any) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLES["Model"])
    doc["metadata"]["name"] = name
    doc["spec"] = {key: value for key, value in {**doc["spec"], **spec}.items() if value is not None}
    return doc


#: Models the example repository does not hold: registry artifacts and every version scheme.
VERSIONED = [
    _model("by-alias", version=None, artifact={"mlflow": {"model": "iris", "alias": "champion"},
                                               "trackingUri": "${env:MLFLOW_TRACKING_URI}",
                                               "auth": {"bearer": "${env:MLFLOW_TOKEN}"}}),
    _model("by-uri", version=7, artifact={"uri": "models:/iris/7", "sha256": "0" * 64}),
    _model("labelled", version="2.1.0", versionScheme="semver", artifact={"uri": "models:/iris@challenger"}),
    _model("calendar", version="2024.06.1", versionScheme="calver"),
    _model("numbered", version="12", versionScheme="integer"),
    _model("labels", version="4f2a9c1", versionScheme="any"),
]


def corpus() -> list[dict[str, Any]]:
    """The schemas' examples, VERSIONED, and every document of the example repository, as the loader reads them."""
    docs = [copy.deepcopy(d) for d in [*EXAMPLES.values(), *VERSIONED]]
    for rel in discover(ROOT):
        docs += [d.data for d in load_text(rel, (ROOT / rel).read_bytes()).documents]
    return docs


def mutations(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Structured mistakes: every key dropped, a typo key added, every scalar's type swapped, nulls."""
    for path, value in list(_walk(doc)):
        if not path:
            continue
        yield _edit(doc, path, _DROP)
        yield _edit(doc, path, None)
        for swapped in _swaps(value):
            yield _edit(doc, path, swapped)
        if isinstance(value, dict):
            yield _edit(doc, path, {**value, "unknownKey": 1})
            yield _edit(doc, path, {})


_DROP = object()


def _swaps(value: Any) -> list[Any]:
    if isinstance(value, bool):
        return ["true", 1]
    if isinstance(value, int | float):
        return [str(value), -value - 1, 1.5, value * 1000, [value]]
    if isinstance(value, str):
        return [1, value + "x", "", "Upper Case", "5 minutes", [value]]
    if isinstance(value, list):
        return [[], value + value, "text"]
    return ["text"]


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _walk(child, (*path, key))


def _edit(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    if value is _DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out

"""Field types shared by the spec models.

Each custom scalar is validated by its parser in `modelops.config.scalars` (so the message is precise) and
publishes a JSON Schema fragment with a `pattern` (so editors check it while typing). The fragments use no
`format` of their own: format-asserting validators (ajv with ajv-formats) refuse a schema with a format they do
not know, and read the standard ones by the standard (`duration` is ISO 8601's `PT5M`, not `5m`). The one
standard format used, `date-time`, means what RFC 3339 says, and the pattern beside it keeps to that.
Validation is strict: YAML `"8000"` is not a port and `yes` is not a boolean.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from modelops.base.diagnostics import clip
from modelops.config.scalars import ScalarError, cpu, cron, duration, image, size
from modelops.config.scalars import secretref as secret
from modelops.config.scalars.cpu import Cpu
from modelops.config.scalars.duration import Duration
from modelops.config.scalars.secretref import SecretRef, Template
from modelops.config.scalars.size import Size

T = TypeVar("T")


class Spec(BaseModel):
    """Base of every spec model: strict, frozen, unknown keys rejected, camelCase in YAML."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        alias_generator=to_camel,
        populate_by_name=True,
        hide_input_in_errors=True,
        field_title_generator=lambda name, _info: name.rstrip("_").replace("_", " ").capitalize(),
        model_title_generator=lambda model: model.__name__,
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any, info: ValidationInfo) -> Any:
        # `key:` with nothing after it is almost always a mistake; refusing null everywhere also keeps the
        # published schemas (which have no null branches) and the models in exact agreement. The loader
        # says when a document has no null at all, which spares this loop for nearly every document.
        if isinstance(data, dict) and (info.context or {}).get("nulls", True):
            for key, value in data.items():
                if value is None:
                    raise PydanticCustomError("null_value", "has no value: give it one or remove the key",
                                              {"key": key})
        return data


def _checked(kind: str, parse: Callable[[Any], T]) -> Callable[[Any], T]:
    """Wrap a scalar parser so its message reaches the user as a typed pydantic error.

    Results are memoised per (type, value): a large repository repeats the same durations, names and sizes
    thousands of times, and the parsed values are immutable.
    """
    memo = functools.lru_cache(maxsize=16384, typed=True)(parse)

    def validate(value: Any) -> T:
        # The parsers strip spaces (friendly for command-line flags); the published schemas' patterns do not,
        # and editors must accept exactly what validate accepts.
        if isinstance(value, str) and value != value.strip():
            raise PydanticCustomError(kind, f'"{clip(value)}" has spaces or line breaks around it: remove them')
        try:
            return memo(value) if isinstance(value, str | int | float) else parse(value)
        except ScalarError as exc:
            raise PydanticCustomError(kind, str(exc)) from None

    return validate


def _scalar(kind: str, parse: Callable[[Any], Any], schema: dict[str, Any]) -> tuple[Any, ...]:
    return (PlainValidator(_checked(kind, parse)), PlainSerializer(str, return_type=str), WithJsonSchema(schema))


DurationField = Annotated[
    Duration,
    *_scalar("duration", duration.parse_duration,
             {"type": "string", "pattern": duration.PATTERN, "examples": ["30s", "5m", "1h30m"]}),
]
SizeField = Annotated[
    Size,
    *_scalar("size", size.parse_size,
             {"type": ["string", "integer"], "pattern": size.PATTERN, "examples": ["512Mi", "16Gi"]}),
]
CpuField = Annotated[
    Cpu,
    *_scalar("cpu", cpu.parse_cpu,
             {"type": ["string", "number"], "pattern": cpu.PATTERN, "examples": ["4", "500m"]}),
]
SecretField = Annotated[
    SecretRef,
    *_scalar("secret", secret.parse_secret_ref,
             {"type": "string", "pattern": secret.PATTERN, "examples": ["${env:SLACK_WEBHOOK_URL}"]}),
]
TemplateField = Annotated[
    Template,
    *_scalar("secret", secret.parse_template,
             {"type": "string", "pattern": secret.TEMPLATE_PATTERN, "examples": ["Bearer ${env:MODEL_TOKEN}"]}),
]


def _cron_text(value: Any) -> str:
    # kept as the text the user wrote: exports hand it on to KEDA as it is
    return cron.parse_cron(value).text


CronField = Annotated[
    str,
    PlainValidator(_checked("cron", _cron_text)),
    WithJsonSchema({"type": "string", "pattern": cron.PATTERN,
                    "examples": ["0 8 * * 1-5", "30 6 * * MON-FRI"]}),
]


def _image(value: Any) -> str:
    try:
        return image.parse_image(value)
    except ScalarError as exc:  # MO112, with a valid reference as the hint
        raise PydanticCustomError("image", str(exc), {"hint": image.HINT}) from None


ImageField = Annotated[
    str,
    PlainValidator(_image),
    WithJsonSchema({"type": "string", "pattern": image.PATTERN,
                    "examples": ["vllm/vllm-openai:v0.6.3", "ghcr.io/acme/sentiment-server:1.4.2"]}),
]

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
LABEL_KEY_PATTERN = r"^([a-z0-9.-]{1,253}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
_NAME = re.compile(NAME_PATTERN)


def parse_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ScalarError(f"expected a name (a string), got {type(value).__name__}")
    if _NAME.match(value):
        return value
    fixed = valid_name(value)
    hint = f' (try "{fixed}")' if fixed else ""
    raise ScalarError(
        f'invalid name "{clip(value)}": use a DNS-1123 label, lowercase letters, digits and "-", '
        f"starting and ending with a letter or digit, at most 63 characters{hint}"
    )


def valid_name(value: str) -> str | None:
    """The DNS-1123 label closest to `value` ("Staging_EU" -> "staging-eu"), or None when nothing is left."""
    fixed = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:63].rstrip("-")
    return fixed if _NAME.match(fixed) else None


# Checked by pydantic's own (Rust) pattern matcher: names are the most frequent field. The schema layer
# turns a mismatch into parse_name's message.
Name = Annotated[
    str,
    StringConstraints(pattern=NAME_PATTERN),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN, "maxLength": 63}),
]



#: RFC 3339's date-time, with its upper-case separators (what `format: date-time` asserts, and what Python reads)
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
_RFC3339 = re.compile(TIMESTAMP_PATTERN.replace("$", r"\Z"))
_LOCAL_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\Z")


def parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ScalarError(f'expected an RFC 3339 timestamp such as "2026-12-20T00:00:00Z", got {type(value).__name__}')
    if _LOCAL_TIME.match(value):
        raise ScalarError(f'timestamp "{clip(value)}" has no time zone: add "Z" for UTC or an offset such as "+01:00"')
    try:
        if not _RFC3339.match(value):  # Python reads more (no seconds, a space): editors and validators do not
            raise ValueError(value)
        return datetime.fromisoformat(value)
    except ValueError:
        raise ScalarError(f'invalid timestamp "{clip(value)}": use RFC 3339, such as "2026-12-20T00:00:00Z"') from None


Timestamp = Annotated[
    datetime,
    *_scalar("timestamp", parse_timestamp, {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}),
]


#: The shape of an IANA time zone name (`UTC`, `Europe/Berlin`, `Etc/GMT+5`); the parser checks it exists.
TIMEZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"
_TIMEZONE = re.compile(TIMEZONE_PATTERN.replace("$", r"\Z"))


def parse_timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise ScalarError(f'expected an IANA time zone such as "Europe/Berlin", got {type(value).__name__}')
    try:
        if not _TIMEZONE.match(value):
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScalarError(f'unknown time zone "{clip(value)}": use an IANA name such as "UTC" or '
                          '"Europe/Berlin"') from None
    return value


TimeZone = Annotated[
    str,
    PlainValidator(_checked("timezone", parse_timezone)),
    WithJsonSchema({"type": "string", "pattern": TIMEZONE_PATTERN, "examples": ["UTC", "Europe/Berlin"]}),
]


def parse_measure(value: Any) -> float | Duration:
    """A threshold: a plain number in the metric's unit, or a duration for time metrics."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return duration.parse_duration(value)
    raise ScalarError(f"expected a number or a duration such as 500ms, got {type(value).__name__}")


def _dump_measure(value: float | Duration) -> float | str:
    return str(value) if isinstance(value, Duration) else value


Measure = Annotated[
    float | Duration,
    PlainValidator(_checked("measure", parse_measure)),
    PlainSerializer(_dump_measure),
    WithJsonSchema({"anyOf": [{"type": "number"},
                              {"type": "string", "pattern": duration.PATTERN}]}),
]


def _integral(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer; accept it the same way so the schema and models agree.
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_integral)]

HTTP_URL_PATTERN = r"^https?://[^\s/$.?#@][^\s@]*$"
URL_TEMPLATE_PATTERN = r"^https?://\S+$"


def described(description: str, **kwargs: Any) -> Any:
    """`Field(...)` with the description every schema property must carry."""
    return Field(description=description, **kwargs)

"""A format checker that knows the project's own formats, as a format-asserting JSON Schema validator would."""

from __future__ import annotations

from jsonschema import FormatChecker
from modelops.config.scalars import ScalarError
from modelops.config.scalars.cpu import parse_cpu
from modelops.config.scalars.cron import parse_cron
from modelops.config.scalars.duration import parse_duration
from modelops.config.scalars.secretref import parse_secret_ref
from modelops.config.scalars.semver import parse_semver
from modelops.config.scalars.size import parse_size
from modelops.config.spec.types import parse_name, parse_timestamp, parse_timezone

FORMATS = FormatChecker(formats=())
for _name, _parse in {"duration": parse_duration, "size": parse_size, "cpu": parse_cpu, "semver": parse_semver,
                      "secret-ref": parse_secret_ref, "dns-label": parse_name, "date-time": parse_timestamp,
                      "timezone": parse_timezone, "cron": parse_cron}.items():
    FORMATS.checks(_name, raises=ScalarError)(_parse)

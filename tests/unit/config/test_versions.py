"""modelops.config.scalars.version and .registry: versions read in their scheme, ordered by it, and MLflow's
`models:/` references with a message for every form that pins nothing."""

from __future__ import annotations

import pytest
from modelops.config.scalars import ScalarError
from modelops.config.scalars.registry import ModelRef, parse_models_uri
from modelops.config.scalars.version import Scheme, parse_version, precedes


@pytest.mark.parametrize(("scheme", "older", "newer"), [
    ("semver", "1.4.2", "1.10.0"), ("semver", "2.0.0-rc.1", "2.0.0"),
    ("integer", "9", "10"), ("integer", "3", "17"),
    ("calver", "2024.06.1", "2024.10.0"), ("calver", "24.04", "24.10"), ("calver", "2024.12.31", "2025.1.1"),
])
def test_each_scheme_orders_its_versions(scheme: Scheme, older: str, newer: str) -> None:
    assert precedes(older, newer, scheme) is True
    assert precedes(newer, older, scheme) is False


def test_versions_that_cannot_be_ordered_are_not_ordered() -> None:
    assert precedes("4f2a9c1", "0b77e2d", "any") is None  # labels: no order
    assert precedes("1.4.2", "7", "integer") is None  # one recorded under another scheme
    assert precedes("9", "10", "semver") is None  # registry numbers read as semver: not versions at all


@pytest.mark.parametrize(("value", "scheme", "text"), [
    ("1.4.2", "semver", "1.4.2"), (7, "integer", "7"), ("7", "integer", "7"), ("2024.06.1", "calver", "2024.06.1"),
    ("4f2a9c1", "any", "4f2a9c1"), (3, "any", "3"),
])
def test_a_valid_version_keeps_its_text(value: object, scheme: Scheme, text: str) -> None:
    assert str(parse_version(value, scheme)) == text


@pytest.mark.parametrize(("value", "scheme", "message"), [
    ("3", "semver", 'invalid semantic version "3": expected MAJOR.MINOR.PATCH (three numbers), such as "1.4.2"; '
                    "for a model registry's version numbers set versionScheme: integer"),
    ("1.4.2", "integer", 'invalid version "1.4.2" for versionScheme integer: expected a whole number such as 3, as a '
                         "model registry numbers its versions"),
    ("07", "integer", 'invalid version "07" for versionScheme integer'),
    ("1" * 16, "integer", "for versionScheme integer"),  # past the 15 digits JSON numbers hold exactly
    ("2024", "calver", 'invalid version "2024" for versionScheme calver: expected a year and one to three numbers'),
    ("v2024.06", "calver", "for versionScheme calver"),
    ("has space", "any", 'invalid version "has space": expected letters, digits'),
    (-1, "integer", "got the negative number -1"),
    (True, "integer", "got true or false"),
])
def test_an_invalid_version_says_what_its_scheme_expects(value: object, scheme: Scheme, message: str) -> None:
    with pytest.raises(ScalarError) as raised:
        parse_version(value, scheme)
    assert message in str(raised.value)


@pytest.mark.parametrize(("text", "ref"), [
    ("models:/iris/7", ModelRef("iris", version=7)),
    ("models:/iris@champion", ModelRef("iris", alias="champion")),
    ("models:/main.ml.fraud_v2@challenger-1", ModelRef("main.ml.fraud_v2", alias="challenger-1")),
])
def test_a_models_uri_names_a_registered_model_and_a_version_or_alias(text: str, ref: ModelRef) -> None:
    assert parse_models_uri(text) == ref
    assert str(ref) == text


@pytest.mark.parametrize(("text", "message"), [
    ("models:/iris/latest", "follows whatever version was registered last"),
    ("models:/iris/Production", "names a stage (Production), which MLflow has deprecated"),
    ("models:/m-0123456789abcdef", "is a logged model, not a registered one"),
    ("models:/iris@latest", 'invalid alias "latest"'),
    ("models:/iris@v3", 'invalid alias "v3"'),
    ("models:/my model/3", 'invalid registered model name "my model"'),
    ("models:/iris/0", 'invalid model registry URI "models:/iris/0"'),
    ("models:/iris", 'invalid model registry URI "models:/iris"'),
])
def test_a_models_uri_that_pins_nothing_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ScalarError) as raised:
        parse_models_uri(text)
    assert message in str(raised.value)

"""Registry artifacts and version schemes as `validate` reads them, each on an edit of the example repository: what
is accepted, every refusal with its code, location and message, and MO230 (a digest pinned beside an alias)."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.validate.repo import validate_repo

from tests.support.repo import edit
from tests.unit.validate.test_schema import Located, errors, located
from tests.unit.validate.test_semantic import FRAUD

PINNED = ('    uri: "s3://models/fraud-detector/3.2.0/model.onnx"\n'
          '    sha256: "4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"\n')


def artifact(repo: Path, lines: str, version: str | None = "3.2.0") -> None:
    """The fraud detector with other artifact lines (and version line, None: none)."""
    edit(repo, FRAUD, PINNED, lines)
    edit(repo, FRAUD, "  version: 3.2.0\n", f"  version: {version}\n" if version is not None else "")


def warnings(repo: Path) -> list[Located]:
    return [located(d) for d in validate_repo(repo).diagnostics if d.severity.value == "warning"]


@pytest.mark.parametrize(("lines", "version"), [
    ("    mlflow: {model: fraud, alias: champion}\n", None),  # the version is the registry's
    ("    mlflow: {model: fraud, version: 7}\n", None),
    ('    uri: "models:/fraud@champion"\n    trackingUri: "https://mlflow.example.com"\n', None),
    ('    uri: "models:/fraud/7"\n    auth: {bearer: "${env:MLFLOW_TOKEN}"}\n', "7"),  # a number, as the registry's
    ("    mlflow: {model: fraud, version: 7}\n", "3"),  # versionScheme integer by default for a registry artifact
    ('    mlflow: {model: fraud, alias: champion}\n    trackingUri: "${env:FRAUD_MLFLOW}"\n', '"7"'),
])
def test_registry_artifacts_are_valid(repo: Path, lines: str, version: str | None) -> None:
    artifact(repo, lines, version)
    assert errors(repo) == []


@pytest.mark.parametrize(("lines", "version", "expected"), [
    ("    mlflow: {model: fraud, alias: champion}\n", "3.2.0",  # a registry model's versions are numbers
     ("MO108", 8, "/spec/version", 'invalid version "3.2.0" for versionScheme integer: expected a whole number such '
                                   "as 3, as a model registry numbers its versions")),
    (PINNED, None, ("MO102", 8, "/spec", 'missing required field "version"')),
    ('    uri: "runs:/0a1b2c/model"\n', None,
     ("MO105", 9, "/spec/artifact/uri", 'a runs:/ URI names files of one run, which the registry gives no version: '
                                        'register the model and address it as "models:/<name>/<version>" or '
                                        '"models:/<name>@<alias>"')),
    ('    uri: "models:/fraud/latest"\n', None,
     ("MO105", 9, "/spec/artifact/uri", '"models:/fraud/latest" follows whatever version was registered last; address '
                                        'a registered model as "models:/<name>/<version>" or "models:/<name>@<alias>" '
                                        "(an alias moves only when someone moves it)")),
    ("    mlflow: {model: fraud, alias: champion, version: 3}\n", None,
     ("MO105", 9, "/spec/artifact/mlflow", "mlflow: set exactly one of alias, version (found: both)")),
    ("    mlflow: {model: fraud, alias: latest}\n", None,
     ("MO105", 9, "/spec/artifact/mlflow/alias", 'expected an alias: letters, digits, "_" and "-", not "latest" or '
                                                 "v<number> (names MLflow reserves)")),
    (PINNED + '    trackingUri: "https://mlflow.example.com"\n', "3.2.0",
     ("MO105", 10, "/spec/artifact", "artifact: trackingUri and auth belong to a model registry artifact (mlflow, or "
                                    "a models:/ uri)")),
])
def test_registry_artifact_mistakes_are_located(repo: Path, lines: str, version: str | None,
                                                expected: tuple[str, int, str, str]) -> None:
    artifact(repo, lines, version)
    code, line, where, message = expected
    assert errors(repo) == [(code, FRAUD, line, where, message)]


@pytest.mark.parametrize(("scheme", "version"), [("integer", "12"), ("integer", '"12"'), ("calver", '"2024.06.1"'),
                                                  ("any", "4f2a9c1"), ("semver", "3.2.0")])
def test_a_version_scheme_accepts_its_versions(repo: Path, scheme: str, version: str) -> None:
    edit(repo, FRAUD, "  version: 3.2.0\n", f"  version: {version}\n  versionScheme: {scheme}\n")
    assert errors(repo) == []


def test_a_registry_number_in_a_semver_model_says_how_to_declare_it(repo: Path) -> None:
    edit(repo, FRAUD, "  version: 3.2.0\n", '  version: "3"\n')
    assert errors(repo) == [("MO108", FRAUD, 8, "/spec/version", 'invalid semantic version "3": expected '
                             'MAJOR.MINOR.PATCH (three numbers), such as "1.4.2"; for a model registry\'s version '
                             "numbers set versionScheme: integer")]


def test_an_unknown_version_scheme_names_the_schemes(repo: Path) -> None:
    edit(repo, FRAUD, "  version: 3.2.0\n", "  version: 3.2.0\n  versionScheme: semantic\n")
    assert errors(repo) == [("MO105", FRAUD, 9, "/spec/versionScheme", 'invalid value "semantic"')]
    (hint,) = [d.hint for d in validate_repo(repo).diagnostics if d.code == "MO105"]
    assert hint == "one of: semver, integer, calver, any"


def test_a_digest_beside_an_alias_is_mo230(repo: Path) -> None:
    artifact(repo, '    mlflow: {model: fraud, alias: champion}\n    sha256: "' + "a" * 64 + '"\n', None)
    assert errors(repo) == []
    assert warnings(repo) == [("MO230", FRAUD, 10, "/spec/artifact/sha256",
                               "artifact.sha256 pins one version's files, beside the alias champion, which moves: "
                               "once it does, plan fails (MO144) until the digest is edited")]


def test_a_digest_beside_a_version_is_no_warning(repo: Path) -> None:
    artifact(repo, '    mlflow: {model: fraud, version: 7}\n    sha256: "' + "a" * 64 + '"\n', None)
    assert [w for w in warnings(repo) if w[0] == "MO230"] == []

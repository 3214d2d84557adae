"""The bugs the fuzzers and canaries found, each pinned by a plain example (a fuzz run that changes its
strategies draws other examples; these stay)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from modelops.base.layout import cache_path
from modelops.config.cache import ConfigCache, repo_digest
from modelops.config.repo import load_repo
from modelops.config.schemas import schema_for

from tests.support.repo import Result, write
from tests.support.security import TERMINAL_CONTROLS

POLICY = "policies/alerts/bad.yaml"


def test_a_control_character_in_a_file_is_a_located_syntax_error(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, POLICY, b"apiVersion: modelops.dev/v1\nkind: \x1b[31mAlertPolicy\x7f\n")
    done = cli("--repo", repo, "validate")
    assert done.code == 1, done.output  # was 70: ruamel's ReaderError is not a MarkedYAMLError
    assert f"{POLICY}:2:7: error[MO001] syntax error: U+001B is not allowed in YAML" in done.out
    assert "kind: \u241b[31mAlertPolicy\u2421" in done.out  # the snippet shows the characters, harmlessly
    assert not TERMINAL_CONTROLS.search(done.output)


def test_a_value_cannot_fake_a_second_diagnostic_line(repo: Path, cli: Callable[..., Result]) -> None:
    write(repo, POLICY, 'apiVersion: "x\\npolicies/alerts/y.yaml:1:1: error[MO999] forged"\nkind: AlertPolicy\n')
    done = cli("--repo", repo, "validate")
    assert done.code == 1
    assert [line for line in done.out.splitlines() if line.startswith("policies/")] == [
        f'{POLICY}:1:13: error[MO100] apiVersion: unknown apiVersion "x\u240apolicies/alerts/y.yaml:1:1: '
        'error[MO999] forged"; this engine reads modelops.dev/v1']


@pytest.mark.parametrize("kind", ["[Model]", "{a: 1}"])
def test_a_kind_that_is_not_a_string_is_a_type_error(repo: Path, cli: Callable[..., Result], kind: str) -> None:
    write(repo, POLICY, f"apiVersion: modelops.dev/v1\nkind: {kind}\nmetadata: {{name: x}}\n")
    done = cli("--repo", repo, "validate")
    assert done.code == 1, done.output  # was 70: TypeError, unhashable type
    assert f"{POLICY}:2:7: error[MO104] kind: expected a string" in done.out


@pytest.mark.parametrize("value", ['"abc"', '"150%"', "-1", "true", "[1]"])
def test_rolling_counts_are_counts_or_percentages(repo: Path, cli: Callable[..., Result], value: str) -> None:
    rel = "environments/staging/models/recommender.yaml"
    path = repo / rel
    path.write_text(path.read_text().replace("maxSurge: 1", f"maxSurge: {value}"))
    done = cli("--repo", repo, "validate")
    assert done.code == 1 and "error[MO105] spec.strategy.rolling.maxSurge: expected a replica count" in done.out
    assert cli("--repo", repo, "plan").code == 1  # was an internal error: int("abc") while expanding the steps


def test_schemas_check_every_key_of_a_constrained_dictionary() -> None:
    validator = Draft202012Validator(schema_for("EscalationPolicy"))
    base = {"apiVersion": "modelops.dev/v1", "kind": "EscalationPolicy", "metadata": {"name": "x"},
            "spec": {"channels": {"ok": {"type": "slack", "webhookUrl": "${env:X}"}},
                     "routes": [{"channels": ["ok"]}]}}
    assert validator.is_valid(base)
    bad_channel = json.loads(json.dumps(base))
    bad_channel["spec"]["channels"]["Bad Name"] = {"anything": 1}
    bad_match = json.loads(json.dumps(base))
    bad_match["spec"]["routes"][0]["match"] = {"": None}
    assert not validator.is_valid(bad_channel) and not validator.is_valid(bad_match)  # both were accepted


@pytest.mark.parametrize("value", [" 500ms", "500ms ", "500ms\n", "\t500ms"])
def test_spaces_around_a_scalar_are_refused_as_the_schema_refuses_them(repo: Path, cli: Callable[..., Result],
                                                                       value: str) -> None:
    path = repo / "policies/alerts/model-slo.yaml"
    path.write_text(path.read_text().replace("warning: 500ms", f"warning: {json.dumps(value)}", 1))
    done = cli("--repo", repo, "validate")
    assert done.code == 1 and "has spaces or line breaks around it" in done.out


def test_a_parse_cache_that_arrives_with_the_repository_is_not_trusted(repo: Path,
                                                                      cli: Callable[..., Result]) -> None:
    """A pull request can commit .modelops/cache (git add -f). It was loaded as is: a forged "valid" outcome
    passed an invalid configuration (and its error guardrails) through `validate`."""
    path = repo / "environments/production/models/sentiment.yaml"
    path.write_text(path.read_text().replace("scaling: gpu-standard", "scaling: gpu-standrad"))
    forged = ConfigCache.open(repo)
    forged.remember(repo_digest(load_repo(repo, cache=forged).digests), [], {"Model": 9})
    forged.save()
    checkout = cache_path(repo).with_name("checked-out")  # a new file with the same bytes, as git writes it
    shutil.copyfile(cache_path(repo), checkout)
    checkout.replace(cache_path(repo))
    done = cli("--repo", repo, "validate")
    assert done.code == 1 and 'unknown ScalingPolicy "gpu-standrad"' in done.out


def test_the_cache_this_machine_wrote_is_still_used(repo: Path, cli: Callable[..., Result]) -> None:
    assert cli("--repo", repo, "validate").code == 0
    written = cache_path(repo).read_bytes()
    assert written.startswith(b"modelops cache ")
    assert ConfigCache.open(repo).result is not None  # recalled: the identity matches

"""The JSON contract (docs/json-output.md): every command that offers `--format json` has a published schema in
schemas/output/, and its real output on the example repository, in the states that exercise most of it (a fresh
plan, applied environments, a rolled-back version, drift, a dry-run monitor), validates against that schema and
starts with the integer `format_version`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from jsonschema import Draft202012Validator
from modelops.cli.main import COMMANDS, cli
from modelops.cli.views.jsonout import FORMAT_VERSION

from tests.support.repo import ROOT, Result, bump

SCHEMAS = ROOT / "schemas" / "output"
BASE = "https://modelops.dev/schemas/output/"


def json_commands() -> list[str]:
    """Every command (and subcommand) whose `--format` offers json, as the schema file names it."""
    found = []
    with click.Context(cli) as ctx:
        for name in COMMANDS:
            command = cli.get_command(ctx, name)
            subcommands = command.commands if isinstance(command, click.Group) else {"": command}
            for sub, leaf in subcommands.items():
                fmt = next((p for p in leaf.params if p.name == "fmt"), None)
                if fmt is not None and "json" in getattr(fmt.type, "choices", ()):
                    found.append(f"{name}-{sub}" if sub else name)
    return sorted(found)


def validator(command: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{command}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"{BASE}{command}.schema.json"
    return Draft202012Validator(schema)


def problems(command: str, document: Any) -> list[str]:
    found = validator(command).iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300] for e in found]


def test_every_json_command_has_a_schema_and_every_schema_a_command() -> None:
    commands = json_commands()
    assert {"validate", "plan", "status", "history", "assess", "capacity", "monitor", "local-status", "incident-list",
            "incident-show", "maintenance"} <= set(commands)
    assert sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")) == commands


@pytest.fixture
def runs(served_repo: Path, cli: Callable[..., Result]) -> Iterator[Callable[..., dict[str, Any]]]:
    def run(*args: str) -> dict[str, Any]:
        result = cli("--repo", served_repo, *args, "--format", "json")
        assert result.code in (0, 1, 2), result.output
        document: dict[str, Any] = json.loads(result.out)
        return document

    yield run


def test_the_real_output_of_every_command_follows_its_schema(served_repo: Path, cli: Callable[..., Result],
                                                             runs: Callable[..., dict[str, Any]]) -> None:
    documents: list[tuple[str, dict[str, Any]]] = [("validate", runs("validate")), ("plan", runs("plan"))]
    assert cli("--repo", served_repo, "apply", "--auto-approve").code == 0
    bump(served_repo, "environments/staging/models/recommender.yaml", "2.7.1", "2.8.0-broken.1")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 1  # rolled back
    live = served_repo / ".modelops/live/production.json"
    table = json.loads(live.read_text())
    table["models"]["sentiment"]["traffic"] = {"blue": 60}  # changed outside modelops
    live.write_text(json.dumps(table))
    bump(served_repo, "environments/production/models/fraud-detector.yaml", "3.2.0", "3.3.0")
    documents += [
        ("plan", runs("plan")), ("status", runs("status")),
        ("history", runs("history", "recommender", "--env", "staging")),
        ("assess", runs("assess")), ("capacity", runs("capacity", "--env", "production")),
        ("monitor", runs("monitor", "--env", "production", "--dry-run")), ("local-status", runs("local", "status")),
        ("validate", runs("validate", "environments/staging/models/nothing-here.yaml")),
        ("maintenance", runs("maintenance")), ("incident-list", runs("incident", "list")),
    ]
    opened = documents[-1][1]["environments"][0]["incidents"]  # the rollback opened one (issue 21)
    documents.append(("incident-show", runs("incident", "show", opened[0]["id"])))
    covered = {command for command, _ in documents}
    assert covered == set(json_commands())
    for command, document in documents:
        assert next(iter(document)) == "format_version" and document["format_version"] == FORMAT_VERSION, command
        assert problems(command, document) == [], command
    # what the schemas had to hold: actions with steps, drift, a rejected version
    plan, status = documents[2][1], documents[3][1]
    assert plan["environments"][1]["drift"] and any(a["steps"] for e in plan["environments"] for a in e["actions"])
    [recommender] = [m for m in status["environments"][0]["models"] if m["name"] == "recommender"]
    assert recommender["state"]["desired_rejected"]["version"] == "2.8.0-broken.1"


@pytest.mark.parametrize(("command", "broken"), [
    ("validate", {"format_version": "1.0", "valid": True, "error_count": 0, "warning_count": 0, "files": 0,
                  "documents": {}, "diagnostics": []}),
    ("validate", {"format_version": 1, "valid": True, "error_count": 0, "warning_count": 0, "files": 0,
                  "documents": {}, "diagnostics": [{"severity": "fatal", "code": "MO1", "message": "x"}]}),
    ("local-status", {"format_version": 1, "environments": [{"environment": "dev"}]}),
    ("history", {"format_version": 1, "model": "m", "history": [{"id": 0}], "switches": []}),
])
def test_the_schemas_refuse_what_the_contract_does_not_allow(command: str, broken: dict[str, Any]) -> None:
    assert problems(command, broken)

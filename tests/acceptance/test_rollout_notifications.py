"""Rollout notifications end to end: an apply that rolls back tells the channels subscribed to it, through real
loopback receivers (a webhook and Slack on an HTTP server, e-mail on an SMTP server with STARTTLS), and a channel
that cannot be told is a warning that leaves the apply's outcome alone."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.support.ops import CERT_DIR, Mailbox, route_to_loopback, smtp_server
from tests.support.repo import Result, bump, edit

RECOMMENDER = "environments/staging/models/recommender.yaml"
SECRETS = {"INCIDENT_WEBHOOK_URL": "/incidents/in-t0ken-ABC", "GROWTH_SLACK_WEBHOOK_URL": "/services/T0/B0/gr0wth-XYZ",
           "SMTP_USER": "smtp-user-q9", "SMTP_PASSWORD": "smtp-pa55word-Z7"}
SUBSCRIBED = """\
  notifications:
    - channel: ml-oncall/incidents
      events: [rolledBack, failed]
    - {channel: ml-oncall/mail, events: [rolledBack]}
"""


@pytest.fixture
def receivers(served_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HTTPServer, Mailbox]]:
    receiver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    receiver.start()
    for path in (SECRETS["INCIDENT_WEBHOOK_URL"], SECRETS["GROWTH_SLACK_WEBHOOK_URL"]):
        receiver.expect_request(path, method="POST").respond_with_data("ok")
    with smtp_server(SECRETS["SMTP_USER"], SECRETS["SMTP_PASSWORD"]) as (port, box):
        route_to_loopback(served_repo / "policies/escalation/ml-oncall.yaml", port, receiver.url_for("/v2/enqueue"))
        for name, value in SECRETS.items():
            monkeypatch.setenv(name, receiver.url_for(value) if value.startswith("/") else value)
        monkeypatch.setenv("SSL_CERT_FILE", str(CERT_DIR / "localhost.crt"))  # trust the test SMTP server
        try:
            yield receiver, box
        finally:
            receiver.clear()
            receiver.stop()


def subscribe(repo: Path) -> None:
    environment = repo / "environments/staging/environment.yaml"
    environment.write_text(environment.read_text() + SUBSCRIBED)
    model = repo / RECOMMENDER
    model.write_text(model.read_text() + "  notifications: [{channel: slack-growth, events: [rolledBack]}]\n")


def posted(receiver: HTTPServer, path: str) -> list[dict]:  # type: ignore[type-arg]
    return [request.get_json() for request, _ in receiver.log if request.path == path]


def test_an_apply_that_rolls_back_tells_every_subscribed_channel(served_repo: Path, cli: Callable[..., Result],
                                                                 receivers: tuple[HTTPServer, Mailbox]) -> None:
    receiver, box = receivers
    subscribe(served_repo)
    first = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert first.code == 0, first.output
    assert not receiver.log and not box.messages  # five deploys: nobody subscribed to `applied`
    bump(served_repo, RECOMMENDER, "2.7.1", "2.8.0-broken.1")

    result = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")

    assert result.code == 1, result.output  # rolled back: the apply failed, notified or not
    assert "staging: told ml-oncall/incidents (webhook) that recommender rolledBack: HTTP 200: ok (1 attempt)" in (
        result.out)
    assert "staging: told growth-oncall/slack-growth (slack) that recommender rolledBack: HTTP 200: ok (1 attempt)" in (
        result.out)
    assert "staging: told ml-oncall/mail (email) that recommender rolledBack" in result.out
    assert result.out.index("told ml-oncall/incidents") < result.out.index("Apply failed!")
    [hook] = posted(receiver, SECRETS["INCIDENT_WEBHOOK_URL"])
    assert hook["version"] == "4" and hook["status"] == "firing" and hook["receiver"] == "incidents"
    [alert] = hook["alerts"]
    assert alert["labels"] == {"alertname": "ModelopsRollout", "env": "staging", "model": "recommender",
                               "rule": "rolledBack", "severity": "critical"}
    assert alert["annotations"]["summary"] == "staging: recommender 2.8.0-broken.1 rolled back to 2.7.1"
    assert "test ping failed" in alert["annotations"]["description"]
    state = json.loads((served_repo / "environments/staging/state.json").read_text())
    assert f'apply="{state["applied_plan"]}"' in hook["groupKey"]  # one key per apply, model and event
    [slack] = posted(receiver, SECRETS["GROWTH_SLACK_WEBHOOK_URL"])
    assert slack["text"] == "[ROLLED BACK] staging: recommender 2.8.0-broken.1 rolled back to 2.7.1"
    [raw] = box.messages
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    # (headers longer than a line are folded before their value, which Python's parser keeps as a space)
    assert mail["Subject"].strip() == "[ROLLED BACK] staging: recommender 2.8.0-broken.1 rolled back to 2.7.1"
    assert mail["X-Modelops-Dedup-Key"].strip() == hashlib.sha256(hook["groupKey"].encode()).hexdigest()
    assert box.tls == [True]
    for value in SECRETS.values():
        assert value not in result.output


def test_a_channel_that_cannot_be_told_is_a_warning_and_the_apply_stands(served_repo: Path,
                                                                         cli: Callable[..., Result],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    edit(served_repo, "environments/staging/environment.yaml", "  approval: none\n",
         "  approval: none\n  notifications: [{channel: ml-oncall/slack-ml, events: [applied]}]\n")
    result = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert result.code == 0, result.output
    # every change of the first apply: five models deployed, six policies recorded
    assert result.out.count("warning: staging: could not tell ml-oncall/slack-ml (slack) that") == 5 + 6
    assert ("could not tell ml-oncall/slack-ml (slack) that recommender applied: not sent: environment variable "
            "SLACK_WEBHOOK_URL is not set") in result.out
    assert "Apply complete!" in result.out


def test_drift_is_told_by_a_plan_asked_to_and_by_apply_under_one_key(served_repo: Path, cli: Callable[..., Result],
                                                                    receivers: tuple[HTTPServer, Mailbox]) -> None:
    receiver, _ = receivers
    edit(served_repo, "environments/staging/environment.yaml", "  approval: none\n",
         "  approval: none\n  notifications: [{channel: ml-oncall/incidents, events: [driftDetected]}]\n")
    assert cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging").code == 0
    live = served_repo / ".modelops/live/staging.json"
    table = json.loads(live.read_text())
    table["models"]["sentiment"]["traffic"] = {"blue": 60}  # moved by hand
    live.write_text(json.dumps(table))
    hook = SECRETS["INCIDENT_WEBHOOK_URL"]

    quiet = cli("--repo", served_repo, "plan", "--env", "staging")
    assert quiet.code == 0 and posted(receiver, hook) == []  # a plan is a preview: it tells nobody unless asked
    checked = cli("--repo", served_repo, "plan", "--env", "staging", "--notify", "--format", "json")
    assert checked.code == 0 and json.loads(checked.out)["change_summary"]["drifted"] == 1  # stdout stays JSON
    assert "staging: told ml-oncall/incidents (webhook) that sentiment driftDetected: HTTP 200" in checked.err
    applied = cli("--repo", served_repo, "apply", "--auto-approve", "--env", "staging")
    assert "told ml-oncall/incidents (webhook) that sentiment driftDetected" in applied.out, applied.output
    first, second = posted(receiver, hook)
    assert first["alerts"][0]["labels"]["rule"] == "driftDetected"
    assert first["alerts"][0]["annotations"]["description"] == "traffic.blue: 100% -> 60%"
    assert first["groupKey"] == second["groupKey"]  # the same drift, the same incident

"""alertmanager.yml from EscalationPolicies, and the route tests that check it against the policies."""

from __future__ import annotations

from pathlib import Path

import pytest
from modelops.config.spec.policies import QuietHours
from modelops.export import alertmanager

from tests.support.export import AUTH_SECRETS, authenticated, load_env, yaml_docs

SECRETS = {"SLACK_WEBHOOK_URL": "https://hooks.slack.example/T000/B000/very-secret",
           "PAGERDUTY_ROUTING_KEY": "pd-secret-routing-key-0123456789ab", "SMTP_USER": "smtp-user-secret",
           "SMTP_PASSWORD": "smtp-password-secret", "INCIDENT_WEBHOOK_URL": "https://incidents.example/hook?token=s3",
           "GROWTH_SLACK_WEBHOOK_URL": "https://hooks.slack.example/growth-secret",
           "GROWTH_PAGERDUTY_ROUTING_KEY": "growth-pd-secret"}


def _config(repo: Path) -> dict:
    return yaml_docs(alertmanager.export(load_env(repo))[0].text)[0]


def test_root_route_policy_routes_and_grouping(repo: Path) -> None:
    config = _config(repo)
    root = config["route"]
    assert root["receiver"] == "modelops-unrouted" and "matchers" not in root and "continue" not in root
    growth, ml = root["routes"]
    assert ml["matchers"] == ['modelops_env="production"', 'modelops_escalation="ml-oncall"']
    assert ml["group_by"] == ["modelops_model", "modelops_rule"]  # grouping.by [model, rule] = the dedup key
    assert (ml["group_wait"], ml["group_interval"], ml["repeat_interval"]) == ("30s", "5m", "4h")
    assert growth["group_by"] == ["modelops_model", "modelops_rule", "modelops_env"]
    assert (growth["group_wait"], growth["group_interval"], growth["repeat_interval"]) == ("1m", "10m", "12h")


def test_child_routes_per_policy_route_and_severity_fan_out_to_channels(repo: Path) -> None:
    ml = _config(repo)["route"]["routes"][1]
    escalation, critical, gold, warning = ml["routes"]
    assert escalation["matchers"] == ['alertname="ModelopsEscalation"', 'modelops_escalation_step="1"']
    assert [leaf["receiver"] for leaf in escalation["routes"]] == ["ml-oncall/pager", "ml-oncall/incidents"]
    assert critical["matchers"] == ['severity="critical"'] and "continue" not in critical
    assert critical["routes"] == [{"receiver": "ml-oncall/pager", "continue": True},
                                  {"receiver": "ml-oncall/slack-ml", "continue": True},
                                  {"receiver": "ml-oncall/incidents"}]
    assert gold["matchers"] == ['tier="gold"', 'severity="warning"']
    assert all(leaf["mute_time_intervals"] == ["ml-oncall-quiet-1"] for leaf in gold["routes"] + warning["routes"])
    # a route without a severity is split per severity, so quiet hours can mute one and not the other; its
    # critical half is never reached (route 1 takes every critical alert and does not continue): left out
    growth = _config(repo)["route"]["routes"][0]
    assert [r["matchers"] for r in growth["routes"]] == [['severity="critical"'], ['severity="warning"']]
    assert "mute_time_intervals" not in growth["routes"][0]["routes"][0]
    assert growth["routes"][1]["routes"][0]["mute_time_intervals"] == ["growth-oncall-quiet-1"]


def test_unreachable_child_routes_are_left_out_and_said_so(repo: Path) -> None:
    path = repo / "policies/escalation/ml-oncall.yaml"
    path.write_text(path.read_text().replace(
        "    - match: {severity: warning, tier: gold}\n",
        "    - match: {severity: warning}\n      channels: [mail]\n      continue: true\n"
        "    - match: {severity: warning, tier: gold}\n      channels: [mail]\n"
        "    - match: {env: staging}\n      channels: [mail]\n"
        "    - match: {severity: warning, tier: gold}\n"))
    env = load_env(repo)
    emitted, notes = alertmanager.children("production", "ml-oncall", env.policies["EscalationPolicy/ml-oncall"].spec)
    # a route that continues shadows nothing; one that does not shadows every later route it contains
    assert [c.why for c in emitted] == ["escalation step 1", "route 1 (critical)", "route 2 (warning)",
                                        "route 3 (warning)", "route 6 (warning)"]
    assert notes == [
        "policy ml-oncall, route 4 (warning): not emitted, unreachable: it matches modelops_env=\"staging\", "
        "and this file is for modelops_env=\"production\"",
        "policy ml-oncall, route 4 (critical): not emitted, unreachable: it matches modelops_env=\"staging\", "
        "and this file is for modelops_env=\"production\"",
        "policy ml-oncall, route 5 (warning): not emitted, unreachable: route 3 (warning) (tier=\"gold\", "
        "severity=\"warning\") comes first, matches every such alert and does not continue"]
    config = alertmanager.export(env)[0]
    assert "4 unreachable routes left out" in config.summary  # and growth-oncall's route 2 (critical)
    assert all(f"# note: {n}\n" in config.text.split("route:")[0] for n in notes)


def test_matchers_use_the_classic_form_with_escaping() -> None:
    assert alertmanager.matcher("team", 'a"b\\c') == 'team="a\\"b\\\\c"'
    assert alertmanager.matcher("alertname", "X", "!=") == 'alertname!="X"'


def test_receivers_use_files_or_placeholders_and_never_secret_values(repo: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    files = alertmanager.export(load_env(repo), "/run/secrets")
    for f in files:
        for value in SECRETS.values():
            assert value not in f.text
    receivers = {r["name"]: r for r in yaml_docs(files[0].text)[0]["receivers"]}
    assert receivers["modelops-unrouted"] == {"name": "modelops-unrouted"}
    assert receivers["ml-oncall/slack-ml"]["slack_configs"] == [
        {"api_url_file": "/run/secrets/SLACK_WEBHOOK_URL", "send_resolved": True, "channel": "#ml-alerts"}]
    assert receivers["ml-oncall/pager"]["pagerduty_configs"] == [
        {"routing_key_file": "/run/secrets/PAGERDUTY_ROUTING_KEY", "severity": "{{ .CommonLabels.severity }}",
         "send_resolved": True}]
    assert receivers["ml-oncall/mail"]["email_configs"] == [
        {"to": "ml-oncall@example.com", "from": "modelops@example.com", "smarthost": "smtp.example.com:587",
         "require_tls": True, "send_resolved": True, "auth_username": "modelops-secret:SMTP_USER",
         "auth_password_file": "/run/secrets/SMTP_PASSWORD"}]
    assert receivers["ml-oncall/incidents"]["webhook_configs"] == [
        {"url": "https://modelops-secret.invalid/INCIDENT_WEBHOOK_URL", "max_alerts": 0, "send_resolved": True}]
    head = files[0].text.split("route:")[0]
    assert "/run/secrets/SMTP_PASSWORD" in head and "modelops-secret:SMTP_USER" in head


def test_critical_inhibits_warning_of_the_same_model_and_rule(repo: Path) -> None:
    (rule,) = _config(repo)["inhibit_rules"]
    assert rule == {"source_matchers": ['severity="critical"', 'alertname!="ModelopsEscalation"',
                                        'modelops_env="production"'],
                    "target_matchers": ['severity="warning"', 'modelops_env="production"'],
                    "equal": ["modelops_env", "modelops_model", "modelops_rule"]}


def test_time_intervals_from_quiet_hours(repo: Path) -> None:
    intervals = {t["name"]: t["time_intervals"] for t in _config(repo)["time_intervals"]}
    assert intervals["ml-oncall-quiet-1"] == [{"weekdays": ["saturday", "sunday"], "location": "UTC"}]
    assert intervals["growth-oncall-quiet-1"] == [
        {"times": [{"start_time": "20:00", "end_time": "24:00"}], "location": "Europe/Berlin"},
        {"times": [{"start_time": "00:00", "end_time": "08:00"}], "location": "Europe/Berlin"}]


def test_a_window_past_midnight_on_named_days_continues_the_next_day() -> None:
    quiet = QuietHours.model_validate({"weekdays": ["friday", "sunday"], "start": "22:00", "end": "06:30"})
    assert alertmanager.time_interval(quiet) == [
        {"times": [{"start_time": "22:00", "end_time": "24:00"}], "weekdays": ["friday", "sunday"], "location": "UTC"},
        {"times": [{"start_time": "00:00", "end_time": "06:30"}], "weekdays": ["saturday", "monday"],
         "location": "UTC"}]


def test_route_tests_come_from_the_policy_and_cover_every_route(repo: Path) -> None:
    env = load_env(repo)
    tests = alertmanager.route_tests(env)
    by_why = {t.why: t for t in tests}
    assert by_why["sentiment critical alert, policy ml-oncall"].receivers == [
        "ml-oncall/pager", "ml-oncall/slack-ml", "ml-oncall/incidents"]
    assert by_why["sentiment warning alert, policy ml-oncall"].receivers == ["ml-oncall/slack-ml", "ml-oncall/mail"]
    assert by_why["embedder warning alert, policy ml-oncall"].receivers == ["ml-oncall/slack-ml"]  # silver
    assert by_why["escalation step 1 of policy ml-oncall"].receivers == ["ml-oncall/pager", "ml-oncall/incidents"]
    # one test per emitted child route, carrying only its matchers
    assert by_why["route 2 (warning) of policy ml-oncall"].labels == {
        "alertname": "ModelopsAlert", "modelops_env": "production", "modelops_escalation": "ml-oncall", "tier": "gold",
        "severity": "warning"}
    assert by_why["route 2 (warning) of policy ml-oncall"].receivers == ["ml-oncall/slack-ml", "ml-oncall/mail"]
    growth = [t.why for t in tests if t.why.startswith("route") and t.why.endswith("growth-oncall")]
    assert growth == ["route 1 (critical) of policy growth-oncall", "route 2 (warning) of policy growth-oncall"]
    assert by_why["an alert of no modelops policy"].receivers == ["modelops-unrouted"]
    script = alertmanager.export(env)[1]
    assert script.executable and script.text.startswith("#!/bin/sh\n# Code generated by modelops")
    assert "--verify.receivers=" in script.text and script.text.count("\ncheck ") == len(tests)


def test_webhook_auth_becomes_http_config_that_names_files_never_values(repo: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AUTH_SECRETS.items():
        monkeypatch.setenv(name, value)
    [config, tests] = alertmanager.export(load_env(authenticated(repo)), "/run/secrets")
    for value in AUTH_SECRETS.values():
        assert value not in config.text and value not in tests.text
    receivers = {r["name"]: r["webhook_configs"][0] for r in yaml_docs(config.text)[0]["receivers"]
                 if "webhook_configs" in r}
    assert receivers["ml-oncall/incidents"]["http_config"] == {
        "authorization": {"type": "Bearer", "credentials_file": "/run/secrets/INCIDENT_TOKEN"}}
    assert receivers["ml-oncall/hooks"]["http_config"] == {
        "basic_auth": {"username": "modelops-secret:HOOK_USER", "password_file": "/run/secrets/HOOK_PASSWORD"},
        # a repository file keeps its path under the secrets directory; a certificate without a key holds it
        "tls_config": {"ca_file": "/run/secrets/certs/hooks-ca.pem", "cert_file": "/run/secrets/HOOK_CERT_FILE",
                       "key_file": "/run/secrets/HOOK_CERT_FILE"}}
    assert receivers["ml-oncall/scheme"]["http_config"] == {
        "authorization": {"type": "Token", "credentials_file": "/run/secrets/OTHER_TOKEN"},
        "tls_config": {"cert_file": "/run/secrets/certs/client.pem", "key_file": "/run/secrets/KEY_FILE"}}
    assert receivers["ml-oncall/literal"]["http_config"] == {  # a user name without a reference is written as it is
        "basic_auth": {"username": "alerts", "password_file": "/run/secrets/OTHER_PASSWORD"}}
    head = config.text.split("route:")[0]
    for line in ("#   /run/secrets/INCIDENT_TOKEN",
                 "#   /run/secrets/certs/hooks-ca.pem (the repository's certs/hooks-ca.pem)",
                 "#   modelops-secret:HOOK_USER (channel hooks: basic auth user name)"):
        assert line in head.splitlines()


@pytest.mark.parametrize(("auth", "refused"), [
    ("{headers: {X-Scope-OrgID: tenant-1}}",
     "the header X-Scope-OrgID cannot be exported to Alertmanager (Alertmanager 0.25 sends no other header; "
     "http_headers is 0.28's)"),
    ('{headers: {Authorization: "Bearer ${env:A}${env:B}"}}', "the header Authorization cannot be exported"),
])
def test_headers_alertmanager_cannot_send_are_refused_where_they_are_written(repo: Path, auth: str,
                                                                             refused: str) -> None:
    authenticated(repo, f'    incidents: {{type: webhook, url: "${{env:INCIDENT_WEBHOOK_URL}}", auth: {auth}}}\n'
                        '    hooks: {type: webhook, url: "https://h.example.com"}\n'
                        '    scheme: {type: webhook, url: "https://s.example.com"}\n'
                        '    literal: {type: webhook, url: "https://l.example.com"}\n')
    with pytest.raises(alertmanager.Inexpressible) as caught:
        alertmanager.export(load_env(repo))
    [refusal] = caught.value.refusals
    assert refusal.policy == "ml-oncall" and refusal.at.startswith("/spec/channels/incidents/auth/headers/")
    assert refused in refusal.message and "proxy" in refusal.hint

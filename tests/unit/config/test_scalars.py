from __future__ import annotations

import re
from pathlib import Path

import pytest
from modelops.config.scalars import ScalarError, duration
from modelops.config.scalars.cpu import parse_cpu
from modelops.config.scalars.cron import parse_cron
from modelops.config.scalars.duration import Duration, parse_duration
from modelops.config.scalars.image import PATTERN as IMAGE_PATTERN
from modelops.config.scalars.image import parse_image
from modelops.config.scalars.secretref import MIN_MASKABLE, SecretRef, maskable, parse_secret_ref, scrub
from modelops.config.scalars.semver import parse_semver
from modelops.config.scalars.size import parse_size
from modelops.validate.repo import validate_repo


@pytest.mark.parametrize(("text", "ms", "canonical"), [
    ("0s", 0, "0s"), ("500ms", 500, "500ms"), ("30s", 30_000, "30s"), ("90s", 90_000, "1m30s"),
    ("1h30m", 5_400_000, "1h30m"), ("2w", 1_209_600_000, "2w"), ("1d2h3m4s5ms", 93_784_005, "1d2h3m4s5ms"),
])
def test_durations_parse_to_milliseconds(text: str, ms: int, canonical: str) -> None:
    parsed = parse_duration(text)
    assert parsed.ms == ms
    assert str(parsed) == canonical
    assert str(Duration(3_600_000)) == "1h"


@pytest.mark.parametrize(("value", "message"), [
    ("5 minutes", 'invalid duration "5 minutes"'),
    ("5", 'missing unit in duration "5" (did you mean "5s"?)'),
    (5, 'missing unit in duration 5 (did you mean "5s"?)'),
    ("1m1h", "must go from largest to smallest"),
    ("", "empty duration"),
    ("1.5h", 'invalid duration "1.5h"'),
    ("99999999999999999999999999999w", 'duration "99999999999999999999999999999w" is longer than 10 years (3650d)'),
    ("3650d1ms", "is longer than 10 years"),
    ("9" * 5000 + "w", 'duration "' + "9" * 59 + '…" is longer than 10 years'),
    (True, "got bool"),
])
def test_duration_errors_say_what_to_write(value: object, message: str) -> None:
    with pytest.raises(ScalarError) as caught:
        parse_duration(value)
    assert message in str(caught.value)


def test_the_longest_duration_is_ten_years() -> None:
    assert parse_duration("3650d") == parse_duration("521w3d")


@pytest.mark.parametrize(("text", "accepted"), [
    ("30s", True), ("1h30m", True), ("500ms", True), ("1d2h3m4s5ms", True), ("5m1h", False), ("1h1h", False),
    ("1m1ms", True), ("", False), ("5", False), ("1.5h", False), ("1s1m", False),
])
def test_the_published_duration_pattern_accepts_what_the_parser_accepts(text: str, accepted: bool) -> None:
    try:
        parse_duration(text)
        parsed = True
    except ScalarError:
        parsed = False
    assert parsed is accepted
    assert bool(re.search(duration.PATTERN, text)) is accepted


@pytest.mark.parametrize(("text", "size"), [("512Mi", 512 * 2**20), ("16Gi", 16 * 2**30), ("1G", 10**9),
                                             ("1500000", 1_500_000), (2048, 2048), ("1.5Gi", int(1.5 * 2**30))])
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text).bytes == size


def test_size_suffix_typo_gets_a_suggestion() -> None:
    with pytest.raises(ScalarError) as caught:
        parse_size("16GB")
    assert str(caught.value) == ('unknown size suffix "GB" in "16GB" (did you mean "16Gi"?); '
                                 "use Ki, Mi, Gi, Ti or k, M, G, T")


@pytest.mark.parametrize(("text", "millicores"), [("4", 4000), (4, 4000), (0.5, 500), ("500m", 500), ("1.25", 1250)])
def test_cpu(text: object, millicores: int) -> None:
    assert parse_cpu(text).millicores == millicores


@pytest.mark.parametrize("bad", ["0", "1.5m", "four", "-1", float("inf"), "1000001", "9" * 400, "0.0000001"])
def test_cpu_rejects(bad: object) -> None:
    with pytest.raises(ScalarError):
        parse_cpu(bad)


def test_a_huge_size_is_refused_not_an_overflow() -> None:
    with pytest.raises(ScalarError, match="is over 1 EiB"):
        parse_size("9" * 400 + "Gi")
    assert parse_size("1024Pi").bytes == 2**60


def test_semver_precedence_follows_the_spec() -> None:
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
             "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0"]
    parsed = [parse_semver(v) for v in order]
    assert sorted(parsed[i] for i in (5, 0, 10, 3, 8, 1, 9, 2, 7, 4, 6)) == parsed
    assert str(parse_semver("1.0.0+build.7")) == "1.0.0+build.7"


@pytest.mark.parametrize(("value", "message"), [
    (1.4, "got the number 1.4; write all three parts and quote it"),
    ("1.4", "expected MAJOR.MINOR.PATCH (three numbers)"),
    ("v1.4.2", 'no "v" prefix: write "1.4.2"'),
    ("01.4.2", "leading zeros"),
    ("1.4.2-", "MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]"),
    ("1.4.2-01", 'invalid semantic version "1.4.2-01": expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]'),
    ("1.4.2+", 'invalid semantic version "1.4.2+"'),
    (True, 'expected a semantic version such as "1.4.2", got bool'),
    ("", 'invalid semantic version "": expected MAJOR.MINOR.PATCH (three numbers)'),
])
def test_semver_errors(value: object, message: str) -> None:
    with pytest.raises(ScalarError) as caught:
        parse_semver(value)
    assert message in str(caught.value)


def test_secret_reference_round_trip_and_resolution() -> None:
    ref = parse_secret_ref("${env:SLACK_WEBHOOK_URL}")
    assert ref == SecretRef("SLACK_WEBHOOK_URL")
    assert str(ref) == "${env:SLACK_WEBHOOK_URL}"
    assert ref.resolve({"SLACK_WEBHOOK_URL": "https://hooks.example/x"}) == "https://hooks.example/x"
    with pytest.raises(ScalarError, match="SLACK_WEBHOOK_URL is not set"):
        ref.resolve({})


@pytest.mark.parametrize(("value", "message"), [
    ("xoxb-very-secret-token", "literal value where a secret reference is required"),
    ("${SLACK_URL}", 'malformed secret reference: write "${env:SLACK_URL}"'),
    ("$SLACK_URL", 'write "${env:SLACK_URL}"'),
    ("${ env : SLACK_URL }", 'write "${env:SLACK_URL}"'),
    ("${env:slack-url}", 'write "${env:SLACK_URL}"'),
    ("${env:9 lives}", 'write "${env:_9_LIVES}"'),
    ("${env:}", 'write "${env:NAME}"'),
])
def test_secret_literals_are_refused_without_echoing_them(value: str, message: str) -> None:
    with pytest.raises(ScalarError) as caught:
        parse_secret_ref(value)
    assert message in str(caught.value)
    assert "very-secret" not in str(caught.value)
    suggested = re.search(r'write "(.*?)"', message)
    if suggested and "NAME" not in suggested[1]:
        assert parse_secret_ref(suggested[1])  # the suggestion is itself valid


@pytest.mark.parametrize(("text", "hours", "weekdays"), [
    ("0 8 * * 1-5", {8}, {1, 2, 3, 4, 5}),
    ("30 9-17/4 * * MON,wed,Fri", {9, 13, 17}, {1, 3, 5}),
    ("0 6,18 * JAN-MAR 7", {6, 18}, {0}),  # 7 is Sunday, as 0 is
    ("*/30 */12 1 * SUN-SAT", {0, 12}, {0, 1, 2, 3, 4, 5, 6}),
])
def test_cron_expressions_parse_into_the_values_they_select(text: str, hours: set[int], weekdays: set[int]) -> None:
    parsed = parse_cron(text)
    assert (str(parsed), parsed.hours, parsed.weekdays) == (text, hours, weekdays)


@pytest.mark.parametrize(("text", "message"), [
    ("61 8 * * 1-5", 'invalid cron expression "61 8 * * 1-5": minute 61 is out of range 0-59'),
    ("0 24 * * *", "hour 24 is out of range 0-23"),
    ("0 8 0 * *", "day of month 0 is out of range 1-31"),
    ("0 8 * 13 *", "month 13 is out of range 1-12 or JAN-DEC"),
    ("0 8 * * 8", "day of week 8 is out of range 0-7 or SUN-SAT"),
    ("0 8-30 * * *", "hour 30 is out of range 0-23"),
    ("0 8,9,25 * * *", "hour 25 is out of range 0-23"),
    ("0 8 * JANUARY *", 'month: "JANUARY" is not a number or a name (expected 1-12 or JAN-DEC, *, a list a,b, '
                        "a range a-b or a step /n)"),
    ("x 8 * * *", 'minute: "x" is not a number (expected 0-59'),
    ("0 8 * * MON-", "day of week: a value is missing"),
    ("1,,2 * * * *", "minute: a value is missing"),
    ("5-1 * * * *", 'minute range "5-1" goes backwards: write the smaller value first'),
    ("*/0 * * * *", 'minute step "/0" must be a number from 1 to 59'),
    ("0 */24 * * *", 'hour step "/24" must be a number from 1 to 23'),
    ("0 8 * *", 'cron expression "0 8 * *" has 4 fields; expected 5 (minute, hour, day of month, month, day of '
                'week), such as "0 8 * * 1-5"'),
    ("0 8 * * 1-5 2026", "has 6 fields; expected 5"),
    ("0 8 * * ſun", 'day of week: "ſun" is not a number or a name'),  # "ſ".upper() is "S": names are ASCII
    (8, "expected a cron expression such as \"0 8 * * 1-5\", got int"),
])
def test_cron_errors_name_the_field_and_its_range(text: object, message: str) -> None:
    with pytest.raises(ScalarError, match=re.escape(message)):
        parse_cron(text)


# -- masking: whole values, where they stand as values ------------------------------------------------------------


@pytest.mark.parametrize(("text", "secret", "shown"), [
    # short user names: the words around them stay readable
    ("connection refused", "con", "connection refused"),  # under the floor: never masked ("***nection refused")
    ("SMTP 535: authentication failed for con", "con", "SMTP 535: authentication failed for con"),
    ("535 bad credentials for apikey", "apikey", "535 bad credentials for ***"),
    ("apikeys are rotated; see apikey_docs", "apikey", "apikeys are rotated; see ***_docs"),
    ("user admin is not an administrator", "admin", "user *** is not an administrator"),
    ("dev deployment to devices", "dev", "dev deployment to devices"),
    # a real secret, wherever it stands as a value
    ("GET https://user:s3cr3tvalue@host/x failed", "s3cr3tvalue", "GET https://user:***@host/x failed"),
    ('{"token": "correct-horse-battery", "ok": false}', "correct-horse-battery", '{"token": "***", "ok": false}'),
    ("Authorization: Bearer tok3n-abcdef", "tok3n-abcdef", "Authorization: Bearer ***"),
    ("password=hunter2hunter, retry", "hunter2hunter", "password=***, retry"),
    # a token-like value is masked even glued to other text (a URL-encoded path, a concatenation)
    ("next=%2Fs3cr3tvalue&x=1", "s3cr3tvalue", "next=%2F***&x=1"),
    ("Xs3cr3tvalueY", "s3cr3tvalue", "X***Y"),
    ("v" * 20 + "suffix", "v" * 20, "***suffix"),
])
def test_scrub_masks_whole_values_and_leaves_words_alone(text: str, secret: str, shown: str) -> None:
    assert scrub(text, [secret]) == shown


def test_scrub_prefers_the_longest_value_and_masks_each_place_once() -> None:
    assert scrub("ghs_apikeyci and apikey", ["apikey", "ghs_apikeyci"]) == "*** and ***"
    assert scrub("nothing to hide", []) == "nothing to hide"
    assert scrub("a.b+c? (x)", ["a.b+c? (x)"]) == "***"  # regular-expression characters are plain text


def test_the_floor_is_four_characters() -> None:
    assert MIN_MASKABLE == 4 and not maskable("abc") and maskable("abcd")
    assert scrub("user abcd refused", ["abcd"]) == "user *** refused"
    assert scrub("user abc refused", ["abc"]) == "user abc refused"


# -- container image references ----------------------------------------------------------------------------------

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("reference", [
    "vllm/vllm-openai:v0.6.3", "nvcr.io/nvidia/tritonserver:24.08-py3", "pytorch/torchserve:0.11.0-cpu", "python",
    "m:1", "lab/model:1", f"redis@{DIGEST}", f"docker.io/library/postgres:16@{DIGEST}",
    "localhost:5000/team/model__v2:latest", "registry.example.com:5000/ml/triton", "[::1]:5000/x:y",
    "Registry.Example.com/ml/model:1", "a/b/c/d-e.f_g:" + "t" * 128,
])
def test_image_references_registries_accept_are_accepted(reference: str) -> None:
    assert parse_image(reference) == reference
    assert re.fullmatch(IMAGE_PATTERN, reference)  # editors agree through the published schema


@pytest.mark.parametrize(("reference", "message"), [
    ("vllm/vllm-openai:v0.6.3\n<script>alert(1)</script>",
     "the image reference has a line break or a space in it, which no registry accepts"),
    ("vllm/vllm openai", "the image reference has a line break or a space in it, which no registry accepts"),
    ("vllm/<b>model</b>", "the image reference has the character '<' in it, which no registry accepts"),
    ('vllm/"x"', "the image reference has the character '\"' in it, which no registry accepts"),
    ("vllm/VLLM-openai:v1", "the repository path must be lowercase (only a registry host may have capitals)"),
    ("vllm/x:" + "t" * 129, 'the tag "' + "t" * 40 + '" is not valid: 1 to 128 letters, digits, "_", "." or "-", '
                                                     'not starting with "." or "-"'),
    ("vllm/x:-latest", 'the tag "-latest" is not valid'),
    ("vllm/x@sha256:0123", 'the digest must be algorithm:hex, such as "sha256:" followed by 64 hex digits'),
    ("vllm/x@" + DIGEST.upper().replace("SHA", "sha"), "a sha256 digest is 64 lowercase hex digits (this one has 64)"),
    ("vllm//x", "the image name has an empty part (// or a / at either end)"),
    ("vllm/x-:1", "the image name is not valid"),
    ("a" * 256, "the image name is 256 characters long, over the 255 a registry accepts"),
    ("", "the image reference is empty"),
])
def test_image_references_no_registry_accepts_are_refused(reference: str, message: str) -> None:
    with pytest.raises(ScalarError) as caught:
        parse_image(reference)
    assert str(caught.value).startswith(message)
    # the published pattern is the grammar alone: the name's length and a digest's own length are the parser's
    assert not re.fullmatch(IMAGE_PATTERN, reference) or message.startswith(("a sha256", "the image name is 256"))


def test_an_invalid_image_is_a_located_error_with_a_valid_example(repo: Path) -> None:
    model = repo / "environments/staging/models/sentiment.yaml"
    model.write_text(model.read_text().replace('image: "vllm/vllm-openai:v0.6.3"',
                                               'image: "vllm/vllm-openai:v0.6.3\\n<script>x</script>"', 1))
    (problem,) = validate_repo(repo).diagnostics
    assert (problem.code, problem.file, problem.dotted_path, problem.line) == (
        "MO112", "environments/staging/models/sentiment.yaml", "spec.serving.image", 14)
    assert problem.message == "the image reference has a line break or a space in it, which no registry accepts"
    assert problem.hint and '"vllm/vllm-openai:v0.6.3"' in problem.hint


def test_every_image_of_the_example_repository_is_valid(repo: Path) -> None:
    assert validate_repo(repo).valid

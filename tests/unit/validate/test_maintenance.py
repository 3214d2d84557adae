"""What `spec.maintenance` must mean: windows that open and close, channels keyed by a repository, naming a release,
for images the environment's models run."""

from __future__ import annotations

from pathlib import Path

from modelops.validate.repo import validate_repo

ENV = "environments/production/environment.yaml"


def maintenance(repo: Path, block: str) -> None:
    path = repo / ENV
    path.write_text(path.read_text() + "  maintenance:\n" + block, encoding="utf-8")


def problems(repo: Path) -> list[tuple[str, str, int | None, str]]:
    return [(d.code, d.severity.value, d.line, d.message) for d in validate_repo(repo).diagnostics
            if d.code in ("MO150", "MO151", "MO152", "MO240", "MO241")]


def test_a_sound_block_is_valid(repo: Path) -> None:
    maintenance(repo, '    windows: [{cron: "0 2 * * SAT", duration: 4h, timezone: Europe/Berlin}]\n'
                      "    maxVersionAge: 90d\n    channels: {vllm/vllm-openai: v0.6.4, "
                      "nvcr.io/nvidia/tritonserver: 24.09-py3}\n")
    assert problems(repo) == []


def test_windows_that_never_open_or_last_too_long_are_errors_and_one_that_never_closes_a_warning(repo: Path) -> None:
    maintenance(repo, '    windows:\n      - {cron: "0 2 30 2 *", duration: 4h}\n'
                      '      - {cron: "0 2 * * SAT", duration: 8d}\n      - {cron: "0 2 * * SAT", duration: 30s}\n')
    base = len((repo / ENV).read_text().splitlines()) - 3
    assert problems(repo) == [
        ("MO150", "error", base + 1, 'the window "0 2 30 2 *" never opens: its cron expression selects no date'),
        ("MO150", "error", base + 2, "the window stays open 1w1d: give it between 1m and 7d"),
        ("MO150", "error", base + 3, "the window stays open 30s: give it between 1m and 7d")]
    path = repo / ENV
    path.write_text(path.read_text().split("  maintenance:\n")[0] + '  maintenance:\n    windows: [{cron: "0 * * * *", '
                    "duration: 2h}]\n", encoding="utf-8")
    [(code, severity, _, message)] = problems(repo)
    assert (code, severity) == ("MO240", "warning") and "never close" in message


def test_channels_must_be_repositories_naming_releases_of_images_models_run(repo: Path) -> None:
    maintenance(repo, '    channels:\n      "vllm/vllm-openai:v0.6.4": v0.6.4\n      vllm/vllm-openai: latest\n'
                      "      vlm/vllm-openai: v0.6.4\n")
    found = problems(repo)
    assert [(code, severity) for code, severity, _, _ in found] == [
        ("MO152", "error"), ("MO151", "error"), ("MO241", "warning")]
    assert found[0][3] == ("the channel key vllm/vllm-openai:v0.6.4 has a tag or digest: key it by the repository "
                           "alone (vllm/vllm-openai)")
    assert found[2][3] == 'no model of production runs an image of vlm/vllm-openai (did you mean "vllm/vllm-openai"?)'

"""What an environment's `spec.maintenance` must mean: windows that open and close, channels that can be compared.

A window whose cron expression selects no date never opens, so housekeeping would wait for ever (MO150), as it
would for a window of no time; one open longer than a week is a schedule nobody means (MO150). Windows that never
close hold nothing back (MO240). A channel is the tag of the release the platform follows: it must name a release
(MO151), be keyed by an image repository without tag or digest (MO152), and is expected to name a repository some
model of the environment runs (MO241).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from modelops.base.diagnostics import pointer, suggestion
from modelops.config.documents import Document
from modelops.config.scalars import ScalarError
from modelops.config.scalars.image import parse_image, reference_parts
from modelops.core.maintenance import LONGEST, never_closed, next_opening, release
from modelops.validate.findings import Findings

#: Validation does not read the clock (its outcome is cached by content): windows are judged from this moment,
#: and over the leap year that follows it.
REFERENCE = datetime(2028, 1, 1, tzinfo=UTC)


def check_environment(env: Document, models: Sequence[Document], findings: Findings) -> None:
    maintenance = env.spec.maintenance
    if maintenance is None:
        return
    for i, window in enumerate(maintenance.windows):
        where = pointer("spec", "maintenance", "windows", i)
        if not _bounded(window.duration.ms):
            findings.error("MO150", f"the window stays open {window.duration}: give it between 1m and 7d", env.source,
                           f"{where}/duration", hint="housekeeping runs inside a window; for any time, declare none")
        elif next_opening([window], REFERENCE) is None:
            findings.error("MO150", f'the window "{window.cron}" never opens: its cron expression selects no date',
                           env.source, f"{where}/cron", hint="pick a day that exists (30 February does not)")
    usable = [w for w in maintenance.windows if _bounded(w.duration.ms)]
    if usable and never_closed(usable, date(REFERENCE.year, 1, 1)):
        findings.warning("MO240", "the maintenance windows never close: housekeeping is never held back, as without "
                         "windows", env.source, pointer("spec", "maintenance", "windows", 0),
                         hint="shorten the windows, or open them less often")
    images = _repositories(models)
    for repository, tag in maintenance.channels.items():
        where = pointer("spec", "maintenance", "channels", repository)
        try:
            name, key_tag, digest = reference_parts(parse_image(repository))
        except ScalarError as exc:
            findings.error("MO152", f"the channel key {repository!r} is not an image repository: {exc}", env.source,
                           where, at_key=True, hint="key it by the image without tag or digest: vllm/vllm-openai")
            continue
        if key_tag is not None or digest is not None:
            findings.error("MO152", f"the channel key {repository} has a tag or digest: key it by the repository "
                           f"alone ({name})", env.source, where, at_key=True)
            continue
        if release(tag) is None:
            findings.error("MO151", f"the channel of {repository} is {tag!r}, which names no release to compare image "
                           "tags with", env.source, where, hint="name the release the platform follows now, such "
                                                                "as v0.6.4")
        if images and repository not in images:
            findings.warning("MO241", f"no model of {env.name} runs an image of {repository}"
                             f"{suggestion(repository, images)}", env.source, where, at_key=True)


def _bounded(ms: int) -> bool:
    return 60_000 <= ms <= LONGEST.total_seconds() * 1000


def _repositories(models: Sequence[Document]) -> list[str]:
    found = []
    for model in models:
        try:
            found.append(reference_parts(parse_image(model.spec.serving.image))[0])
        except ScalarError:  # refused by the schema already
            continue
    return sorted(set(found))

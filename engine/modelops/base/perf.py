"""Process-level performance settings for the engine's hot paths."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_load() -> Iterator[None]:
    """Load a whole repository without the cyclic garbage collector.

    Loading builds millions of small, acyclic, long-lived objects (documents, models, state); every
    collection pass would rescan all of them for nothing (it tripled the time of schema validation on a
    6,000-model repository). Afterwards they are frozen out of later collections for the same reason.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()

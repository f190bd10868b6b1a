"""Build events: where the progress of an encode running in a thread goes.

The build reports plain dicts ({"event": "encode", "item": ...}) to a callable it is
given; an encode, deep in a kind, reports {"event": "progress", "item", "done_s",
"total_s"} from ffmpeg's `-progress` output to the reporter of its thread. How events
are shown (bars, lines, JSON) is the command line's business: infopack.cli.progress.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable

Reporter = Callable[[dict], None]

_local = threading.local()


@contextmanager
def reporting(report: Reporter):
    """Route the progress of encodes run in this thread to `report`."""
    previous = getattr(_local, "report", None)
    _local.report = report
    try:
        yield
    finally:
        _local.report = previous


def current_reporter() -> Reporter | None:
    return getattr(_local, "report", None)

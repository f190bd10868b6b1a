"""Named points where a test can stop a build, to kill it at a known moment (not by luck).

With INFOPACK_TEST_PAUSE=NAME in its environment, the build stops at the point NAME: it
writes `infopack: paused at NAME` on stderr and sleeps until it is killed. NAME is a build
event (`probed`, `assemble`, `report`, ...: the build stops in the thread that reported it,
right after reporting it) or a step of publishing (`PUBLISH_POINTS`). Nothing else reads
the variable; without it these are no-ops.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable

ENV = "INFOPACK_TEST_PAUSE"
PAUSED = "infopack: paused at "
# The steps of infopack.build.publish.publish, in order.
PUBLISH_POINTS = ("publish-set-aside", "publish-unsealed", "publish-card", "publish-cards", "publish-seal")


def pause_point(name: str) -> None:
    """Stop here, until killed, when a test asked for `name`."""
    if os.environ.get(ENV) == name:
        sys.stderr.write(f"{PAUSED}{name}\n")
        sys.stderr.flush()
        while True:
            time.sleep(60)


def pausing(progress: Callable[[dict], None]) -> Callable[[dict], None]:
    """`progress`, stopping after the event a test named (`progress` itself when none is)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return progress

    def report(event: dict) -> None:
        progress(event)
        if event.get("event") == wanted:
            pause_point(wanted)
    return report

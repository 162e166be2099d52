"""Named crash points for the kill tests (``NEWSCLEAN_FAILPOINT=<name>``).

At a named point the process kills itself with SIGKILL: no cleanup handlers run, exactly as
if the machine had pulled the plug. Unset in normal runs, where ``failpoint`` is a no-op.
"""

from __future__ import annotations

import os
import signal

ENV = "NEWSCLEAN_FAILPOINT"

# The points the ingest flow passes, in order.
POINTS = (
    "after_first_unit_staged",  # one unit staged, others not
    "before_commit",  # a chunk's commit computed but not staged (later units may still be cleaning)
    "commit_staged",  # pending commit written and READY, no table touched
    "mid_commit",  # rejected + duplicates merged, articles not
    "before_markers",  # all tables merged, completion markers not written
    "after_first_chunk",  # the first dedup chunk committed, later chunks not
)


def failpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)

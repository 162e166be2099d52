"""A contender for the writer lock, run in its own process by tests/test_storage.py."""

from __future__ import annotations

import os

from flows.storage import Storage


def contend(root: str, go: str, log: str, hold: float, retry: bool) -> None:
    """One contender (its own process): wait for the start signal, then take the lock (once, or
    retrying until it gets it), noting when it held it, or that it found the lock taken."""
    import time

    from flows.storage import LockedError

    while not os.path.exists(go):
        time.sleep(0.0005)
    deadline = time.monotonic() + 60
    while True:
        try:
            with Storage(root).lock():
                t_in = time.monotonic()
                time.sleep(hold)
                t_out = time.monotonic()
            line = f"held {t_in} {t_out}\n"
            break
        except LockedError:
            line = "locked\n"
            if not retry or time.monotonic() > deadline:
                break
            time.sleep(0.002)
        except Exception as exc:  # noqa: BLE001 - any other failure is what the test reports
            line = f"error {exc!r}\n"
            break
    with open(log, "a") as fh:  # one short O_APPEND write per process: lines never interleave
        fh.write(line)

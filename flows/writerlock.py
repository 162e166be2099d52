"""The writer lock of an output directory: one holder at a time, taken over after a crash.

``DIR/_state/lock`` names its holder as JSON: ``pid``, ``host``, ``boot`` (the kernel's boot
id), ``start`` (the process's start time, so a recycled pid is not mistaken for the holder),
``since`` and a random ``token``. ``DIR/_state/lock.guard`` is an empty file that a process
holds an exclusive ``flock`` on for the few milliseconds it takes to look at the lock file and
change it.

Why only one process can hold the lock (the argument the code below relies on):

1. The lock file is always complete: it is written under a temporary name and only then given
   the name ``lock`` (``os.link`` when there is none, ``os.replace`` over a stale one), so no
   one ever reads a half-written or empty lock that a live process is still filling in.
2. Every change to the name ``lock`` is made inside the guard, right after looking at what the
   name holds in that same guarded section: ``link`` only when the name was free, ``replace``
   only when it held a stale lock, ``unlink`` (release) only when it held our own file (same
   inode and token). ``link`` also fails on its own if the name is taken.
3. So while a process holds the guard, nothing can change the name between its look and its
   change: the others who change it all wait for the guard. Each look-then-change is therefore
   atomic. Two processes racing for the same stale lock are served one after the other: the
   first replaces it with its own lock, the second then sees a lock whose holder is alive and
   gets ``LockedError``. A release never removes a lock that another process took.
4. The kernel drops a ``flock`` when its process dies, so a crash inside the guarded section
   blocks no one; the lock itself is taken over by the rule below.

A lock is stale (taken over) when its holder is on this host and is gone: no process with its
pid, a process with its pid that started at another time (the pid was reused), or a different
boot id (the machine restarted). An empty or unreadable lock file (written by an older version,
or damaged) is stale once it is ``EMPTY_LOCK_GRACE_SECONDS`` old. A holder on another host is
never taken over: nothing here can tell whether it lives.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flows.liveness import boot_id, pid_alive, process_start

STATE_DIR = "_state"  # an output's run-state folder, which holds the lock
LOCK_NAME = "lock"
GUARD_NAME = "lock.guard"
EMPTY_LOCK_GRACE_SECONDS = 10.0  # far beyond the time between creating and filling one


class LockedError(RuntimeError):
    """Another run holds the writer lock of this output directory."""


@dataclass(frozen=True)
class _Seen:
    """What the lock's name held when looked at."""

    identity: tuple[int, int]  # (device, inode): tells our own file from a later one
    age: float  # seconds since it was last written
    record: dict | None  # None: empty or not a holder record


def _me() -> dict:
    pid = os.getpid()
    return {
        "pid": pid,
        "host": socket.gethostname(),
        "boot": boot_id(),
        "start": process_start(pid),
        "since": dt.datetime.now(dt.timezone.utc).isoformat(),
        "token": uuid.uuid4().hex,
    }


def _look(path: Path) -> _Seen | None:
    """The lock file's identity, age and record, or None when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)  # the file just read, even if the name changes meanwhile
        raw = fh.read()
    try:
        record = json.loads(raw)
    except ValueError:  # not JSON, not UTF-8, or empty
        record = None
    if not (isinstance(record, dict) and type(record.get("pid")) is int and record["pid"] > 0 and isinstance(record.get("host"), str)):
        record = None
    return _Seen((st.st_dev, st.st_ino), time.time() - st.st_mtime, record)


def _stale(seen: _Seen, me: dict) -> bool:
    rec = seen.record
    if rec is None:
        return seen.age > EMPTY_LOCK_GRACE_SECONDS
    if rec["host"] != me["host"]:
        return False
    if isinstance(rec.get("boot"), str) and me["boot"] and rec["boot"] != me["boot"]:
        return True
    start = rec.get("start")
    return not pid_alive(rec["pid"], start if type(start) is int else None)


def _describe(seen: _Seen | None, path: Path, subject: str) -> str:
    if seen is None or seen.record is None:
        age = seen.age if seen else 0.0
        return (
            f"{subject} is locked by another newsclean run (its lock file {path} is empty or unreadable, {age:.0f} s old; "
            f"it is taken over once {EMPTY_LOCK_GRACE_SECONDS:.0f} s old)"
        )
    rec = seen.record
    return (
        f"{subject} is locked by another newsclean run (pid {rec['pid']} on {rec['host']} since {rec.get('since')}); "
        f"wait for it, or delete {path} if that run is dead"
    )


@contextlib.contextmanager
def _guarded(state_dir: Path) -> Iterator[None]:
    fd = os.open(state_dir / GUARD_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the flock


def holder(root: str | Path) -> str | None:
    """Why a run on ``root`` would get ``LockedError`` now (a live holder), else None.

    A look without the guard, for a command to fail early; the real lock is still taken later.
    """
    path = Path(root) / STATE_DIR / LOCK_NAME
    seen = _look(path) if path.parent.is_dir() else None
    if seen is None or _stale(seen, _me()):
        return None
    return _describe(seen, path, f"output {root}")


def _take(path: Path, me: dict, subject: str) -> tuple[int, int]:
    tmp = path.with_name(f".{path.name}.{me['token']}.tmp")
    tmp.write_text(json.dumps(me))
    try:
        st = tmp.stat()
        with _guarded(path.parent):
            seen = _look(path)
            if seen is None:
                try:
                    os.link(tmp, path)
                except FileExistsError:  # made just now by a process that skips the guard (an older newsclean)
                    raise LockedError(_describe(_look(path), path, subject)) from None
            elif _stale(seen, me):
                os.replace(tmp, path)
            else:
                raise LockedError(_describe(seen, path, subject))
    finally:
        tmp.unlink(missing_ok=True)
    return st.st_dev, st.st_ino


def _release(path: Path, me: dict, identity: tuple[int, int]) -> None:
    # the output may have been deleted under the run: then there is nothing left to release
    with contextlib.suppress(FileNotFoundError), _guarded(path.parent):
        seen = _look(path)
        if seen is not None and seen.identity == identity and seen.record is not None and seen.record.get("token") == me["token"]:
            path.unlink()


@contextlib.contextmanager
def hold(root: str | Path) -> Iterator[None]:
    """Hold the writer lock of the output ``root`` for the ``with`` block.

    Raises ``LockedError`` when a live process holds it; takes over a stale one (see above).
    """
    state_dir = Path(root) / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / LOCK_NAME
    me = _me()
    identity = _take(path, me, f"output {root}")
    try:
        yield
    finally:
        _release(path, me, identity)

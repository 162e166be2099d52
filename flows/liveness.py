"""Whether a process is still alive (for lock files and recorded background servers), and
helpers that end our child processes when the process that started them is killed."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading


def pid_alive(pid: int, start: int | None = None) -> bool:
    """True if a process with this pid exists (one we may not signal counts as alive); a zombie
    (exited, not yet reaped by its parent) is dead.

    With ``start`` (``process_start`` of the process when its pid was recorded), a process now
    under that pid that started at another time is a different one: the pid was reused, so the
    recorded process is gone. Where /proc cannot be read, the pid alone decides.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _proc_stat(pid)
    if fields is None:
        return True
    return fields[0] != b"Z" and (start is None or _start_of(fields) in (None, start))


def process_start(pid: int) -> int | None:
    """When a process started, in clock ticks since boot (Linux: field 22 of /proc/<pid>/stat);
    None without /proc (other systems) or when the process is gone."""
    fields = _proc_stat(pid)
    return None if fields is None else _start_of(fields)


def _proc_stat(pid: int) -> list[bytes] | None:
    """Fields 3 (state) onwards of /proc/<pid>/stat, or None (no /proc, or no such process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # field 2, the command name in parentheses, may itself hold spaces and ')': split after its last ')'
    fields = stat.rsplit(b")", 1)[-1].split()
    return fields or None


def _start_of(fields: list[bytes]) -> int | None:
    try:
        return int(fields[22 - 3])  # field 22, starttime; the list starts at field 3
    except (IndexError, ValueError):
        return None


def boot_id() -> str | None:
    """This boot of the machine (Linux), to tell a process of an earlier boot; None elsewhere."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """``preexec_fn`` for a helper process: the kernel sends it SIGTERM when its parent dies.

    For the temporary API server the CLI starts: a flow killed with SIGKILL runs no exit hooks,
    and the server would otherwise run on forever. Linux only; a no-op elsewhere.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


_watching = False


def exit_with_parent_process() -> None:
    """In a multiprocessing worker (the process task runner), exit as soon as the parent dies.

    A pool worker blocks on its task queue forever once the flow process is killed; a daemon
    thread waits on the parent's sentinel and ends the worker then. Started once per process;
    does nothing in the flow process itself (no multiprocessing parent).
    """
    global _watching
    parent = multiprocessing.parent_process()
    if parent is None or _watching:
        return
    _watching = True

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(70)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()

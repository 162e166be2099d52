"""Whether a process is still alive (for lock files and recorded background servers),
helpers that end our child processes when the process that started them is killed, and what
Ctrl-C does to a running flow."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from collections.abc import Callable


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


# --- Ctrl-C --------------------------------------------------------------------------------

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a job ended by Ctrl-C

# Set when the flow's main thread gets KeyboardInterrupt (``clean_and_commit``), or by a pool
# worker's own SIGINT handler. Python raises KeyboardInterrupt in the main thread only: the clean
# tasks on the runner's threads would go on to the end of their units (minutes for a batch of
# URLs) while the flow waits for them. They check this between pages instead.
INTERRUPTED = threading.Event()


class Interrupted(KeyboardInterrupt):
    """Raised in a clean task after Ctrl-C in the flow's own process: a BaseException, so Prefect
    marks the task run Crashed (one log line) and does not retry it. The unit has no _SUCCESS
    yet, so the next run redoes it."""


class InterruptedInWorker(RuntimeError):
    """The same in a process-pool worker, where it must be an ordinary exception: a
    BaseException sent back from a worker ends the pool's result thread (Prefect 3.8's
    ProcessPoolTaskRunner chains futures with callbacks that catch only Exception), and the flow
    process then waits forever at exit for workers nobody tells to stop."""


_in_pool_worker = False


def stop_if_interrupted() -> None:
    if INTERRUPTED.is_set():
        raise (InterruptedInWorker if _in_pool_worker else Interrupted)("stopped by Ctrl-C")


def retry_unless_interrupted(task: object, task_run: object, state: object) -> bool:
    """A task's ``retry_condition_fn``: no retry once Ctrl-C was pressed (in a pool worker the
    task fails with an ordinary exception, which Prefect would otherwise retry)."""
    return not INTERRUPTED.is_set()


class CtrlC:
    """The CLI's SIGINT handler while it runs a flow (installed on creation, ``restore()`` ends it).

    The first Ctrl-C raises KeyboardInterrupt in the main thread, as Python's own handler does:
    Prefect marks the flow run Crashed and the command unwinds. Any later one, while that
    shutdown is still going (a task finishing its page, Prefect flushing logs to the API),
    calls ``last_words`` (kill the temporary server) and exits 130 at once, without a traceback
    from wherever the signal landed.
    """

    def __init__(self, last_words: Callable[[], None]) -> None:
        self.pressed = False
        self.last_words = last_words
        # only the main thread may set handlers (the CLI called from a thread keeps Python's)
        self.installed = threading.current_thread() is threading.main_thread()
        self.previous = signal.signal(signal.SIGINT, self._on_sigint) if self.installed else None

    def _on_sigint(self, signum: int, frame: object) -> None:
        if not self.pressed:
            self.pressed = True
            raise KeyboardInterrupt
        try:
            print("\ninterrupted again: exiting now", file=sys.stderr, flush=True)
            self.last_words()
        finally:
            os._exit(EXIT_INTERRUPTED)

    def restore(self) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)


def flag_interrupts_in_worker() -> None:
    """The process pool's worker initializer: Ctrl-C (a terminal signals the whole process
    group, the pool's workers too) only sets ``INTERRUPTED``, so the task stops at its next page
    and the worker ends when the flow process shuts the pool down. A KeyboardInterrupt here
    would be sent back to the flow process and hang it (see ``InterruptedInWorker``)."""
    global _in_pool_worker
    _in_pool_worker = True
    signal.signal(signal.SIGINT, lambda signum, frame: INTERRUPTED.set())

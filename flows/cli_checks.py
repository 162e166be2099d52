"""Checks of the ``newsclean`` command line before any work: option values, input paths and
output folders, each failing with one line on stderr and the README's exit code (2 usage or
write error, 3 output locked).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import typer


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise typer.BadParameter(f"--set expects SECTION.KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and the README's exit code (2 usage or write error, 3 output locked)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def require_writable(path: Path, option: str, folder: bool) -> None:
    """Exit 2 before any work when ``path`` cannot be written: a folder that is a file (or a file
    that is a folder), a path under a file, or a place without write permission."""
    # os.path's tests: a folder we may not search reads as absent (Path's raise PermissionError)
    if os.path.exists(path) and os.path.isdir(path) != folder:
        fail(f"{option} {path} is a {'file' if folder else 'folder'}, not a {'folder' if folder else 'file'}")
    place = path if folder else path.parent
    while not os.path.exists(place) and place != place.parent:  # the nearest folder that exists
        place = place.parent
    if not os.path.isdir(place):
        fail(f"{option} {path} cannot be created: {place} is a file")
    if not os.access(place, os.W_OK | os.X_OK):
        fail(f"{option} {path} is not writable: no write permission on {place}")


def require_output_dir(output: Path) -> None:
    """Exit 2 unless ``output`` is an existing folder this process may write (compact, vacuum)."""
    require_writable(output, "--output", folder=True)
    if not output.is_dir():
        fail(f"output directory does not exist: {output}")


def refuse_if_locked(output: Path) -> None:
    """Exit 3 at once, before a Prefect server starts, when a live run holds the output's lock.

    Only a look: the flow takes the lock itself, and one taken in between ends in exit 3 too.
    """
    from flows.writerlock import holder

    held = holder(output)
    if held:
        fail(held, 3)


@contextlib.contextmanager
def output_errors() -> Iterator[None]:
    """For every command that writes an output: exit 3 when another run holds its lock, exit 2
    when a table or state write fails (naming the table, path and OS reason), one line each."""
    from flows.storage import LockedError, StorageWriteError

    try:
        yield
    except LockedError as exc:
        fail(str(exc), 3)
    except StorageWriteError as exc:
        fail(str(exc), 2)


def require_paths(paths: list[Path]) -> list[str]:
    """The input paths as strings; exit 2 naming the first one that does not exist."""
    for p in paths:
        if not Path(p).exists():
            typer.echo(f"error: input path does not exist: {p}", err=True)
            raise typer.Exit(2)
    return [str(p) for p in paths]


def without_credentials(urls: list[str]) -> list[str]:
    """``urls`` with their user:password@ removed before they reach the flow's parameters (which
    Prefect stores and shows); warns when some had credentials, since they will not be sent."""
    from cleaners.document import redact_url

    clean = [redact_url(u) for u in urls]
    changed = sum(a != b for a, b in zip(urls, clean))
    if changed:
        typer.echo(f"warning: credentials removed from {changed} URL(s): newsclean never sends, stores or logs user:password@ parts", err=True)
    return clean


def parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{name} expects YYYY-MM-DD, got {value!r}") from exc

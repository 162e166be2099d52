"""Inputs -> raw pages. Files and folders for now (URLs, feeds, sitemaps and WARC come later).

A PATH is a file or a folder walked recursively in sorted order (deterministic batches).
Hidden files and folders are skipped; files of an unsupported type are reported so that the
run can quarantine them with a reason instead of dropping them silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cleaners.document import PageError, RawPage

# (suffix, format) pairs; each may also end in ".gz"
PAGE_SUFFIXES = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".xhtml": "html"}


class InputError(ValueError):
    """A path given on the command line does not exist or cannot be read."""


@dataclass(frozen=True)
class InputFile:
    path: str  # as a POSIX path string: the row's `source`
    format: str | None  # "html" | "text" | None (unsupported)


def format_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return PAGE_SUFFIXES.get(os.path.splitext(lower)[1])


def source_key(path: Path) -> str:
    """The `source` recorded for a file: its absolute POSIX path (stable across working dirs)."""
    return path.resolve().as_posix()


def discover_files(paths: list[str | Path]) -> list[InputFile]:
    """Walk the inputs; files given explicitly are kept whatever their suffix (sniffed later)."""
    found: dict[str, InputFile] = {}
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise InputError(f"input path does not exist: {p}")
        if path.is_file():
            key = source_key(path)
            found[key] = InputFile(key, format_of(path.name) or "sniff")
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                key = source_key(Path(dirpath) / name)
                found[key] = InputFile(key, format_of(name))
    return [found[k] for k in sorted(found)]


def read_file_page(item: InputFile, max_bytes: int) -> RawPage:
    """Read one file (bounded); raise PageError(stage='load') with a reason on failure."""
    if item.format is None:
        raise PageError("load", "unsupported_file_type", f"not a page type newsclean reads: {Path(item.path).name}")
    path = Path(item.path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise PageError("load", "too_large", f"{size} bytes > limit {max_bytes}")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise PageError("load", "unreadable", f"{type(exc).__name__}: {exc}") from exc
    if len(data) > max_bytes:
        raise PageError("load", "too_large", f"more than {max_bytes} bytes")
    fmt = None if item.format == "sniff" else item.format
    return RawPage(source=item.path, data=data, name=path.name, format=fmt)

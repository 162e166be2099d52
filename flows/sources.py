"""Inputs -> units of work -> raw pages.

A *unit* is the piece of input a task processes and a completion marker names: a group of
up to ``run.batch_size`` files, or one WARC file (streamed), or a batch of URLs. Every unit
has a stable ``key`` so a rerun can tell finished work from unfinished work.
``iter_unit_pages`` turns a unit into ``RawPage`` objects, or ``LoadFailure`` placeholders for
inputs that could not be read, so that every input ends as exactly one row.

A PATH is a file or a folder walked recursively in sorted order (deterministic batches).
Hidden files and folders are skipped; files of an unsupported type are still listed so that
the run quarantines them with a reason instead of dropping them silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import xxhash

from cleaners.config import PipelineConfig
from cleaners.document import LoadFailure, PageError, RawPage, load_failure

# (suffix, format) pairs; each may also end in ".gz"
PAGE_SUFFIXES = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".xhtml": "html"}
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


class InputError(ValueError):
    """A path given on the command line does not exist or cannot be read."""


@dataclass(frozen=True)
class InputFile:
    path: str  # as a POSIX path string: the row's `source`
    format: str | None  # "html" | "text" | "warc" | "sniff" | None (unsupported)


@dataclass(frozen=True)
class Unit:
    """One task's worth of input, with a stable key for completion markers."""

    kind: str  # "files" | "warc" | "urls"
    items: tuple[str, ...]  # file paths or URLs
    formats: tuple[str | None, ...] = ()  # per item, for "files"
    stamp: str = ""  # the items' sizes and mtimes when planned: staged work is reused only for the same files

    @property
    def key(self) -> str:
        digest = xxhash.xxh3_64_hexdigest("\n".join((*self.items, self.stamp)).encode("utf-8", "surrogateescape"))
        return f"{self.kind}-{digest}"

    def __len__(self) -> int:
        return len(self.items)


def format_of(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(WARC_SUFFIXES):
        return "warc"
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return PAGE_SUFFIXES.get(os.path.splitext(lower)[1])


def source_key(path: Path) -> str:
    """The `source` recorded for a file: its absolute POSIX path (stable across working dirs)."""
    return path.resolve().as_posix()


def display_source(path: str) -> str:
    """A path as valid UTF-8 for the `source` column: undecodable name bytes become \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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


def stat_stamp(paths: Iterable[str]) -> str:
    """A digest of the paths' sizes and mtimes (missing files count as such)."""
    parts = []
    for p in paths:
        try:
            st = os.stat(p)
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return xxhash.xxh3_64_hexdigest("\n".join(parts).encode())


def plan_units(files: list[InputFile], cfg: PipelineConfig, urls: list[str] | None = None) -> list[Unit]:
    """Group inputs into units: file batches, one unit per WARC file, URL batches."""
    units: list[Unit] = []
    pages = [f for f in files if f.format != "warc"]
    size = cfg.run.batch_size
    for i in range(0, len(pages), size):
        chunk = pages[i : i + size]
        paths = tuple(f.path for f in chunk)
        units.append(Unit("files", paths, tuple(f.format for f in chunk), stat_stamp(paths)))
    units += [Unit("warc", (f.path,), stamp=stat_stamp([f.path])) for f in files if f.format == "warc"]
    urls = list(dict.fromkeys(urls or []))  # de-duplicated, order kept
    for i in range(0, len(urls), size):
        units.append(Unit("urls", tuple(urls[i : i + size])))
    return units


def file_fingerprint(size: int, mtime_ns: int, data: bytes | None) -> str:
    """``<size>:<mtime_ns>:<xxh3-128 of data>`` (``-`` when the bytes were not read): what the
    ledger records of a file input (flows/changes.py)."""
    digest = xxhash.xxh3_128_hexdigest(data) if data is not None else "-"
    return f"{size}:{mtime_ns}:{digest}"


def read_file_page(item: InputFile, max_bytes: int, fingerprints: dict[str, str] | None = None) -> RawPage:
    """Read one file (bounded); raise PageError(stage='load') with a reason on failure.

    ``fingerprints`` gets the file's fingerprint under its source, from the open file's stat
    and the bytes read (so it describes exactly what was cleaned).
    """
    source = display_source(item.path)
    path = Path(item.path)
    try:
        with path.open("rb") as fh:
            st = os.fstat(fh.fileno())
            if fingerprints is not None:
                fingerprints[source] = file_fingerprint(st.st_size, st.st_mtime_ns, None)
            if item.format is None:
                raise PageError("load", "unsupported_file_type", f"not a page type newsclean reads: {display_source(path.name)}")
            if st.st_size > max_bytes:
                raise PageError("load", "too_large", f"{st.st_size} bytes > limit {max_bytes}")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise PageError("load", "unreadable", f"{type(exc).__name__}: {exc}") from exc
    if len(data) > max_bytes:
        raise PageError("load", "too_large", f"more than {max_bytes} bytes")
    if fingerprints is not None:
        fingerprints[source] = file_fingerprint(st.st_size, st.st_mtime_ns, data)
    fmt = None if item.format == "sniff" else item.format
    return RawPage(source=source, data=data, name=display_source(path.name), format=fmt)


def iter_file_pages(unit: Unit, cfg: PipelineConfig, fingerprints: dict[str, str] | None = None) -> Iterator[RawPage | LoadFailure]:
    for path, fmt in zip(unit.items, unit.formats):
        try:
            yield read_file_page(InputFile(path, fmt), cfg.load.max_input_bytes, fingerprints)
        except PageError as err:
            yield load_failure(display_source(path), err)


def _unit_readers() -> dict[str, Callable[[Unit, PipelineConfig], Iterator[RawPage | LoadFailure]]]:
    readers: dict[str, Callable] = {"files": iter_file_pages}
    try:  # web sources and WARC arrive in their own modules
        from flows import warc

        readers["warc"] = lambda unit, cfg: warc.iter_warc_pages(unit.items[0], cfg)
    except ImportError:
        pass
    try:
        from flows import fetch

        readers["urls"] = lambda unit, cfg: fetch.fetch_pages(list(unit.items), cfg)
    except ImportError:
        pass
    return readers


def iter_unit_pages(unit: Unit, cfg: PipelineConfig) -> Iterator[RawPage | LoadFailure]:
    """Stream the pages of one unit; every input item yields exactly one page or failure."""
    reader = _unit_readers().get(unit.kind)
    if reader is None:
        for item in unit.items:
            yield load_failure(item, PageError("load", "unsupported_input", f"no reader for {unit.kind} inputs"))
        return
    yield from reader(unit, cfg)

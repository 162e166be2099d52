"""Inputs -> units of work -> raw pages.

A *unit* is the piece of input a task processes and a completion marker names: a group of
up to ``run.batch_size`` files, or one WARC file (streamed), or a batch of URLs. Every unit
has a stable ``key`` so a rerun can tell finished work from unfinished work.
``iter_file_pages`` turns a file unit into ``RawPage`` objects, or ``LoadFailure`` placeholders
for inputs that could not be read, so that every input ends as exactly one row (WARC and URL
units are read by flows/warc.py and flows/fetch.py; flows/staging.py picks the reader).

A PATH is a file or a folder walked recursively (inputs sorted by source: deterministic
batches). Hidden files and folders are skipped; files of an unsupported type are still listed so
that the run quarantines them with a reason instead of dropping them silently.

The ``source`` of a file is its resolved absolute path (see ``source_key``), written by
``display_source`` so that it is valid UTF-8 and one name gives one source; ``path_of_source``
turns it back into the path to open.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import xxhash

from cleaners.config import PipelineConfig
from cleaners.document import LoadFailure, PageError, RawPage, load_failure

# (suffix, format) pairs; each may also end in ".gz"
PAGE_SUFFIXES = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html", ".xhtml": "html"}
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
UNLISTED_FOLDER = "unlisted_folder"  # the InputFile format of a folder that could not be listed


class InputError(ValueError):
    """A path given on the command line does not exist or cannot be read."""


@dataclass(frozen=True)
class InputFile:
    path: str  # the row's `source` (see source_key); path_of_source(path) is the file to open
    format: str | None  # "html" | "text" | "warc" | "sniff" | UNLISTED_FOLDER | None (unsupported)


@dataclass(frozen=True)
class Unit:
    """One task's worth of input, with a stable key for completion markers."""

    kind: str  # "files" | "warc" | "urls"
    items: tuple[str, ...]  # file sources (path_of_source opens them) or URLs
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
    """The `source` recorded for a file: ``display_source`` of its resolved absolute POSIX path.

    Resolved, so that it is stable across working directories and one real file is one input:
    a file reached through a symlinked folder or file gets its target's path, and a file reached
    twice (two links to one folder, a folder given twice) is one input and one row. A link that
    cannot be resolved (dangling, or a loop of links) keeps its own path: it is the input, and
    it fails to load as ``unreadable``.
    """
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # Python < 3.13 raises RuntimeError for a loop of links
        real = path.parent.resolve() / path.name
    return display_source(real.as_posix())


# ESCAPED_RE: what display_source percent-encodes in a name decoded with surrogateescape: "%" and
# the escapes U+DC80..U+DCFF of undecodable bytes. "caf\udce9 100%" matches "\udce9" and "%";
# "café" does not match
ESCAPED_RE = re.compile("[%\udc80-\udcff]")
# PERCENT_RE: one escape path_of_source turns back into a byte. "%E9" matches; "%zz" does not
PERCENT_RE = re.compile("%([0-9A-Fa-f]{2})")


def display_source(path: str) -> str:
    """A path (as ``os.fsdecode`` gives it) as the valid UTF-8 string stored in `source`.

    The name's bytes are read as UTF-8; each byte that is not valid UTF-8 becomes ``%XX`` and
    ``%`` itself becomes ``%25``, the rest is kept: ``b"caf\\xe9.txt"`` -> ``"caf%E9.txt"``, a file
    literally named ``caf%E9.txt`` -> ``"caf%25E9.txt"``. So distinct names give distinct sources
    and ``path_of_source`` gives the path back.
    """
    text = os.fsencode(path).decode("utf-8", "surrogateescape")
    return ESCAPED_RE.sub(lambda m: "%25" if m[0] == "%" else f"%{ord(m[0]) - 0xDC00:02X}", text)


def path_of_source(source: str) -> str:
    """The inverse of ``display_source``: the path (``os.fsdecode`` form) of a file's source."""
    parts = PERCENT_RE.split(source)  # text, hex, text, hex, ..., text
    if "%" in "".join(parts[::2]):
        raise ValueError(f"not a file source: {source!r} has a % that starts no %XX escape")
    raw = b"".join(bytes.fromhex(part) if i % 2 else part.encode("utf-8") for i, part in enumerate(parts))
    return os.fsdecode(raw)


def discover_files(paths: list[str | Path]) -> list[InputFile]:
    """Walk the inputs; files given explicitly are kept whatever their suffix (sniffed later).

    Symlinked folders and files are followed. Each folder is walked once, told apart by the
    (st_dev, st_ino) of its target, so a link to an ancestor or two folders linking to each
    other end the walk instead of recursing forever. Nothing found is dropped: a dangling link
    or a loop of links is listed (it fails to load as ``unreadable``), and so is a folder that
    cannot be listed (format ``UNLISTED_FOLDER``: one ``unreadable`` row instead of its files).
    """
    found: dict[str, InputFile] = {}
    visited: set[tuple[int, int]] = set()
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise InputError(f"input path does not exist: {p}")
        if path.is_dir():
            _walk(path, found, visited)
        else:
            key = source_key(path)
            found[key] = InputFile(key, format_of(path.name) or "sniff")
    return [found[k] for k in sorted(found)]


def _walk(top: Path, found: dict[str, InputFile], visited: set[tuple[int, int]]) -> None:
    """Add the files under ``top`` to ``found`` (keyed by source), following symlinks."""
    folders = [top]
    while folders:
        folder = folders.pop()
        try:
            st = folder.stat()  # of the link's target: the identity of the folder walked
            if (st.st_dev, st.st_ino) in visited:
                continue
            visited.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            key = source_key(folder)
            found[key] = InputFile(key, UNLISTED_FOLDER)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()  # follows a symlink
            except OSError:  # a loop of links: listed as a file, which fails to open
                is_dir = False
            if is_dir:
                folders.append(folder / entry.name)
            else:
                key = source_key(folder / entry.name)
                found[key] = InputFile(key, format_of(entry.name))


def stat_stamp(sources: Iterable[str]) -> str:
    """A digest of the files' sizes and mtimes (missing files count as such)."""
    parts = []
    for s in sources:
        try:
            st = os.stat(path_of_source(s))
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except (OSError, ValueError):
            parts.append("-")
    return xxhash.xxh3_64_hexdigest("\n".join(parts).encode())


def plan_units(files: list[InputFile], cfg: PipelineConfig, urls: list[str] | None = None) -> list[Unit]:
    """Group inputs into units: file batches, one unit per WARC file, URL batches."""
    units: list[Unit] = []
    pages = [f for f in files if f.format != "warc"]
    size = cfg.run.batch_size
    for i in range(0, len(pages), size):
        chunk = pages[i : i + size]
        items = tuple(f.path for f in chunk)
        units.append(Unit("files", items, tuple(f.format for f in chunk), stat_stamp(items)))
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

    ``fingerprints`` gets the file's fingerprint under its source, from its stat and the bytes
    read (so it describes exactly what was cleaned).
    """
    path = Path(path_of_source(item.path))
    if item.format == UNLISTED_FOLDER:
        raise PageError("load", "unreadable", _unlisted_detail(path))
    try:
        st = path.stat()
        if fingerprints is not None:  # every file that exists gets one, read or not
            fingerprints[item.path] = file_fingerprint(st.st_size, st.st_mtime_ns, None)
        if item.format is None:
            raise PageError("load", "unsupported_file_type", f"not a page type newsclean reads: {Path(item.path).name}")
        if not stat.S_ISREG(st.st_mode):  # opening a fifo would block the run forever
            raise PageError("load", "unreadable", f"not a regular file (mode {stat.filemode(st.st_mode)})")
        size = st.st_size
        if size > max_bytes:
            raise PageError("load", "too_large", f"{size} bytes > limit {max_bytes}")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise PageError("load", "unreadable", unreadable_detail(path, exc)) from exc
    if len(data) > max_bytes:
        raise PageError("load", "too_large", f"more than {max_bytes} bytes")
    if fingerprints is not None:
        fingerprints[item.path] = file_fingerprint(st.st_size, st.st_mtime_ns, data)
    fmt = None if item.format == "sniff" else item.format
    modified = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).date()
    return RawPage(source=item.path, data=data, name=display_source(path.name), format=fmt, modified=modified)


def unreadable_detail(path: Path, exc: OSError) -> str:
    """The OS error, and the target of a link that does not resolve (dangling or a loop)."""
    detail = f"{type(exc).__name__}: {exc}"
    if path.is_symlink():
        detail = f"symlink to {display_source(os.readlink(path))}: {detail}"
    return detail


def _unlisted_detail(path: Path) -> str:
    """Why a folder could not be listed (asked again: the listing only kept that it failed)."""
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        return f"folder not listed, its files not read: {type(exc).__name__}: {exc}"
    return "folder not listed when the inputs were discovered, its files not read"


def iter_file_pages(unit: Unit, cfg: PipelineConfig, fingerprints: dict[str, str] | None = None) -> Iterator[RawPage | LoadFailure]:
    for path, fmt in zip(unit.items, unit.formats):
        try:
            yield read_file_page(InputFile(path, fmt), cfg.load.max_input_bytes, fingerprints)
        except PageError as err:
            yield load_failure(path, err)

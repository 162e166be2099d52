"""WARC / WARC.gz (and ARC) files -> raw pages, streamed record by record (warcio).

``iter_warc_pages(path, cfg, stats)`` yields one ``RawPage`` per HTML/text ``response`` record
with a 2xx status, and a ``LoadFailure`` for every record that should be a page but is not:

- ``http_<status>``: a 4xx/5xx response (an error page, not an article)
- ``warc_truncated``: the file ends inside the record (fewer bytes than its Content-Length)
- ``warc_digest_mismatch``: the WARC-Block-Digest does not match the bytes (corrupt record)
- ``too_large``: the payload is over ``load.max_input_bytes`` (the rest is skipped unread)
- ``warc_invalid``: a record that cannot be parsed (the reader then resynchronises on the next
  record start), or a file that claims to be a WARC and is not (one row for the file)
- ``warc_duplicate_record_id``: a record repeating the WARC-Record-ID of an earlier record that
  made a row, with other content (its source is ``<file>#<id>@<offset>``, the earlier one keeps
  ``<file>#<id>``)

Everything else (warcinfo, request, metadata, revisit, resource records, redirects, non-HTML
payloads) is skipped and counted in ``stats`` as ``warc.skipped_<why>``: they are not pages, so
they are not rejected rows. So is a second copy of a record (same headers and block), as
``warc.skipped_duplicate_record_id``: its first copy made the row. The source of a record is
``"<file's source>#<WARC-Record-ID>"`` (the file's source as ``flows.sources.source_key`` writes
it), or ``"<file's source>#@<offset>"`` for a record without an id and every record of an ARC file.
Memory stays bounded by one record's payload whatever the file size.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import xxhash
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from cleaners.config import PipelineConfig
from cleaners.document import LoadFailure, PageError, RawPage, load_failure, redact_url
from cleaners.steps import Stats
from flows.http import parse_content_type
from flows.sources import source_key, unreadable_detail

GZIP_MAGIC = b"\x1f\x8b\x08"
ARC_MAGIC = b"filedesc://"  # an ARC file starts with a filedesc record
WARC_MAGICS = (b"WARC/", ARC_MAGIC)
TEXT_TYPES = ("text/plain",)
# A record header block starts at a line "WARC/1.0" or "WARC/1.1" (resync target in plain files)
PLAIN_RECORD_START = b"\nWARC/1."
SCAN_CHUNK_BYTES = 1 << 20
READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError, IndexError, KeyError)


def _head(path: Path) -> bytes:
    """The first bytes of the file, inflated if it is gzip (only the first member's start)."""
    with path.open("rb") as fh:
        raw = fh.read(4096)
    if raw.startswith(GZIP_MAGIC):
        try:
            return zlib.decompressobj(31).decompress(raw, 64)
        except zlib.error:
            return b""
    return raw[:64]


def is_warc(path: str | Path) -> bool:
    """True if the file starts like a WARC/ARC (plain or gzip)."""
    return _head(Path(path)).lstrip().startswith(WARC_MAGICS)


def _drain(stream, max_bytes: int) -> bytes:
    """Read up to ``max_bytes + 1`` bytes (so the caller can tell "too large")."""
    parts: list[bytes] = []
    left = max_bytes + 1
    while left > 0:
        chunk = stream.read(min(left, 1 << 16))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _skip_rest(stream) -> None:
    while stream.read(1 << 16):
        pass


def _find_next_record(fh: BinaryIO, start: int, gz: bool, limit: int) -> int | None:
    """Offset of the next plausible record start at or after ``start`` (bounded scan)."""
    pos = start
    end = start + limit
    needle = GZIP_MAGIC if gz else PLAIN_RECORD_START
    while pos < end:
        fh.seek(pos)
        buf = fh.read(SCAN_CHUNK_BYTES + len(needle))
        if not buf:
            return None
        i = buf.find(needle)
        while i != -1:
            cand = pos + i + (0 if gz else 1)
            if not gz:
                return cand
            fh.seek(cand)
            try:
                head = zlib.decompressobj(31).decompress(fh.read(4096), 16)
            except zlib.error:
                head = b""
            if head.startswith(WARC_MAGICS):
                return cand
            i = buf.find(needle, i + 1)
        pos += SCAN_CHUNK_BYTES
    return None


def _inflate_member(fh: BinaryIO, start: int):
    """Inflate the gzip member at ``start`` to its end (output discarded); the finished
    decompressor, or None when the member is cut short or corrupt."""
    fh.seek(start)
    d = zlib.decompressobj(31)
    try:
        while not d.eof:
            chunk = fh.read(1 << 16)
            if not chunk:
                return None
            d.decompress(chunk)
    except zlib.error:
        return None
    return d


def _member_complete(fh: BinaryIO, start: int) -> bool:
    """Whether the gzip member at ``start`` inflates to its end (a whole record, not a cut tail)."""
    return _inflate_member(fh, start) is not None


def _unread_tail(fh: BinaryIO, last_start: int) -> int:
    """Bytes after the last gzip member warcio read (0 for a whole file): a cut or garbled tail.

    warcio ends quietly when the final member is cut short, so the reader re-inflates the last
    member it saw and checks that it ends cleanly at the end of the file.
    """
    d = _inflate_member(fh, last_start)
    if d is None:
        return 1  # the last member itself is incomplete
    tail = d.unused_data + fh.read(1 << 16)
    return len(tail.strip(b"\r\n\x00"))


def _record_page(rec, source: str, cfg: PipelineConfig, stats: Stats) -> RawPage | LoadFailure | None:
    """One record -> a page, a failure, or None (skipped and counted)."""
    rec_type = rec.rec_type or "unknown"
    url = redact_url(rec.rec_headers.get_header("WARC-Target-URI"))  # a crawl may have recorded credentials
    if rec_type != "response":
        stats.add(f"warc.skipped_{rec_type}")
        return None
    if rec.http_headers is None:
        stats.add("warc.skipped_non_http")
        return None
    status = rec.http_headers.get_statuscode() or ""
    if not status.isdigit():
        return load_failure(source, PageError("load", "warc_invalid", f"bad HTTP status line {status!r}"), url=url)
    code = int(status)
    if code >= 400:
        _skip_rest(rec.raw_stream)
        return load_failure(source, PageError("load", f"http_{code}", f"{url} answered {code} when crawled"), url=url)
    if code >= 300 or code < 200:
        stats.add("warc.skipped_redirect" if code >= 300 else "warc.skipped_status")
        return None
    mime, charset = parse_content_type(rec.http_headers.get_header("Content-Type"))
    if mime and mime not in cfg.warc.content_types:
        stats.add("warc.skipped_non_html")
        return None
    max_bytes = cfg.load.max_input_bytes
    body = _drain(rec.content_stream(), max_bytes)
    if len(body) > max_bytes:
        _skip_rest(rec.raw_stream)
        return load_failure(source, PageError("load", "too_large", f"payload over {max_bytes} bytes"), url=url)
    _skip_rest(rec.raw_stream)  # finish the block so the digest is checked and truncation shows
    missing = getattr(rec.raw_stream, "limit", 0)
    if missing:
        return load_failure(source, PageError("load", "warc_truncated", f"{missing} of {rec.length} bytes missing"), url=url)
    checker = getattr(rec, "digest_checker", None)
    if checker is not None and checker.passed is False:
        detail = "; ".join(str(p) for p in checker.problems)[:300]
        return load_failure(source, PageError("load", "warc_digest_mismatch", detail), url=url)
    name = urlsplit(url or "").path.rsplit("/", 1)[-1]
    fmt = "text" if mime in TEXT_TYPES else "html"
    seen = warc_date(rec.rec_headers.get_header("WARC-Date"))
    return RawPage(source=source, data=body, name=name, url=url, declared_charset=charset, format=fmt, seen=seen)


def warc_date(value: str | None) -> dt.date | None:
    """The UTC day of a WARC-Date header (W3C-DTF, "2024-03-05T10:20:30Z", fractions allowed);
    None when missing or unreadable ("yesterday", "")."""
    try:
        stamp = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc)
    return stamp.date()


def iter_warc_pages(path: str | Path, cfg: PipelineConfig, stats: Stats | None = None) -> Iterator[RawPage | LoadFailure]:
    """Stream the pages of one WARC file; see the module docstring for what is kept."""
    stats = stats if stats is not None else Stats()
    file = Path(path)
    base = source_key(file)
    try:
        head = _head(file)
    except OSError as exc:
        yield load_failure(base, PageError("load", "unreadable", unreadable_detail(file, exc)))
        return
    if not head.lstrip().startswith(WARC_MAGICS):
        yield load_failure(base, PageError("load", "warc_invalid", "not a WARC/ARC file"))
        return
    with file.open("rb") as raw_fh:
        gz = raw_fh.read(3) == GZIP_MAGIC
        raw_fh.seek(0)
        yield from _iter_stream(raw_fh, base, gz, cfg, stats, _Records(arc=head.lstrip().startswith(ARC_MAGIC)))


@dataclass
class _Records:
    """What the reader of one WARC file has handled, to tell a record id the file really repeats
    from a record read again.

    Restarts after a broken record scan forward from it, so they never meet a handled record
    again; only the whole-file gzip fallback reads the file again from its start, and its first
    ``replay`` records are the ones the chunked read had handled, in the same order.
    """

    arc: bool = False  # an ARC file: its records have no id (warcio makes a random one on every read)
    handled: int = 0
    replay: int = 0
    fingerprints: dict[str, set[str]] = field(default_factory=dict)  # record id -> its records' contents
    row_at: dict[str, int] = field(default_factory=dict)  # record id -> offset of the record whose row is "<file>#<id>"


class _Hashing:
    """A record's raw stream that hashes the bytes read through it (the block as stored)."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self.hash = xxhash.xxh3_64()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.hash.update(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._stream.readline(size)
        self.hash.update(data)
        return data

    def __getattr__(self, name: str):
        return getattr(self._stream, name)  # limit, close, ... of warcio's reader


def _fingerprint(rec, block: _Hashing) -> str:
    """The record's headers and block, hashed: equal for two copies of one record."""
    http = rec.http_headers
    head = repr((rec.rec_type, rec.rec_headers.headers, http.statusline if http else None, http.headers if http else None))
    return f"{xxhash.xxh3_64_hexdigest(head.encode('utf-8', 'surrogatepass'))}-{block.hash.hexdigest()}"


def _repeat(item: RawPage | LoadFailure, source: str, rid: str, offset: int, first: int) -> LoadFailure:
    """The row of a record whose id an earlier record with other content has (and whose row
    already is ``source``): rejected under a source of its own, saying what it would have been."""
    page = item.page if isinstance(item, LoadFailure) else item
    was = f"rejected as {item.error.reason}" if isinstance(item, LoadFailure) else "a page"
    detail = f"the record at offset {offset} repeats WARC-Record-ID {rid} of the record at offset {first} with other content (it is {was})"
    return load_failure(f"{source}@{offset}", PageError("load", "warc_duplicate_record_id", detail), url=page.url)


def _iter_stream(fh: BinaryIO, base: str, gz: bool, cfg: PipelineConfig, stats: Stats, records: _Records) -> Iterator[RawPage | LoadFailure]:
    start = 0
    while True:
        fh.seek(start)
        it = ArchiveIterator(fh, check_digests=cfg.warc.check_digests, arc2warc=True)
        failed_at: int | None = None
        last_truncated = False
        last_start = start  # resync scans from just after the last record that began to parse
        try:
            for rec in it:
                last_start = it.offset  # absolute: warcio counts from the file position it started at
                if records.replay:  # the whole-file gzip fallback meets a record the chunked read handled
                    records.replay -= 1
                    continue
                records.handled += 1
                stats.add("warc.records")
                rid = None if records.arc else rec.rec_headers.get_header("WARC-Record-ID")
                rid = rid or f"@{it.offset}"  # the record's offset: the same on every read
                source = f"{base}#{rid}"
                block = rec.raw_stream = _Hashing(rec.raw_stream)
                counted = Stats()  # its skip counter, kept only if the record is not an exact repeat
                fingerprint: str | None = None
                try:
                    item = _record_page(rec, source, cfg, counted)
                    _skip_rest(block)  # the whole block, for the fingerprint
                    fingerprint = _fingerprint(rec, block)
                except READ_ERRORS as exc:  # a row, so not counted as skipped too
                    item = load_failure(source, PageError("load", "warc_invalid", f"{type(exc).__name__}: {exc}"[:300]))
                    counted, failed_at = Stats(), it.offset
                known = records.fingerprints.setdefault(rid, set())
                if fingerprint in known:  # the file holds this record twice: its first copy counts
                    stats.add("warc.skipped_duplicate_record_id")
                    continue
                if fingerprint is not None:
                    known.add(fingerprint)
                stats.counters.update(counted.counters)
                if item is not None and rid in records.row_at:
                    item = _repeat(item, source, rid, it.offset, records.row_at[rid])
                elif item is not None:
                    records.row_at[rid] = it.offset
                last_truncated = isinstance(item, LoadFailure) and item.error.reason == "warc_truncated"
                if item is not None:
                    yield item
                if failed_at is not None:
                    break
        except READ_ERRORS as exc:
            message = " ".join(str(exc).split())
            if gz and "non-chunked gzip" in message:
                # one gzip stream over the whole file: read it inflated (still streamed), skipping
                # the records the chunked read handled before it met the stream
                stats.add("warc.whole_file_gzip")
                records.replay = records.handled
                with gzip.open(fh.name, "rb") as inflated:
                    yield from _iter_stream(inflated, base, False, cfg, stats, records)
                return
            failed_at = last_start
            yield load_failure(f"{base}#@{it.offset}", PageError("load", "warc_invalid", f"{type(exc).__name__}: {message}"[:300]))
        if failed_at is None:
            if gz and not last_truncated and _unread_tail(fh, last_start):
                # warcio also stops quietly at garbage that merely looks like a gzip member: when a
                # readable record follows, the bytes in between are a broken record, not a cut tail
                nxt = _find_next_record(fh, last_start + 1, gz, cfg.warc.max_resync_bytes)
                if nxt is not None and nxt > last_start and _member_complete(fh, nxt):
                    stats.add("warc.resyncs")
                    yield load_failure(f"{base}#@{last_start}+", PageError("load", "warc_invalid", "unreadable bytes between records"))
                    start = nxt
                    continue
                yield load_failure(f"{base}#@{last_start}+", PageError("load", "warc_truncated", "file ends inside a record"))
            return
        stats.add("warc.resyncs")
        nxt = _find_next_record(fh, failed_at + 1, gz, cfg.warc.max_resync_bytes)
        if nxt is None:
            return
        start = nxt

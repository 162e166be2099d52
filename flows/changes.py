"""Which inputs a run must (re)process, from the ledger of committed inputs.

The ledger (``inputs`` table, ``cleaners.schema.INPUTS_SCHEMA``) holds one row per committed
input: its fingerprint, the cleaning config it was processed with, and whether it asked for a
retry. An input is processed again when

- it is new (no ledger row), or the ledger row's fingerprint no longer matches the file
  (``changed``), or the cleaning config differs (``config``), or its last outcome was transient
  (``retry``: unreadable, a fetch timeout or 5xx, an internal error);
- it shares a story cluster with an input that is being replaced or has vanished
  (``cluster``): the cluster's canonical and copies are decided again from all its members;
- it joined, as a copy, a story cluster that an earlier run had published (``settle``): a
  second pass of the same run decides that cluster again from all its members, as a fresh run
  over them would (members that are records of WARC archives are not re-read: there the
  published canonical stays).

Inputs under a given folder that the ledger knows but the folder no longer holds have
``vanished``: their rows are removed. Fingerprints follow git's index: a file whose size and
mtime match the ledger, and whose mtime is not within ``RACY_SECONDS`` of the commit that
recorded it, is unchanged without being read; otherwise its bytes are hashed and compared.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import xxhash

from cleaners import schema as S
from cleaners.config import PipelineConfig
from cleaners.document import make_doc_id
from flows.sources import InputFile, file_fingerprint, format_of, path_of_source

# Config sections that do not change what a page becomes (how pages are fetched, batched and
# guarded): changing them reprocesses nothing.
OPERATIONAL_SECTIONS = ("run", "fetch", "guard")
# Files up to this size are hashed whole when their stat does not prove them unchanged; larger
# ones (WARC archives) are judged by size and mtime alone.
MAX_HASHED_BYTES = 64 * 1024 * 1024
# A file modified this close to (or after) the commit that recorded it may have changed again
# within the mtime's resolution: its stat proves nothing (git's "racy" entries).
RACY_SECONDS = 2.0
# Failure reasons that say nothing about the input itself: the next run tries again. HTTP
# statuses count only when the fetcher met them (a WARC's archived 503 is a fact, not a glitch).
TRANSIENT_REASONS = ("unreadable", "internal_error")
TRANSIENT_FETCH_REASONS = ("timeout", "connection_error", "dns_error", "http_408", "http_429")
MAX_CLOSURE_ROUNDS = 5  # a story cluster pulls in its members, whose WARC files pull in theirs


def cleaning_config_hash(cfg: PipelineConfig) -> str:
    """Hash of every setting that can change a row (all but OPERATIONAL_SECTIONS)."""
    data = {k: v for k, v in cfg.to_dict().items() if k not in OPERATIONAL_SECTIONS}
    return xxhash.xxh3_64_hexdigest(json.dumps(data, sort_keys=True, default=str).encode())


def is_transient(reason: pl.Expr, stage: pl.Expr) -> pl.Expr:
    """Rows whose failure says nothing about the input (retried by the next run)."""
    fetch = (stage == "fetch") & (reason.is_in(list(TRANSIENT_FETCH_REASONS)) | reason.str.starts_with("http_5"))
    return reason.is_in(list(TRANSIENT_REASONS)) | fetch


def fingerprint_path(path: str | Path, hash_limit: int = MAX_HASHED_BYTES) -> str:
    """The fingerprint of a file as it is now ("" when it cannot be read)."""
    try:
        st = os.stat(path)
        data = None
        if st.st_size <= hash_limit:
            with open(path, "rb") as fh:
                data = fh.read(hash_limit + 1)
    except OSError:
        return ""
    return file_fingerprint(st.st_size, st.st_mtime_ns, data)


def unchanged(source: str, recorded: str, committed_at: dt.datetime | None) -> bool:
    """True when the file behind ``source`` still holds what the ledger recorded."""
    try:
        size, mtime_ns, digest = recorded.split(":")
        path = path_of_source(source)
        st = os.stat(path)
    except (ValueError, OSError):
        return False
    committed_ns = int(committed_at.timestamp() * 1e9) if committed_at else 0
    racy = st.st_mtime_ns >= committed_ns - int(RACY_SECONDS * 1e9)
    if st.st_size == int(size) and st.st_mtime_ns == int(mtime_ns) and not racy:
        return True
    if digest == "-" or st.st_size != int(size):
        return False
    return fingerprint_path(path).rsplit(":", 1)[-1] == digest


# WARC_RECORD_SUFFIX_RE: the tail a WARC record's source adds to its archive's path: a record id
# (with the offset of a later record reusing it), or the offset of a broken or ARC record.
# "#<urn:uuid:1>", "#<urn:uuid:1>@2048" and "#@512+" match; "#notes.txt" does not
WARC_RECORD_SUFFIX_RE = r"#(?:<[^<>#]*>(?:@\d+)?|@\d+\+?)$"


def input_of_row(source: pl.Expr) -> pl.Expr:
    """The input a row came from, from its source alone (a WARC record's: its archive)."""
    return source.str.replace(WARC_RECORD_SUFFIX_RE, "")


@dataclass
class Plan:
    """What a run does with its inputs."""

    files: list[InputFile] = field(default_factory=list)  # to process, in path order
    urls: list[str] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)  # inputs (as stored) whose old rows are replaced
    vanished: list[str] = field(default_factory=list)  # inputs whose rows are removed
    skipped: set[str] = field(default_factory=set)  # inputs already committed and unchanged
    reasons: Counter = field(default_factory=Counter)  # why inputs are processed: new, changed, ...
    members: set[str] = field(default_factory=set)  # inputs pulled in as members of touched clusters

    def summary(self) -> dict[str, int]:
        return {"skipped": len(self.skipped), "vanished": len(self.vanished), **{f"inputs_{k}": v for k, v in self.reasons.items()}}


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def plan_inputs(
    files: list[InputFile],
    urls: list[str],
    roots: list[str],
    ledger: pl.DataFrame,
    config_hash: str,
    force: bool = False,
    settle_only: bool = False,
    row_inputs: Iterable[str] = (),
) -> Plan:
    """Decide which ``files`` and ``urls`` to process.

    ``ledger``: the ledger rows of these inputs and of every input under ``roots`` (the given
    folders and files, as stored), whose inputs the folders no longer hold have vanished.
    ``row_inputs``: the inputs (files, WARC archives) of the rows the tables hold under ``roots``,
    which vanish with their input even when no ledger row records them (a backfill's, or a
    killed run's). ``force`` (a backfill) processes every given input; ``settle_only`` (a run's
    second pass) only those whose ledger row asks for their cluster to be settled.
    """
    by_input = {r[S.INPUT]: r for r in ledger.iter_rows(named=True)}
    plan = Plan()
    todo: dict[str, InputFile] = {}
    for f in files:
        key = f.path
        row = by_input.get(key)
        reason = _reason(row, config_hash, force)
        if reason is None and row is not None and not unchanged(f.path, row[S.FINGERPRINT], row[S.COMMITTED_AT]):
            reason = "changed"
        if settle_only and reason != "settle":
            reason = None
        _take(plan, key, row, reason)
        if reason is not None:
            todo[key] = f
    for url in dict.fromkeys(urls):
        row = by_input.get(url)
        reason = _reason(row, config_hash, force)
        if settle_only and reason != "settle":
            reason = None
        _take(plan, url, row, reason)
        if reason is not None:
            plan.urls.append(url)
    present = {f.path for f in files}
    known = {r[S.INPUT] for r in by_input.values() if r[S.KIND] != "url"} | set(row_inputs)
    plan.vanished = sorted(i for i in known if i not in present and _under(i, roots))
    plan.files = sorted(todo.values(), key=lambda f: f.path)
    return plan


def _reason(row: dict | None, config_hash: str, force: bool) -> str | None:
    """Why an input is processed, from its ledger row (None: unchanged so far)."""
    if row is None:
        return "new"
    if force:
        return "forced"
    if row[S.SETTLE]:
        return "settle"
    if row[S.RETRY]:
        return "retry"
    if row[S.CONFIG_HASH] != config_hash:
        return "config"
    return None


def _take(plan: Plan, key: str, row: dict | None, reason: str | None) -> None:
    if reason is None:
        plan.skipped.add(key)
        return
    plan.reasons[reason] += 1
    if row is not None:
        plan.replaced.add(key)


def _exists(source: str) -> bool:
    try:
        return os.path.exists(path_of_source(source))
    except ValueError:  # not a source this version writes
        return False


def add_cluster_members(plan: Plan, members: Callable[[list[str]], list[tuple[str, str]]], with_warcs: bool = True) -> None:
    """Add the current members of every cluster a replaced or vanished input belonged to, so
    each such cluster's canonical and copies are decided again from all its members.

    ``members(inputs)`` gives ``(input, kind)`` of every row that shares a cluster with a row of
    ``inputs`` (the storage reads the tables). A member whose file is gone is left as it is, and
    so is a WARC archive without ``with_warcs``.
    """
    todo = {f.path: f for f in plan.files}
    urls = dict.fromkeys(plan.urls)
    frontier = sorted(plan.replaced | set(plan.vanished))
    for _ in range(MAX_CLOSURE_ROUNDS):
        added = []
        for inp, kind in members(frontier):
            if inp in todo or inp in urls or inp in plan.vanished:
                continue
            if kind == "url":
                urls[inp] = None
            elif kind == "warc" and not with_warcs:
                continue
            elif _exists(inp):
                todo[inp] = InputFile(inp, "warc" if kind == "warc" else format_of(Path(inp).name) or "sniff")
            else:
                continue
            plan.skipped.discard(inp)
            plan.replaced.add(inp)
            plan.reasons["cluster"] += 1
            plan.members.add(inp)
            added.append(inp)
        if not added:
            break
        frontier = added
    plan.files = sorted(todo.values(), key=lambda f: f.path)
    plan.urls = list(urls)


def ledger_rows(inputs: pl.DataFrame, config_hash: str, now: dt.datetime) -> pl.DataFrame:
    """INPUTS_SCHEMA rows of processed inputs (``inputs``: input, kind, fingerprint, retry, settle)."""
    return S.conform(
        inputs.with_columns(
            pl.col(S.INPUT).map_elements(make_doc_id, return_dtype=pl.String).alias(S.DOC_ID),
            pl.lit(config_hash).alias(S.CONFIG_HASH),
            pl.lit(now, dtype=S.TIMESTAMP).alias(S.COMMITTED_AT),
        ),
        S.INPUTS_SCHEMA,
    )

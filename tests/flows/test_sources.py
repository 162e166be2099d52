"""Discovery of file inputs: symlinks, loops, unreadable folders and file names that are not UTF-8.

Every file reachable from ``--input`` is one input and ends as exactly one row, under a
``source`` that is valid UTF-8 and names that file alone.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cleaners.config import parse_config
from cleaners.document import LoadFailure, RawPage
from cleaners.steps import Stats
from flows.cli import app
from flows.sources import UNLISTED_FOLDER, InputFile, discover_files, display_source, path_of_source, plan_units
from flows.staging import unit_pages

runner = CliRunner()
CFG = parse_config()
TABLES = ("articles", "duplicates", "rejected")


def _tree_with_links(tmp_path: Path) -> tuple[Path, Path]:
    """raw/ with a file, a symlinked folder outside raw, links that loop and a dangling link."""
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    (raw / "sub").mkdir(parents=True)
    (outside / "deeper").mkdir(parents=True)
    (raw / "a.txt").write_text("a")
    (outside / "b.txt").write_text("b")
    (outside / "deeper" / "c.txt").write_text("c")
    (raw / "linked").symlink_to(outside, target_is_directory=True)
    (raw / "linked_again").symlink_to(outside, target_is_directory=True)  # one folder reached twice
    (raw / "sub" / "up").symlink_to(raw, target_is_directory=True)  # a link to an ancestor
    (outside / "deeper" / "back").symlink_to(outside, target_is_directory=True)  # a loop through the link
    (raw / "gone.txt").symlink_to(tmp_path / "nowhere.txt")  # dangling
    (raw / "loop1.txt").symlink_to(raw / "loop2.txt")  # two links to each other
    (raw / "loop2.txt").symlink_to(raw / "loop1.txt")
    return raw, outside


def _read_all(files: list[InputFile]) -> list[RawPage | LoadFailure]:
    return [item for unit in plan_units(files, CFG) for item in unit_pages(unit, CFG, Stats(), {}, {})]


def test_symlinked_folders_are_walked_once_and_links_that_fail_are_listed(tmp_path):
    raw, outside = _tree_with_links(tmp_path)
    files = discover_files([raw])
    sources = [f.path for f in files]
    real = tmp_path.resolve()
    # files reached through a link get their target's path; a file reached twice is one input
    assert sources == sorted(
        [
            f"{real}/outside/b.txt",
            f"{real}/outside/deeper/c.txt",
            f"{real}/raw/a.txt",
            f"{real}/raw/gone.txt",
            f"{real}/raw/loop1.txt",
            f"{real}/raw/loop2.txt",
        ]
    )
    items = {(i.page.source if isinstance(i, LoadFailure) else i.source): i for i in _read_all(files)}
    assert len(items) == len(files)
    assert isinstance(items[f"{real}/outside/deeper/c.txt"], RawPage)
    gone = items[f"{real}/raw/gone.txt"]
    assert isinstance(gone, LoadFailure) and gone.error.reason == "unreadable"
    assert gone.error.detail.startswith(f"symlink to {real}/nowhere.txt: FileNotFoundError")
    loop = items[f"{real}/raw/loop1.txt"]
    assert isinstance(loop, LoadFailure) and loop.error.reason == "unreadable" and "symbolic links" in loop.error.detail


def test_an_input_given_through_a_link_and_directly_is_one_input(tmp_path):
    raw, outside = _tree_with_links(tmp_path)
    assert discover_files([raw, outside, raw / "linked" / "b.txt"]) == discover_files([raw])


def test_a_folder_that_cannot_be_listed_is_one_unreadable_row(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    (raw / "locked").mkdir(parents=True)
    (raw / "locked" / "x.txt").write_text("x")
    (raw / "a.txt").write_text("a")
    scandir = os.scandir
    locked = str(raw / "locked")

    def refusing(path="."):
        if os.fspath(path) == locked:  # as for a folder without read permission (tests run as root)
            raise PermissionError(13, "Permission denied", locked)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    files = discover_files([raw])
    assert files == [InputFile(f"{raw.resolve()}/a.txt", "text"), InputFile(f"{raw.resolve()}/locked", UNLISTED_FOLDER)]
    failure = _read_all(files)[1]
    assert isinstance(failure, LoadFailure) and failure.page.source == f"{raw.resolve()}/locked"
    assert failure.error.reason == "unreadable" and "PermissionError" in failure.error.detail


@pytest.mark.timeout(60)
def test_a_fifo_is_an_unreadable_row_not_a_hang(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    os.mkfifo(raw / "pipe.txt")
    [failure] = _read_all(discover_files([raw]))
    assert isinstance(failure, LoadFailure) and failure.error.reason == "unreadable"
    assert failure.error.detail.startswith("not a regular file (mode p")


NAMES = [b"caf\xe9.txt", b"caf\xe8.txt", b"caf\\xe9.txt", b"caf%E9.txt", "café.txt".encode()]


def _write_names(raw: Path, contents: list[bytes]) -> None:
    raw.mkdir(parents=True)
    for name, data in zip(NAMES, contents):
        with open(os.fsencode(raw) + b"/" + name, "wb") as fh:
            fh.write(data)


def test_names_that_are_not_utf8_get_distinct_sources(tmp_path):
    """Undecodable bytes are %XX and "%" is %25: no two names share a source, each reads back."""
    raw = tmp_path / "raw"
    _write_names(raw, [bytes([65 + i]) for i in range(len(NAMES))])
    pages = _read_all(discover_files([raw]))
    names = {p.source.rsplit("/", 1)[1]: p.data for p in pages if isinstance(p, RawPage)}
    assert names == {"caf%E9.txt": b"A", "caf%E8.txt": b"B", "caf\\xe9.txt": b"C", "caf%25E9.txt": b"D", "café.txt": b"E"}
    for page in pages:
        page.source.encode("utf-8")  # valid UTF-8 for the Parquet column
        assert path_of_source(page.source) == os.fsdecode(os.fsencode(raw.resolve()) + b"/" + NAMES[ord(page.data) - 65])


def test_plain_names_keep_their_source():
    """Sources (and so doc_ids and the keys of completion markers) of UTF-8 names without "%" are their paths."""
    assert display_source("/data/raw/a b-ü\\.txt") == path_of_source("/data/raw/a b-ü\\.txt") == "/data/raw/a b-ü\\.txt"


def test_path_of_source_refuses_a_stray_percent():
    with pytest.raises(ValueError, match="no %XX escape"):
        path_of_source("/data/100%.txt")


# --- end to end: `newsclean run` over links and odd names -----------------------------------


def _rows_by_source(out: Path) -> Counter:
    """source -> number of rows over the three tables (each input must be exactly one)."""
    counts: Counter = Counter()
    for table in TABLES:
        counts.update(pl.read_delta(str(out / table))["source"].to_list())
    return counts


@pytest.mark.flows
@pytest.mark.timeout(120)
def test_run_reads_every_file_through_links_once_and_does_not_hang_on_loops(tmp_path, seeds_dir):
    raw, outside = _tree_with_links(tmp_path)
    seeds = sorted(seeds_dir.glob("*.txt"))
    for seed, dest in zip(seeds, [raw / "a.txt", outside / "b.txt", outside / "deeper" / "c.txt"]):
        shutil.copy(seed, dest)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "--input", str(raw), "--output", str(out), "--json", "--no-progress"])
    assert res.exit_code == 0, res.output
    real = tmp_path.resolve()
    expected = {f"{real}/{name}" for name in ("raw/a.txt", "outside/b.txt", "outside/deeper/c.txt", "raw/gone.txt", "raw/loop1.txt", "raw/loop2.txt")}
    assert _rows_by_source(out) == Counter(expected)
    rejected = pl.read_delta(str(out / "rejected"))
    assert sorted(rejected["source"].to_list()) == sorted(s for s in expected if "gone" in s or "loop" in s)
    assert set(rejected["reason"].to_list()) == {"unreadable"}


@pytest.mark.flows
def test_run_keeps_names_that_differ_only_in_undecodable_bytes_apart(tmp_path, seeds_dir):
    raw = tmp_path / "raw"
    _write_names(raw, [p.read_bytes() for p in sorted(seeds_dir.glob("*.txt"))])
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", "--input", str(raw), "--output", str(out), "--json", "--no-progress"])
    assert res.exit_code == 0, res.output
    base = raw.resolve().as_posix()
    assert _rows_by_source(out) == Counter(f"{base}/{name}" for name in ("caf%E9.txt", "caf%E8.txt", "caf\\xe9.txt", "caf%25E9.txt", "café.txt"))

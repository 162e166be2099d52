"""Hostile inputs: every one is accounted for, the run ends in bounded time and memory.

The run is a real `newsclean run` subprocess (pointed at the session's Prefect test server);
a small wrapper reports the peak RSS of the run and everything it starts.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import time
import zlib
from pathlib import Path

import polars as pl
import pytest

pytestmark = [pytest.mark.flows, pytest.mark.slow]

MAX_RSS_MB = 2048
MAX_SECONDS = 600
PROSE = (
    "The regional council said on Monday that the new bridge over the river would open next spring, "
    "two years later than planned, because of rising costs and a shortage of steel. "
)

WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:])\n"
    "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


def _gzip_bomb(path: Path, inflated: int) -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    chunk = b"\0" * (1 << 20)
    with path.open("wb") as fh:
        for _ in range(inflated // len(chunk)):
            fh.write(comp.compress(chunk))
        fh.write(comp.flush())


def _truncated_gzip(rnd: random.Random) -> bytes:
    words = PROSE.split()
    html = "<html><body>" + "".join(f"<p>{' '.join(rnd.choice(words) for _ in range(60))}</p>" for _ in range(80)) + "</body></html>"
    data = gzip.compress(html.encode())
    return data[: len(data) // 2]


def make_hostile(raw: Path) -> dict[str, str | None]:
    """Write the hostile files; return name -> expected table ('articles' or 'rejected') or None (any)."""
    rnd = random.Random(3)
    good = ("A bridge opens late\n\n" + PROSE * 8).encode()
    files: dict[str, tuple[bytes, str | None]] = {
        "empty.txt": (b"", "rejected"),
        "random.txt": (bytes(rnd.getrandbits(8) for _ in range(200_000)), "rejected"),
        "invalid_utf8.txt": (good.replace(b"bridge", b"br\xffdge\xfe"), "articles"),
        "latin1.html": (
            ("<html><head><title>Café crème à Noël</title></head><body><article><h1>Café crème à Noël</h1>"
             + "<p>" + PROSE.replace("council", "conseil général café") + "</p>" * 1
             + "".join(f"<p>{PROSE} Paragraphe numéro {i}, déjà vu.</p>" for i in range(6))
             + "</article></body></html>").encode("latin-1"),
            "articles",
        ),
        "utf16.txt": ("\ufeff".encode("utf-16-le") + good.decode().encode("utf-16-le"), "articles"),
        "nul.txt": (good.replace(b" ", b" \x00"), "articles"),
        "one_line.txt": ((PROSE.replace("\n", " ") * 70_000).encode()[: 10 * 1024 * 1024], "rejected"),
        "huge.html": (b"<html><body>" + (b"<div><p>" + PROSE.encode() + b"</p></div>") * 190_000 + b"</body></html>", "rejected"),
        "deep.html": (b"<html><body>" + b"<div>" * 6000 + PROSE.encode() * 5 + b"</div>" * 6000 + b"</body></html>", None),
        "script_only.html": (b"<html><head><script>" + b"var x = 1;" * 50_000 + b"</script></head><body></body></html>", "rejected"),
        "truncated.html.gz": (_truncated_gzip(rnd), "rejected"),
        "fake.warc.gz": (gzip.compress(b"this is not a WARC file at all\n" * 100), "rejected"),
        "notes.json": (b"{}", "rejected"),
        "we ird – näme.txt": (good, "articles"),
        "-leading-dash.txt": (good.replace(b"bridge", b"tunnel"), None),
    }
    expected: dict[str, str | None] = {}
    for name, (data, where) in files.items():
        (raw / name).write_bytes(data)
        expected[name] = where
    _gzip_bomb(raw / "bomb.txt.gz", int(1.5 * 1024**3))
    expected["bomb.txt.gz"] = "rejected"
    odd = os.fsencode(str(raw)) + b"/bad-\xff-bytes.txt"
    with open(odd, "wb") as fh:
        fh.write(good.replace(b"bridge", b"ferry"))
    expected["bad-%FF-bytes.txt"] = None  # the undecodable byte as display_source writes it
    return expected


def test_hostile_inputs_accounted_for(tmp_path):
    from prefect.settings import PREFECT_API_URL

    raw = tmp_path / "raw"
    raw.mkdir()
    expected = make_hostile(raw)
    out = tmp_path / "clean"
    env = dict(os.environ, PREFECT_API_URL=PREFECT_API_URL.value())
    cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "flows.cli", "run", "--input", str(raw), "--output", str(out), "--json", "--no-progress"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=MAX_SECONDS, cwd=Path(__file__).parents[2])
    elapsed = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr[-4000:]
    maxrss_mb = int(res.stderr.rsplit("MAXRSS_KB", 1)[1].split()[0]) / 1024
    assert maxrss_mb < MAX_RSS_MB, f"peak RSS {maxrss_mb:.0f} MB"
    summary = json.loads(res.stdout[res.stdout.index("{") :])
    tables = {t: pl.read_delta(str(out / t)) for t in ("articles", "duplicates", "rejected")}
    where: dict[str, str] = {}
    for t, df in tables.items():
        for src in df["source"].to_list():
            name = src.rsplit("/", 1)[-1]
            assert name not in where, f"{name} is in {where[name]} and {t}"
            where[name] = t
    assert set(where) == set(expected), set(expected) ^ set(where)
    for name, table in expected.items():
        if table == "articles":
            assert where[name] in ("articles", "duplicates"), (name, where[name])
        elif table == "rejected":
            assert where[name] == "rejected", (name, where[name])
    rejected = tables["rejected"]
    assert rejected["reason"].null_count() == 0 and rejected["stage"].null_count() == 0
    reasons = dict(zip([s.rsplit("/", 1)[-1] for s in rejected["source"]], rejected["reason"]))
    assert reasons["bomb.txt.gz"] == "too_large_inflated"
    assert reasons["truncated.html.gz"] == "truncated_gzip"
    assert reasons["empty.txt"] == "empty"
    assert summary["rejected"] == rejected.height
    print(f"hostile run: {elapsed:.1f} s, peak RSS {maxrss_mb:.0f} MB, reasons {reasons}")

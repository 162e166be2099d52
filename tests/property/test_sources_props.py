"""Property checks for the `source` of a file (flows.sources.display_source)."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from flows.sources import display_source, path_of_source

# file names as the OS gives them: any bytes but NUL, with "%", "\\", "/" and UTF-8 pieces often
NAME_BYTES = st.lists(
    st.one_of(st.binary(min_size=1, max_size=4), st.sampled_from([b"%", b"%E9", b"\\xe9", b"/", "é".encode(), "€".encode()[:2], b"\xff"]))
).map(lambda parts: b"".join(parts).replace(b"\0", b""))


@given(NAME_BYTES)
def test_source_is_utf8_and_gives_the_path_back(name: bytes) -> None:
    path = os.fsdecode(name)
    source = display_source(path)
    source.encode("utf-8")  # no lone surrogates: valid UTF-8 for the Parquet column
    assert path_of_source(source) == path
    assert os.fsencode(path_of_source(source)) == name


@given(NAME_BYTES, NAME_BYTES)
def test_distinct_names_give_distinct_sources(a: bytes, b: bytes) -> None:
    assert (display_source(os.fsdecode(a)) == display_source(os.fsdecode(b))) == (a == b)


@given(st.binary(min_size=1).map(lambda b: b.replace(b"\0", b"\1")), st.data())
def test_names_one_byte_apart_give_distinct_sources(name: bytes, data) -> None:
    i = data.draw(st.integers(0, len(name) - 1))
    byte = data.draw(st.integers(1, 255).filter(lambda b: b != name[i]))
    other = name[:i] + bytes([byte]) + name[i + 1 :]
    assert display_source(os.fsdecode(name)) != display_source(os.fsdecode(other))

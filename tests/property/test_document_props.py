"""Property checks for cleaners.document helpers."""

from __future__ import annotations

import xxhash
from hypothesis import given
from hypothesis import strategies as st

from cleaners.document import NORM_SPACE_RE, make_content_hash

SPACED = st.text(alphabet=st.sampled_from(list("aB \t\n\r\x0b\x1c") + ["\u00a0", "\u2028", "\u3000", "İ", "ß"]))


@given(st.one_of(st.text(), SPACED))
def test_content_hash_is_regex_normalised(text: str) -> None:
    norm = NORM_SPACE_RE.sub(" ", text.casefold()).strip()
    assert make_content_hash(text) == xxhash.xxh3_128_hexdigest(norm.encode("utf-8", "surrogatepass"))

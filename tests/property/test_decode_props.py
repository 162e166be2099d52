"""The binary-share fast path equals the plain per-character definition."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners import decode


def reference_binary_ratio(text: str, sample_chars: int = 65536) -> float:
    sample = text[:sample_chars]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ch not in decode.TEXT_CONTROLS and unicodedata.category(ch) in decode.NON_TEXT_CATEGORIES)
    return (bad + sample.count("\ufffd")) / len(sample)


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_binary_ratio_fast_path_matches_reference(text):
    assert decode._binary_ratio(text) == reference_binary_ratio(text)


@given(st.text(alphabet=st.sampled_from("ab \t\n\x00\x07\ufffd\ue000é")))
def test_binary_ratio_on_mixed_controls(text):
    assert decode._binary_ratio(text) == reference_binary_ratio(text)

"""Property checks for cleaners.punctuation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.config import PunctuationConfig
from cleaners.punctuation import repair_semicolons

CFG = PunctuationConfig()
WORDS = st.sampled_from(
    ["the", "in", "but", "who", "which", "and", "Borisov", "NASA", "said", "stated", "amid", "so", "you", "it", "was"]
)
SEPS = st.sampled_from([" ", "; ", ", ", ". ", ";\n", " “", "” "])
PROSE = st.lists(st.tuples(WORDS, SEPS), max_size=60).map(lambda xs: "".join(w + s for w, s in xs))


@given(st.text())
def test_never_raises(text: str) -> None:
    assert isinstance(repair_semicolons(text, CFG), str)


@settings(max_examples=300)
@given(st.one_of(st.text(), PROSE))
def test_idempotent(text: str) -> None:
    once = repair_semicolons(text, CFG)
    assert repair_semicolons(once, CFG) == once


@settings(max_examples=300)
@given(st.one_of(st.text(), PROSE))
def test_never_lengthens(text: str) -> None:
    assert len(repair_semicolons(text, CFG)) <= len(text)


@given(st.text().map(lambda t: t.replace(";", "")))
def test_identity_without_semicolons(text: str) -> None:
    assert repair_semicolons(text, CFG) == text

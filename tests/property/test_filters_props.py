"""Property checks for cleaners.filters and cleaners.words: the fast counts equal their regex definitions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.filters import ALPHA_RE, NON_SPACE_RE, count_letters, count_visible
from cleaners.words import WORD_RE, count_words

# ASCII-heavy text with the characters where the definitions could part: digits that are not
# decimal ("²", "½"), "_", NBSP, the \x1c-\x1f separators str.split treats as space
MIXED = st.text(alphabet=st.sampled_from(list("aZ09_ '’\t\n\x0b\x1c\x1f") + ["\u00a0", "²", "½", "é", "ß", "\u3000", "٣"]))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), MIXED))
def test_count_letters_is_alpha_re(text: str) -> None:
    assert count_letters(text) == len(ALPHA_RE.findall(text))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), MIXED))
def test_count_visible_is_non_space_re(text: str) -> None:
    assert count_visible(text) == len(NON_SPACE_RE.findall(text))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), MIXED))
def test_count_words_cached_is_word_re(text: str) -> None:
    assert count_words(text) == count_words(text) == len(WORD_RE.findall(text))

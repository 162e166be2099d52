"""cleaners.words: each word definition as its comment states, and where the definitions part."""

from __future__ import annotations

import pytest

from cleaners.words import (
    CJK_RE,
    HYPHENATED_WORD_RE,
    LOOSE_WORD_RE,
    WORD_CHARS_RE,
    WORD_RE,
    count_words,
    count_words_cjk,
    hyphenated_words,
)


def test_the_examples_in_the_comments() -> None:
    assert WORD_RE.findall("Roscosmos’ top") == ["Roscosmos", "top"]
    assert WORD_RE.findall("---") == []
    assert HYPHENATED_WORD_RE.findall("it isn't well-known") == ["it", "isn't", "well-known"]
    assert HYPHENATED_WORD_RE.findall("-- •") == []
    assert WORD_CHARS_RE.findall("it's 2024!") == ["it", "s", "2024"]
    assert WORD_CHARS_RE.findall("-- ’") == []
    assert LOOSE_WORD_RE.fullmatch("Borisov’s")
    assert not LOOSE_WORD_RE.search("--")
    assert CJK_RE.match("書") and CJK_RE.match("の")
    assert not CJK_RE.match("a") and not CJK_RE.match("한")


@pytest.mark.parametrize(
    ("text", "words", "words_cjk"),
    [
        ("He said it isn't over.", 5, 5),  # inner apostrophes: one word for both
        ("a well-known, long-running band", 6, 4),  # inner hyphens join only for the line classifier
        ("東京で会議が開かれた。", 1, 5),  # ten CJK characters: one run of letters, or five words
        ("Tokyo 東京 talks", 3, 3),  # two CJK characters: one word either way
        ("", 0, 0),
    ],
    ids=["apostrophe", "hyphens", "japanese", "mixed", "empty"],
)
def test_the_two_counts_part_only_on_hyphens_and_cjk(text: str, words: int, words_cjk: int) -> None:
    assert count_words(text) == words
    assert count_words_cjk(text) == words_cjk


def test_count_words_cjk_without_cjk_counts_hyphenated_words() -> None:
    text = "Müller sagte: „Nein“, well-known."
    assert count_words_cjk(text) == len(hyphenated_words(text)) == 4

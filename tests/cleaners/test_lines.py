"""cleaners.boilerplate.lines and .features: page lines, the vectorised feature helpers against plain loops, features."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.boilerplate.features import (
    CJK_FUNCTION_CHARS,
    DIGIT_CHAR_RE,
    FEATURE_NAMES,
    PUNCT_CHAR_RE,
    SEPARATOR_CHARS,
    SMOOTHING_NAMES,
    STOPWORD_LANGUAGES,
    _best_language,
    _class_counts,
    _same_indent,
    _window_sum,
    _word_masks,
    line_features,
    smoothing_features,
    stopwords_for,
)
from cleaners.boilerplate.lines import split_lines
from cleaners.words import CJK_RE, count_words_cjk, hyphenated_words

SPLIT_CASES = [
    ("marker_and_indent", "    * Home", [(4, "*", "Home")]),
    ("tab_counts_four", "\t+ World", [(4, "+", "World")]),
    ("o_bullet_before_capital", "  o News", [(2, "o", "News")]),
    ("o_word_is_text", "o dear me", [(0, "", "o dear me")]),
    ("numbered", "12. Twelfth", [(0, "12.", "Twelfth")]),
    ("plain_no_op", "Plain text.", [(0, "", "Plain text.")]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SPLIT_CASES], ids=[c[0] for c in SPLIT_CASES])
def test_split_lines(text: str, expected: list[tuple[int, str, str]]) -> None:
    assert [(line.indent, line.marker, line.text) for line in split_lines(text)] == expected


@pytest.mark.parametrize(
    "text",
    ["He said it isn't over.", "Müller sagte: „Nein“.", "東京で会議が開かれた。", "Tokyo 東京 talks", "", "--"],
    ids=["ascii", "latin1", "japanese", "mixed", "empty", "punct_only"],
)
def test_split_lines_words_and_counts(text: str) -> None:
    for line in split_lines(f"x\n{text}\ny"):
        assert line.words == tuple(hyphenated_words(line.text))
        assert line.n_words == count_words_cjk(line.text)


LINE_TEXTS = st.lists(
    st.text(alphabet=st.sampled_from("ab, .|»›7٣東の、\ud800É_-'"), max_size=12), min_size=1, max_size=8
)


@settings(max_examples=200, deadline=None)
@given(LINE_TEXTS)
def test_class_counts_match_the_regexes(texts: list[str]) -> None:
    counts = _class_counts(texts)
    for row, text in zip(counts, texts):
        assert row[0] == len(PUNCT_CHAR_RE.findall(text))
        assert row[1] == len(DIGIT_CHAR_RE.findall(text))
        assert row[2] == len(CJK_RE.findall(text))
        assert row[3] == sum(c in CJK_FUNCTION_CHARS for c in text)
        assert row[4] == sum(c in SEPARATOR_CHARS for c in text)
        assert row[5] == text.count(",")


VALUES = st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(VALUES, st.integers(min_value=1, max_value=12), st.booleans())
def test_window_sum_is_the_plain_loop(values: list[float], width: int, with_self: bool) -> None:
    n = len(values)
    expected = [
        sum(values[j] for j in range(max(0, i - width), min(n, i + width + 1)) if with_self or j != i)
        for i in range(n)
    ]
    assert np.allclose(_window_sum(np.array(values), width, with_self), expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=40), st.integers(min_value=1, max_value=12))
def test_same_indent_is_the_plain_loop(indents: list[int], width: int) -> None:
    n = len(indents)
    values = np.linspace(0.1, 0.9, n)
    count, total = _same_indent(np.array(indents, dtype=float), width, values)
    for i in range(n):
        same = [j for j in range(max(0, i - width), min(n, i + width + 1)) if j != i and indents[j] == indents[i]]
        assert count[i] == len(same)
        assert math.isclose(total[i], sum(values[j] for j in same), abs_tol=1e-12)


def test_stoplist_follows_the_page_language() -> None:
    german = "Die Regierung hat am Dienstag mitgeteilt, dass sie sich aus dem Projekt zurückzieht und nicht mehr."
    english = "the station is to be left by them"
    assert STOPWORD_LANGUAGES[_best_language(_word_masks(german.lower().split()))] == "de"
    assert STOPWORD_LANGUAGES[_best_language(_word_masks(english.split()))] == "en"
    # the stop_density feature counts the page language's stoplist
    words = [w.lower() for w in hyphenated_words(german)]
    density = line_features(split_lines(german))[0, FEATURE_NAMES.index("stop_density")]
    assert density == sum(w in stopwords_for("de") for w in words) / len(words) > 0.3


def test_feature_matrices_have_the_named_columns() -> None:
    page = "  * Home\n  * World\n\n    He said the station would be left after 2024, officials said.\n    Short."
    lines = split_lines(page)
    feats = line_features(lines)
    assert feats.shape == (len(lines), len(FEATURE_NAMES))
    assert np.isfinite(feats).all()
    second = smoothing_features(lines, feats, np.full(len(lines), 0.5))
    assert second.shape == (len(lines), len(SMOOTHING_NAMES))
    assert line_features([]).shape == (0, len(FEATURE_NAMES))
    # the prose line is at the body's indentation, the menu is not
    at_body = feats[:, FEATURE_NAMES.index("at_body_indent")]
    assert at_body.tolist() == [0.0, 0.0, 1.0, 1.0]

"""Hypothesis properties of cleaners.chars.fix_characters."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from cleaners.chars import EDGE_SPACE_RE, _collapse_spaces, fix_characters, fix_characters_with_edits
from cleaners.config import CharsConfig

CFG = CharsConfig()
# prose-like text: letters, digits, punctuation, single spaces, no characters the fixer targets
PLAIN_WORD = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'-()"), min_size=1, max_size=12)
PLAIN_LINE = st.lists(PLAIN_WORD, min_size=1, max_size=12).map(" ".join)
PLAIN_TEXT = st.lists(PLAIN_LINE, min_size=1, max_size=6).map("\n\n".join)


@settings(max_examples=300, deadline=None)
@given(st.text())
@example("\x81\x8a¬")  # a control removal joins new mojibake
@example("\xa0\x8a¤")  # stripping the edge space makes new mojibake ("Š¤" -> "Ф")
def test_total_and_idempotent(text: str) -> None:
    once = fix_characters(text, CFG)
    assert fix_characters(once, CFG) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Z", "Cc", "Cf"))))
def test_with_edits_matches_plain(text: str) -> None:
    fixed, edits = fix_characters_with_edits(text, CFG)
    assert fixed == fix_characters(text, CFG)
    assert (fixed != text) or not edits


@settings(max_examples=200, deadline=None)
@given(PLAIN_TEXT)
def test_identity_on_clean_text(text: str) -> None:
    assert fix_characters(text, CFG) == text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_no_targets_left(text: str) -> None:
    fixed = fix_characters(text, CFG)
    assert "\u200b" not in fixed and "\u00ad" not in fixed and "\u00a0" not in fixed
    assert "\r" not in fixed and "\n\n\n" not in fixed and "  " not in fixed


# the whole-text definition that _collapse_spaces applies line by line
SPACE_RUN_DEFINITION_RE = re.compile(r"[ \t]{2,}|\t")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=st.sampled_from(list(" \t\na."))), st.text()))
def test_collapse_spaces_is_the_regex_passes(text: str) -> None:
    collapsed, n_runs = SPACE_RUN_DEFINITION_RE.subn(" ", text)
    expected, n_edges = EDGE_SPACE_RE.subn("", collapsed)
    assert _collapse_spaces(text) == (expected, n_runs + n_edges)

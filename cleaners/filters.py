"""Document filters: ``check_<rule>(text, cfg) -> reason | None``.

A filter never changes text; it returns a stable snake_case drop reason (recorded in the
``drop_reason`` column and counted as ``dropped_<reason>``) or ``None`` to keep the document.
"""

from __future__ import annotations

import re
import string

from cleaners.config import FilterConfig
from cleaners.words import count_words

# ALPHA_RE: one letter. "a" matches, "7" does not
ALPHA_RE = re.compile(r"[^\W\d_]")
# ALPHA_RUN_RE: a run of letters (fewer, longer matches than ALPHA_RE). "abc" matches, "7_" does not
ALPHA_RUN_RE = re.compile(r"[^\W\d_]+")
# Every ASCII byte that is not a letter: for ASCII text ALPHA_RE is exactly [A-Za-z].
NOT_ASCII_LETTER_BYTES = bytes(c for c in range(128) if chr(c) not in string.ascii_letters)

# NON_SPACE_RE: one visible character. "x" matches, " " does not
NON_SPACE_RE = re.compile(r"\S")


def count_letters(text: str) -> int:
    """Number of ALPHA_RE letters (a byte-table delete for ASCII text, letter runs otherwise)."""
    if text.isascii():
        return len(text.encode("ascii").translate(None, NOT_ASCII_LETTER_BYTES))
    return sum(map(len, ALPHA_RUN_RE.findall(text)))


def count_visible(text: str) -> int:
    """Number of NON_SPACE_RE characters: ``str.split`` and ``\\s`` share one definition of space."""
    return sum(map(len, text.split()))


def check_empty(text: str, cfg: FilterConfig) -> str | None:
    """``empty_text`` when nothing but white space is left."""
    return None if NON_SPACE_RE.search(text) else "empty_text"


def check_min_words(text: str, cfg: FilterConfig) -> str | None:
    """``too_short`` below ``cfg.min_words`` words (a stub, a teaser, a failed extraction)."""
    return "too_short" if count_words(text) < cfg.min_words else None


def check_max_words(text: str, cfg: FilterConfig) -> str | None:
    """``too_long`` above ``cfg.max_words`` words (a dump, not an article)."""
    return "too_long" if count_words(text) > cfg.max_words else None


def check_alpha_ratio(text: str, cfg: FilterConfig) -> str | None:
    """``not_prose`` when fewer than ``cfg.min_alpha_ratio`` of visible characters are letters."""
    visible = count_visible(text)
    if not visible:
        return None
    letters = count_letters(text)
    return "not_prose" if letters / visible < cfg.min_alpha_ratio else None


# Ordered: the first reason found is the one recorded.
FILTERS = (check_empty, check_min_words, check_max_words, check_alpha_ratio)

"""Document filters: ``check_<rule>(text, cfg) -> reason | None``.

A filter never changes text; it returns a stable snake_case drop reason (recorded in the
``drop_reason`` column and counted as ``dropped_<reason>``) or ``None`` to keep the document.
"""

from __future__ import annotations

import re

from cleaners.config import FilterConfig

# WORD_RE: a word token. "Roscosmos’ top" -> ["Roscosmos", "top"]; "---" -> []
WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# ALPHA_RE: one letter. "a" matches, "7" does not
ALPHA_RE = re.compile(r"[^\W\d_]")

# NON_SPACE_RE: one visible character. "x" matches, " " does not
NON_SPACE_RE = re.compile(r"\S")


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


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
    visible = len(NON_SPACE_RE.findall(text))
    if not visible:
        return None
    letters = len(ALPHA_RE.findall(text))
    return "not_prose" if letters / visible < cfg.min_alpha_ratio else None


# Ordered: the first reason found is the one recorded.
FILTERS = (check_empty, check_min_words, check_max_words, check_alpha_ratio)

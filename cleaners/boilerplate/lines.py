"""A plain-text page as lines: the unit every boilerplate rule and the classifier decide on.

A plain-text page (a ``.txt`` dump or an HTML page rendered to text) is read as a list of
``PageLine``: the text without its indentation and list marker, the indentation width, the
marker, and the paragraph group (lines not separated by a blank line share a group), with the
line's words (``cleaners.words``: hyphenated words, CJK by characters) counted once. Pure
functions; no I/O.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cleaners.words import HYPHENATED_WORD_RE, count_words_cjk

# Bullet markers that text renderers put before list items ("*", "o", "+", "-", "•", "·", "–").
BULLET_TOKENS = ("*", "+", "-", "•", "·", "◦", "▪", "–", "o", "#")

# LIST_MARKER_RE: a list marker and its spaces at the start of an unindented line.
# matches "* Barron's" (group 1 "*"); does not match "*Emphasis*" or "Over there".
LIST_MARKER_RE = re.compile(
    r"^(" + "|".join(re.escape(t) for t in BULLET_TOKENS) + r"|\d{1,2}[.)])(?:\s+|$)"
)

# The bullets a LIST_MARKER_RE match can start with; with str.isdigit (wider than \d) a cheap
# guard that never turns away a match.
MARKER_FIRST_CHARS = frozenset(t[0] for t in BULLET_TOKENS)

# O_MARKER_RE: "o" as a rendered bullet (before a capital, digit or quote). matches "o News";
# does not match "o dear".
O_MARKER_RE = re.compile(r"o\s+[A-Z0-9“\"']")

# SENTENCE_END_RE: the line ends like a sentence, closing quotes and brackets allowed.
# matches 'He said “yes.”'; does not match "Read more" or "Sign In »".
SENTENCE_END_RE = re.compile(r"[.!?…:;。！？][\"'”’»)\]」』]*$")



class PageLine(NamedTuple):
    index: int  # type: ignore[assignment]  # position among the page's non-blank lines (shadows tuple.index)
    text: str  # stripped, list marker removed
    raw: str  # the original line
    indent: int  # leading spaces (tabs count 4)
    marker: str  # list marker or ""
    group: int  # paragraph group: lines with no blank line between them share one
    n_words: int = 0  # words.count_words_cjk(text), computed once by split_lines
    words: tuple[str, ...] = ()  # words.hyphenated_words(text), computed once by split_lines


def split_lines(text: str) -> list[PageLine]:
    """The page's non-blank lines with indentation, list marker and paragraph group."""
    lines: list[PageLine] = []
    append, findall, make = lines.append, HYPHENATED_WORD_RE.findall, tuple.__new__  # hot loop: bound once
    group = 0
    blank = True
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            if not blank:
                group += 1
            blank = True
            continue
        blank = False
        if "\t" in raw:
            expanded = raw.replace("\t", "    ")
            indent = len(expanded) - len(expanded.lstrip())
        else:
            indent = len(raw) - len(raw.lstrip())
        marker = ""
        body = stripped
        first = stripped[0]
        if first in MARKER_FIRST_CHARS or first.isdigit():
            m = LIST_MARKER_RE.match(stripped)
            # "o" counts as a marker only before a capital or digit ("o News" yes, "o dear" no)
            if m and not (m.group(1) == "o" and not O_MARKER_RE.match(stripped)):
                marker = m.group(1)
                body = stripped[m.end() :].strip()
        words = tuple(findall(body))
        n_words = len(words) if body.isascii() else count_words_cjk(body)
        append(make(PageLine, (len(lines), body, raw, indent, marker, group, n_words, words)))
    return lines


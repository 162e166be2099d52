"""Words: the one home of the word definitions the cleaners tokenize and count by.

The definitions differ on purpose, and each caller's figures depend on its own, so they are kept
apart under names that say how they differ:

- :data:`WORD_RE` / :func:`count_words`: letters and digits with inner apostrophes ("isn't" is one
  word, "well-known" two). The document word count: ``n_words``, ``n_words_raw`` and the
  ``min_words``/``max_words`` filters.
- :data:`HYPHENATED_WORD_RE` / :func:`hyphenated_words` / :func:`count_words_cjk`: inner hyphens
  join too ("well-known" is one word), and Japanese/Chinese text, written without spaces, counts
  ``CJK_CHARS_PER_WORD`` characters a word. The line classifier's features and boilerplate rules.
- :data:`WORD_CHARS_RE`: every maximal ``\\w`` run ("it's" is two, "snake_case" one). Evaluation
  shingles (``metrics.shingles``) and name-typo candidates (``entities``).
- :data:`LOOSE_WORD_RE`: a ``\\w`` run with any inner apostrophes and hyphens ("rock-'n'-roll" is
  one). The words around a semicolon (``punctuation``).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

# WORD_RE: a word token. "Roscosmos’ top" -> ["Roscosmos", "top"]; "---" -> []
WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# HYPHENATED_WORD_RE: a word with inner apostrophes or hyphens. "it isn't well-known" -> ["it", "isn't", "well-known"]; "--" and "•" -> []
HYPHENATED_WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")

# WORD_CHARS_RE: a maximal run of word characters. "it's 2024!" -> ["it", "s", "2024"]; "--" and "’" -> []
WORD_CHARS_RE = re.compile(r"\w+")

# LOOSE_WORD_RE: a word, apostrophes and hyphens included. "Borisov’s" matches; "--" does not
LOOSE_WORD_RE = re.compile(r"\w(?:[\w’'-]*\w)?")

# CJK_RE: Japanese kana and CJK ideographs. matches "書" and "の"; does not match "a" or "한".
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
CJK_CHARS_PER_WORD = 2  # Japanese/Chinese prose: about two characters per word


@lru_cache(maxsize=8)
def count_words(text: str) -> int:
    """Number of WORD_RE words; cached because the word filters and the row all ask for one text."""
    return len(WORD_RE.findall(text))


def hyphenated_words(text: str) -> list[str]:
    """The HYPHENATED_WORD_RE words of ``text``, in order."""
    return HYPHENATED_WORD_RE.findall(text)


def count_words_cjk(text: str) -> int:
    """Number of HYPHENATED_WORD_RE words, with Japanese/Chinese runs counted as CJK_CHARS_PER_WORD characters a word."""
    if text.isascii():
        return len(HYPHENATED_WORD_RE.findall(text))
    cjk = len(CJK_RE.findall(text))
    if not cjk:
        return len(hyphenated_words(text))
    latin = len(hyphenated_words(CJK_RE.sub(" ", text)))
    return latin + math.ceil(cjk / CJK_CHARS_PER_WORD)

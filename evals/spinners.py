"""Article-spinner simulators: put stray semicolons into clean text, labelled with the right repair.

Each generator lists the places it may spin (a word comma ", " becomes "; ": label ``comma``; a
space between two words gets a ";" before it: label ``drop``, the semicolon becomes a space
again) and spins ``density`` of them per 1,000 words, at least one. The document's own
semicolons are labelled ``keep``.

- ``seed_style``: the way the seed pages show it, ", " or " " before a lower-case word turned
  into "; ", half from commas and half from spaces. HELD OUT: never used for fitting.
- ``function_words``: before a preposition, conjunction, relative, subordinator or determiner.
- ``after_names``: after a capitalised word inside a sentence (a name or title), before a word
  that is not capitalised ("Borisov; the new head", "DC; on Tuesday"). Not between two
  capitalised words: "David Lee; Douglas Osheroff" is how lists of names are written.
- ``lists``: the commas of a list (a line with two or more commas, or a comma before and/or),
  before a lower-case word ("apples, pears; plums and figs").
- ``clause_internal``: any space between two words inside a sentence, whatever their case.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import NamedTuple

from cleaners.punctuation import (
    COMMA,
    COMMA_CONJUNCTIONS,
    COMMA_RELATIVES,
    DROP,
    KEEP,
    LIST_CONJUNCTIONS,
    NO_COMMA_SUBORDINATORS,
    OTHER_SUBORDINATORS,
    PREPOSITIONS,
    SEMICOLON_RE,
    SUBJECT_DETERMINERS,
)
from cleaners.words import LOOSE_WORD_RE

DENSITIES = (3.0, 6.0, 12.0, 20.0, 30.0)  # stray semicolons per 1,000 words, one drawn per spun copy
HELD_OUT = "seed_style"

# A word comma: ", the" matches (offset of ","); "1,076" and ",\n" do not.
WORD_COMMA_RE = re.compile(r"(?<=\w),(?= [^\W\d_])")
# A space between two words on one line: "ended its" matches (offset of " "); "end. The" does not.
WORD_SPACE_RE = re.compile(r"(?<=\w) (?=[^\W\d_])")
FUNCTION_WORDS = frozenset(
    PREPOSITIONS + LIST_CONJUNCTIONS + COMMA_CONJUNCTIONS + COMMA_RELATIVES + NO_COMMA_SUBORDINATORS
    + OTHER_SUBORDINATORS + SUBJECT_DETERMINERS
)  # fmt: skip
SENTENCE_START_CHARS = '.!?\n“"(:'


class SpunDoc(NamedTuple):
    text: str
    labels: tuple[tuple[int, str], ...]  # (offset of ";" in text, right repair: keep | comma | drop)


Site = tuple[int, str]  # (offset of the "," or " ", "comma" | "space")


def _next_word(doc: str, at: int) -> str:
    m = LOOSE_WORD_RE.search(doc, at + 1, at + 60)
    return m.group() if m else ""


def _prev_word(doc: str, at: int) -> tuple[str, int]:
    """The word ending at ``at`` and the offset where it starts."""
    start = at
    while start > 0 and (doc[start - 1].isalnum() or doc[start - 1] in "’'-"):
        start -= 1
    return doc[start:at], start


def _sentence_initial(doc: str, start: int) -> bool:
    j = start - 1
    while j >= 0 and doc[j] in " \t“\"‘'(":
        j -= 1
    return j < 0 or doc[j] in SENTENCE_START_CHARS


def _commas(doc: str) -> list[Site]:
    return [(m.start(), "comma") for m in WORD_COMMA_RE.finditer(doc)]


def _spaces(doc: str) -> list[Site]:
    return [(m.start(), "space") for m in WORD_SPACE_RE.finditer(doc)]


def seed_style_sites(doc: str) -> tuple[list[Site], list[Site]]:
    lower = [s for s in _commas(doc) + _spaces(doc) if _next_word(doc, s[0])[:1].islower()]
    return [s for s in lower if s[1] == "comma"], [s for s in lower if s[1] == "space"]


def function_word_sites(doc: str) -> tuple[list[Site], list[Site]]:
    sites = [s for s in _commas(doc) + _spaces(doc) if _next_word(doc, s[0]) in FUNCTION_WORDS]
    return [s for s in sites if s[1] == "comma"], [s for s in sites if s[1] == "space"]


def after_name_sites(doc: str) -> tuple[list[Site], list[Site]]:
    sites = []
    for s in _commas(doc) + _spaces(doc):
        word, start = _prev_word(doc, s[0])
        if word[:1].isupper() and not _sentence_initial(doc, start) and not _next_word(doc, s[0])[:1].isupper():
            sites.append(s)
    return [s for s in sites if s[1] == "comma"], [s for s in sites if s[1] == "space"]


def list_sites(doc: str) -> tuple[list[Site], list[Site]]:
    sites = []
    for s in _commas(doc):
        line_start = doc.rfind("\n", 0, s[0]) + 1
        line_end = doc.find("\n", s[0])
        line = doc[line_start : len(doc) if line_end < 0 else line_end]
        nxt = _next_word(doc, s[0])
        if nxt[:1].islower() and (line.count(",") >= 2 or nxt in LIST_CONJUNCTIONS):
            sites.append(s)
    return sites, []


def clause_internal_sites(doc: str) -> tuple[list[Site], list[Site]]:
    sites = []
    for s in _spaces(doc):
        _, start = _prev_word(doc, s[0])
        if not _sentence_initial(doc, start):
            sites.append(s)
    return [], sites


GENERATORS: dict[str, Callable[[str], tuple[list[Site], list[Site]]]] = {
    "seed_style": seed_style_sites,
    "function_words": function_word_sites,
    "after_names": after_name_sites,
    "lists": list_sites,
    "clause_internal": clause_internal_sites,
}
TRAINING_GENERATORS = tuple(name for name in GENERATORS if name != HELD_OUT)


def spin(doc: str, generator: str, rng: random.Random, density: float | None = None) -> SpunDoc:
    """Spin ``doc`` with ``generator`` at ``density`` stray semicolons per 1,000 words (drawn from ``DENSITIES`` if None)."""
    density = rng.choice(DENSITIES) if density is None else density
    commas, spaces = GENERATORS[generator](doc)
    n_words = len(LOOSE_WORD_RE.findall(doc))
    want = max(1, round(density * n_words / 1000))
    if commas and spaces:  # half from each kind, as the seed page shows them
        n_comma = min(len(commas), (want + rng.randint(0, 1)) // 2)
        chosen = rng.sample(commas, n_comma) + rng.sample(spaces, min(len(spaces), want - n_comma))
    else:
        pool = commas or spaces
        chosen = rng.sample(pool, min(len(pool), want))
    events = [(at, kind) for at, kind in chosen] + [(m.start(), "keep") for m in SEMICOLON_RE.finditer(doc)]
    out: list[str] = []
    labels: list[tuple[int, str]] = []
    pos = length = 0
    for at, kind in sorted(set(events)):
        if at < pos:
            continue
        chunk = doc[pos:at]
        out.append(chunk)
        length += len(chunk)
        labels.append((length, {"comma": COMMA, "space": DROP, "keep": KEEP}[kind]))
        out.append(";")
        length += 1
        pos = at + (0 if kind == "space" else 1)
    out.append(doc[pos:])
    return SpunDoc("".join(out), tuple(labels))

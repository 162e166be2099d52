"""Stray-semicolon repair for spun copies.

Article spinners swap commas for semicolons and drop semicolons between words ("end its
participation; in the International Space Station", "Yuri Borisov; the new head of Roscosmos").
Repair is two-staged so that legitimate semicolons in ordinary prose are never touched:

1. ``assess_semicolons`` decides per DOCUMENT whether its semicolons are anomalous: enough of
   them carry strong stray evidence (the next word cannot open an independent clause, or the
   semicolon closes an appositive or vocative), they make up most of the document's mid-line
   semicolons, and the semicolon rate is far above normal prose.
2. In an anomalous document every mid-line semicolon is classified by its context as ``keep``
   (it joins two independent clauses), ``comma`` or ``drop`` (see ``choose_semicolon_repair``).

The plain fixer ``repair_semicolons`` wraps ``repair_semicolons_with_edits``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cleaners.config import PunctuationConfig
from cleaners.edits import Edit, merge_edits
from cleaners.words import LOOSE_WORD_RE

EDIT_KIND = "semicolon_repair"

KEEP = "keep"
COMMA = "comma"
DROP = "drop"

# Words after which a stray semicolon is simply deleted: the phrase continues the clause.
PREPOSITIONS = (
    "about", "above", "across", "after", "against", "along", "amid", "amidst", "among", "amongst",
    "around", "at", "before", "behind", "below", "beneath", "beside", "between", "beyond", "by",
    "concerning", "despite", "during", "following", "for", "from", "in", "inside", "into", "near",
    "of", "off", "on", "onto", "outside", "over", "past", "per", "regarding", "since", "through",
    "throughout", "to", "toward", "towards", "under", "underneath", "until", "upon", "via", "with",
    "within", "without",
)  # fmt: skip
# Prepositions bound so tightly to the noun before them that no comma can precede them.
BOUND_PREPOSITIONS = ("of",)
# Complementisers that take no comma: "said; that" -> "said that".
NO_COMMA_SUBORDINATORS = ("that", "than", "whether", "because", "if", "as")
# Coordinators that take a comma before an independent clause: "partners; but" -> "partners, but".
COMMA_CONJUNCTIONS = ("but", "so", "yet")
# "and"/"or" take a comma only before a new subject, else nothing ("science; and maintaining").
LIST_CONJUNCTIONS = ("and", "or", "nor")
# Non-restrictive relatives and adverbial openers that idiomatically follow a comma.
COMMA_RELATIVES = ("who", "whom", "whose", "which", "where", "when", "while", "whereas", "although", "though")
COMMA_INTRODUCERS = ("including", "such", "especially", "particularly", "notably", "unlike", "according")
# Verbs of saying: "Gatens, the director of NASA's ISS; stated" closes an appositive.
SPEECH_VERBS = (
    "said", "says", "stated", "states", "added", "adds", "noted", "notes", "told", "explained",
    "remarked", "argued", "claimed", "wrote", "announced", "reported", "insisted", "warned",
    "asked", "replied", "continued", "confirmed", "declared", "tweeted",
)  # fmt: skip
# Words that follow a vocative: "Vladimir Vladimirovich; you know".
ADDRESS_WORDS = ("you", "your", "i", "we", "let", "please")
# Words that open an independent clause as its subject.
SUBJECT_PRONOUNS = ("i", "we", "you", "he", "she", "it", "they", "there", "one")
SUBJECT_DETERMINERS = (
    "the", "a", "an", "this", "that", "these", "those", "his", "her", "its", "their", "our", "my",
    "your", "some", "many", "most", "all", "no", "each", "every", "both", "several", "other",
)  # fmt: skip
# Finite verbs and auxiliaries: a segment holding one (outside a relative clause) is a clause.
FINITE_MARKERS = (
    "is", "are", "was", "were", "am", "has", "have", "had", "will", "would", "can", "could", "may",
    "might", "shall", "should", "must", "does", "did", "do", "said", "says", "say", "isn't",
    "aren't", "wasn't", "weren't", "hasn't", "haven't", "hadn't", "won't", "wouldn't", "can't",
    "couldn't", "doesn't", "didn't", "don't", "shouldn't",
)  # fmt: skip
RELATIVE_MARKERS = ("who", "whom", "whose", "which", "that", "where", "when")

# A mid-line semicolon between two words (any non-newline space after it, NBSP included).
# "claims; about" matches; "&amp;" and "end;\n" do not.
SEMICOLON_RE = re.compile(r"(?<=[\w)\]’'”\".%])(?<!&amp)(?<!&quot)(?<!&gt)(?<!&lt);(?=[^\S\n]+[\w“\"‘'(])")
# Anything that ends a chunk when scanning back from a semicolon. ", " matches; "-" does not.
CHUNK_BOUNDARY_RE = re.compile(r"[,;:.!?“”\"()\n\u2014]")
# A possessive or contraction tail to ignore when comparing words. "’s" matches; "s" does not.
POSSESSIVE_RE = re.compile(r"[’']s$")
# A sentence or quote opening right before a chunk: ". " / "“" match; ", " does not.
SENTENCE_OPEN_CHARS = ".!?“\"\n("


class SemicolonSite(NamedTuple):
    """One mid-line semicolon and its verdict."""

    index: int  # type: ignore[assignment]  # offset of ";" in the text (shadows tuple.index, unused here)
    choice: str  # keep | comma | drop
    strong: bool  # strong evidence that this semicolon is a spinner artefact
    before: str  # the word before it
    after: str  # the word after it


class SemicolonAssessment(NamedTuple):
    """Document-level evidence used to decide whether to repair at all."""

    n_semicolons: int  # mid-line semicolons
    n_strong: int  # of which with strong stray evidence
    n_words: int
    anomalous: bool
    sites: tuple[SemicolonSite, ...]


def _bare(word: str) -> str:
    return POSSESSIVE_RE.sub("", word.lower())


def _is_capitalised(word: str) -> bool:
    return bool(word) and word[0].isupper()


def _chunk_before(text: str, index: int) -> tuple[str, str, int]:
    """Text between the previous boundary and ``index``, the boundary char ("" at start) and its offset."""
    start = max(0, index - 400)
    last = None
    for m in CHUNK_BOUNDARY_RE.finditer(text, start, index):
        last = m
    if last is None:
        return text[start:index], "", -1
    return text[last.end() : index], last.group(), last.start()


def _segment_after(text: str, index: int) -> str:
    m = CHUNK_BOUNDARY_RE.search(text, index + 1, index + 400)
    return text[index + 1 : m.start() if m else min(len(text), index + 400)]


def _is_clause(words: list[str]) -> bool:
    """True when ``words`` read as an independent clause (subject + finite verb, not relative)."""
    if not words:
        return False
    if words[0] in SUBJECT_PRONOUNS and len(words) > 1:
        return True
    for w in words:
        if w in RELATIVE_MARKERS:
            return False
        if w in FINITE_MARKERS:
            return True
    return False


def _opens_clause_after_comma(text: str, index: int) -> bool:
    """"; for example, they ..." / "; in 2005, the ...": an introductory phrase closed by a comma.

    A spinner's semicolon before a preposition continues the clause ("participation; in the
    ISS cooperation after 2024."); a phrase that is closed by a comma introduces a new clause.
    """
    end = CHUNK_BOUNDARY_RE.search(text, index + 1, index + 400)
    if end is None or end.group() != ",":
        return False
    following = LOOSE_WORD_RE.findall(_segment_after(text, end.start()))
    return bool(following) and _bare(following[0]) not in RELATIVE_MARKERS  # "..., which means" continues


def _is_reporting_tail(text: str, index: int, after_words: list[str]) -> bool:
    """"; the sources said." / "; he added." : a short subject plus a speech verb ending the sentence."""
    if not 2 <= len(after_words) <= 4 or after_words[-1] not in SPEECH_VERBS:
        return False
    end = CHUNK_BOUNDARY_RE.search(text, index + 1)
    return end is None or end.group() in ".!?\n"


def _closes_appositive(text: str, index: int, cfg: PunctuationConfig) -> bool:
    """"Robyn Gatens, the director of NASA's ISS; stated" / "Washington, DC; on"."""
    chunk, boundary, at = _chunk_before(text, index)
    if boundary != "," or at <= 0:
        return False
    raw = LOOSE_WORD_RE.findall(chunk)
    words = [_bare(w) for w in raw]
    if not words or len(words) > cfg.max_appositive_words or any(w in FINITE_MARKERS for w in words):
        return False
    if not (words[0] in SUBJECT_DETERMINERS or raw[0][0].isupper() or raw[0][0].isdigit()):
        return False  # an appositive is a noun phrase: "the director of ...", "DC", "Borisov's ..."
    head_chunk, head_boundary, _ = _chunk_before(text, at)
    head_words = LOOSE_WORD_RE.findall(head_chunk)
    if not head_words or not _is_capitalised(head_words[-1]):
        return False
    # a sentence-initial single word ("However, ...") is an introducer, not a name
    return not (len(head_words) == 1 and (head_boundary == "" or head_boundary in SENTENCE_OPEN_CHARS))


def _is_vocative(text: str, index: int, next_word: str, cfg: PunctuationConfig) -> bool:
    """"“Vladimir Vladimirovich; you know": a bare name opening a quote, or addressed as "you"."""
    chunk, boundary, _ = _chunk_before(text, index)
    if boundary not in ("“", '"') and not (boundary in ("", *SENTENCE_OPEN_CHARS) and next_word in ADDRESS_WORDS):
        return False
    words = LOOSE_WORD_RE.findall(chunk)
    return 0 < len(words) <= cfg.max_vocative_words and all(_is_capitalised(w) for w in words)


def choose_semicolon_repair(text: str, index: int, cfg: PunctuationConfig) -> tuple[str, bool]:
    """Classify the semicolon at ``text[index]``: (keep | comma | drop, strong stray evidence)."""
    raw_after = LOOSE_WORD_RE.findall(_segment_after(text, index))
    after_words = [_bare(w) for w in raw_after]
    nxt = after_words[0] if after_words else ""
    next_is_lower = bool(raw_after) and raw_after[0][0].islower()
    if nxt in COMMA_CONJUNCTIONS:
        return COMMA, True
    if nxt in COMMA_RELATIVES and next_is_lower:
        return COMMA, True
    if nxt in LIST_CONJUNCTIONS and next_is_lower:
        second = after_words[1] if len(after_words) > 1 else ""
        opens_clause = second in SUBJECT_PRONOUNS or second in SUBJECT_DETERMINERS
        return (COMMA if opens_clause else DROP), False
    if nxt in BOUND_PREPOSITIONS and next_is_lower:
        return DROP, True
    if _is_vocative(text, index, nxt, cfg):
        return COMMA, True
    if _closes_appositive(text, index, cfg):
        return COMMA, True
    if nxt in COMMA_INTRODUCERS and next_is_lower:
        return COMMA, True
    if (nxt in PREPOSITIONS or nxt in NO_COMMA_SUBORDINATORS) and next_is_lower:
        # "; for example, they ..." / "; in 2005, the ...": an introductory phrase opening a clause
        return (KEEP, False) if _opens_clause_after_comma(text, index) else (DROP, True)
    if next_is_lower and (nxt in SPEECH_VERBS or (nxt.endswith("ed") and nxt not in SUBJECT_DETERMINERS)):
        return DROP, True
    if _is_clause(after_words):
        # "...; the sources said." is a reporting tail, not a clause of its own
        return (COMMA, True) if _is_reporting_tail(text, index, after_words) else (KEEP, False)
    return COMMA, False


def assess_semicolons(text: str, cfg: PunctuationConfig) -> SemicolonAssessment:
    """Classify every mid-line semicolon and decide whether the document's usage is anomalous."""
    sites = []
    for m in SEMICOLON_RE.finditer(text):
        i = m.start()
        choice, strong = choose_semicolon_repair(text, i, cfg)
        before = LOOSE_WORD_RE.findall(text[max(0, i - 60) : i])
        after = LOOSE_WORD_RE.findall(text[i + 1 : i + 60])
        sites.append(SemicolonSite(i, choice, strong, before[-1] if before else "", after[0] if after else ""))
    n_words = len(LOOSE_WORD_RE.findall(text)) if sites else 0
    n_strong = sum(s.strong for s in sites)
    anomalous = bool(sites) and (
        n_strong >= cfg.min_stray_semicolons
        and n_strong >= cfg.min_stray_fraction * len(sites)
        and len(sites) * 1000 >= cfg.min_semicolons_per_1000_words * max(n_words, 1)
    )
    return SemicolonAssessment(len(sites), n_strong, n_words, anomalous, tuple(sites))


def repair_semicolons_with_edits(text: str, cfg: PunctuationConfig) -> tuple[str, list[Edit]]:
    """Repair stray semicolons in a spun document; leave documents with normal usage unchanged."""
    if not cfg.enabled or ";" not in text:
        return text, []
    assessment = assess_semicolons(text, cfg)
    if not assessment.anomalous:
        return text, []
    out: list[str] = []
    edits: list[Edit] = []
    pos = 0
    for site in assessment.sites:
        if site.choice == KEEP:
            continue
        out.append(text[pos : site.index])
        replacement = "," if site.choice == COMMA else ""
        out.append(replacement)
        pos = site.index + 1
        edits.append(Edit(EDIT_KIND, f'"{site.before}; {site.after}" -> "{site.before}{replacement} {site.after}"', 1))
    out.append(text[pos:])
    return "".join(out), merge_edits(edits)


def repair_semicolons(text: str, cfg: PunctuationConfig) -> str:
    """Fixer: ``repair_semicolons_with_edits`` without the edit list."""
    return repair_semicolons_with_edits(text, cfg)[0]

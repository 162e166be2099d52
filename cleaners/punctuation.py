"""Stray-semicolon repair for spun copies, decided by a small model learned from data.

Article spinners swap commas for semicolons and put semicolons between words ("end its
participation; in the International Space Station", "Yuri Borisov; the new head of Roscosmos").
Every mid-line semicolon is scored in three stages, each gradient-boosted trees shipped as JSON
(``punctuation_model.json``, fitted by ``evals/fit_semicolons.py`` on clean corpora and on copies
of them spun by ``evals/spinners.py``):

1. ``stray``: is this semicolon a spinner's? From the words on either side (closed-class lists,
   wordfreq frequency, capitalisation), the segments around it (lengths, a finite verb, whether
   the right side can open a clause, list structure, quotes) and the page's semicolon usage
   (``FEATURE_NAMES``).
2. ``page``: the stage-1 probability beside the page's other stage-1 probabilities
   (``PAGE_FEATURE_NAMES``): a page whose semicolons look spun as a whole lowers the bar for
   each one, a page of list or clause-joining semicolons raises it.
3. ``comma``: for a stray semicolon, restore a comma or a space (``FEATURE_NAMES`` again).

A semicolon is changed only when the stage-2 probability reaches
``PunctuationConfig.min_stray_probability``, or the lower ``spun_page_min_stray_probability`` on
a page that looks spun as a whole (enough semicolons confidently stray at stage 1): the
two-level decision keeps ordinary pages' semicolons and still repairs most of a spun page's. The plain fixer ``repair_semicolons`` wraps
``repair_semicolons_with_edits``.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cleaners.boilerplate.model import LineModel, TreeModel, model_from_dict
from cleaners.config import PunctuationConfig
from cleaners.edits import Edit, merge_edits
from cleaners.shipped import read_json
from cleaners.words import LOOSE_WORD_RE

EDIT_KIND = "semicolon_repair"
MODEL_RESOURCE = "punctuation_model.json"  # package data beside this module (pyproject: [tool.setuptools.package-data])
MODEL_PATH = Path(__file__).with_name(MODEL_RESOURCE)

KEEP = "keep"
COMMA = "comma"
DROP = "drop"  # the semicolon becomes a plain space

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

# Adverbs that classically open the second clause of a semicolon join: "; however, the ...".
CLAUSE_ADVERBS = (
    "however", "therefore", "moreover", "furthermore", "meanwhile", "instead", "thus", "hence",
    "otherwise", "nevertheless", "nonetheless", "indeed", "consequently", "accordingly", "still",
    "besides", "likewise", "similarly", "then", "also", "now", "today", "later", "finally",
)  # fmt: skip
OTHER_SUBORDINATORS = ("although", "though", "while", "whereas", "since", "unless", "once", "because", "after", "before")
CLOSED_CLASS = frozenset(
    PREPOSITIONS + NO_COMMA_SUBORDINATORS + COMMA_CONJUNCTIONS + LIST_CONJUNCTIONS + COMMA_RELATIVES
    + SUBJECT_PRONOUNS + SUBJECT_DETERMINERS + FINITE_MARKERS + RELATIVE_MARKERS + OTHER_SUBORDINATORS
    + ("not", "to", "be", "been", "being", "me", "him", "us", "them", "who", "what", "how", "why")
)  # fmt: skip

# A mid-line semicolon between two words (any non-newline space after it, NBSP included).
# "claims; about" matches; "&amp;" and "end;\n" do not.
SEMICOLON_RE = re.compile(r"(?<=[\w)\]’'”\".%])(?<!&amp)(?<!&quot)(?<!&gt)(?<!&lt);(?=[^\S\n]+[\w“\"‘'(])")
# Anything that ends a chunk when scanning back from a semicolon. ", " matches; "-" does not.
CHUNK_BOUNDARY_RE = re.compile(r"[,;:.!?“”\"()\n\u2014]")
# A possessive or contraction tail to ignore when comparing words. "’s" matches; "s" does not.
POSSESSIVE_RE = re.compile(r"[’']s$")
# A sentence or quote opening right before a chunk: ". " / "“" match; ", " does not.
SENTENCE_OPEN_CHARS = '.!?“"\n('
# A sentence end when scanning for sentence bounds: ". " and "?\n" match; "3.5" and "U.S" do not.
SENTENCE_END_RE = re.compile(r"[.!?](?=\s)|\n")
# A line that ends like prose: "... station." and "... said.”" match; "Paris; London" does not.
PROSE_LINE_END_RE = re.compile(r"[.!?][”\"’')\]]*\s*$")
MAX_WORDS_FEATURE = 60  # segment and distance lengths are capped here


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
    """ "; for example, they ..." / "; in 2005, the ...": an introductory phrase closed by a comma.

    A spinner's semicolon before a preposition continues the clause ("participation; in the
    ISS cooperation after 2024."); a phrase that is closed by a comma introduces a new clause.
    """
    end = CHUNK_BOUNDARY_RE.search(text, index + 1, index + 400)
    if end is None or end.group() != ",":
        return False
    following = LOOSE_WORD_RE.findall(_segment_after(text, end.start()))
    return bool(following) and _bare(following[0]) not in RELATIVE_MARKERS  # "..., which means" continues


def _is_reporting_tail(text: str, index: int, after_words: list[str]) -> bool:
    """ "; the sources said." / "; he added." : a short subject plus a speech verb ending the sentence."""
    if not 2 <= len(after_words) <= 4 or after_words[-1] not in SPEECH_VERBS:
        return False
    end = CHUNK_BOUNDARY_RE.search(text, index + 1)
    return end is None or end.group() in ".!?\n"


def _closes_appositive(text: str, index: int, cfg: PunctuationConfig) -> bool:
    """ "Robyn Gatens, the director of NASA's ISS; stated" / "Washington, DC; on"."""
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
    """ "“Vladimir Vladimirovich; you know": a bare name opening a quote, or addressed as "you"."""
    chunk, boundary, _ = _chunk_before(text, index)
    if boundary not in ("“", '"') and not (boundary in ("", *SENTENCE_OPEN_CHARS) and next_word in ADDRESS_WORDS):
        return False
    words = LOOSE_WORD_RE.findall(chunk)
    return 0 < len(words) <= cfg.max_vocative_words and all(_is_capitalised(w) for w in words)


# The per-semicolon features of stages 1 and 3, in model order: right word (r_), left word (l_),
# the segments to the next/previous chunk boundary (rs_/ls_), the sentence around it (sl_/sr_),
# its line (line_, seg_: the stretches between this line's semicolons), rule heuristics (rule_)
# and the page's semicolon usage (pg_).
FEATURE_NAMES = (
    "r_lower", "r_cap", "r_digit", "r_zipf", "r_prep", "r_of", "r_coord", "r_but_so_yet", "r_relative",
    "r_subordinator", "r_determiner", "r_subject_pronoun", "r_finite", "r_speech", "r_ing", "r_ed", "r_ly",
    "r_clause_adverb", "r_quote",
    "l_lower", "l_cap", "l_digit", "l_zipf", "l_closed", "l_det_or_prep", "l_name", "l_close_paren_or_quote",
    "rs_words", "rs_finite", "rs_clause", "rs_end_comma", "rs_end_semicolon", "rs_end_stop", "rs_end_line",
    "ls_words", "ls_finite", "ls_start_comma", "ls_start_semicolon", "ls_start_sentence",
    "sl_words", "sl_finite", "sr_words", "in_quote",
    "line_words", "line_semicolons", "line_prose_end", "line_table", "seg_prev_words", "seg_next_words", "seg_prev_commas",
    "seg_next_commas", "seg_parallel",
    "rule_appositive", "rule_vocative", "rule_opens_after_comma", "rule_reporting_tail",
    "pg_semicolons", "pg_per_1000_words", "pg_share_lower", "pg_share_closed_lower", "pg_share_clause",
    "pg_share_multi_line", "pg_log_words",
)  # fmt: skip
# Stage 2: the stage-1 log-odds beside the page's other stage-1 probabilities. Not the page's
# semicolon count or rate: spun training pages stop at the spinners' densities, so past them the
# trees would meet only list pages and call every denser page legitimate.
PAGE_FEATURE_NAMES = (
    "p1_logit", "pg_mean_p1", "pg_max_p1", "pg_others_mean_p1", "pg_share_p1_over_half", "pg_count_p1_over_half",
    "pg_share_multi_line",
)  # fmt: skip


class SemicolonSite(NamedTuple):
    """One mid-line semicolon and its verdict."""

    index: int  # type: ignore[assignment]  # offset of ";" in the text (shadows tuple.index, unused here)
    choice: str  # keep | comma | drop
    stray_probability: float  # stage 2: probability that a spinner put it there
    comma_probability: float  # stage 3: probability that a comma (not a space) belongs there
    before: str  # the word before it
    after: str  # the word after it


class SemicolonAssessment(NamedTuple):
    """Every mid-line semicolon of a document with its verdict."""

    n_semicolons: int  # mid-line semicolons
    n_stray: int  # of which judged stray (to be changed)
    n_words: int
    anomalous: bool  # at least one semicolon is to be changed
    spun_page: bool  # the page looks spun: the lower threshold applies
    sites: tuple[SemicolonSite, ...]


class SemicolonModel(NamedTuple):
    """The three stages (see the module docstring)."""

    stray: TreeModel | LineModel
    page: TreeModel | LineModel
    comma: TreeModel | LineModel


def model_from_json(data: dict) -> SemicolonModel:
    """A ``SemicolonModel`` from its JSON form; refuses weights fitted on other features."""
    return SemicolonModel(
        model_from_dict(data["stray"], FEATURE_NAMES),
        model_from_dict(data["page"], PAGE_FEATURE_NAMES),
        model_from_dict(data["comma"], FEATURE_NAMES),
    )


@functools.cache
def default_model() -> SemicolonModel | None:
    """The shipped weights (read once; immutable), or None if not shipped."""
    data = read_json(MODEL_PATH)
    return None if data is None else model_from_json(data)


@functools.lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def _words_between(text: str, start: int, end: int) -> list[str]:
    return LOOSE_WORD_RE.findall(text, max(0, start), max(0, end))


def _sentence_bounds(text: str, index: int, line: tuple[int, int]) -> tuple[int, int]:
    start = line[0]
    for m in SENTENCE_END_RE.finditer(text, max(line[0], index - 600), index):
        start = m.end()
    end = SENTENCE_END_RE.search(text, index, min(line[1] + 1, index + 600))
    return start, end.start() if end else min(line[1], index + 600)


def _has_finite(words: list[str]) -> bool:
    return any(w in FINITE_MARKERS or (len(w) > 3 and w.endswith("ed")) for w in words)


def _flag(b: bool) -> float:
    return 1.0 if b else 0.0


class _Line(NamedTuple):
    start: int
    end: int
    n_words: int
    prose_end: bool
    table: bool  # holds "|" or a tab: table cells, where ";" separates items
    semicolons: list[int]  # offsets of its mid-line semicolons


def _local_features(text: str, index: int, line: _Line, cfg: PunctuationConfig) -> list[float]:
    cap = float(MAX_WORDS_FEATURE)
    seg_after = _segment_after(text, index)
    raw_after = LOOSE_WORD_RE.findall(seg_after)
    after = [_bare(w) for w in raw_after]
    r_raw = raw_after[0] if raw_after else ""
    r = after[0] if after else ""
    next_char = text[index + 1 : index + 3].strip()[:1]
    chunk, boundary, _ = _chunk_before(text, index)
    raw_before = LOOSE_WORD_RE.findall(chunk)
    before = [_bare(w) for w in raw_before]
    l_raw = raw_before[-1] if raw_before else ""
    ll = before[-1] if before else ""
    left_char = text[index - 1] if index else ""
    end = CHUNK_BOUNDARY_RE.search(text, index + 1, index + 400)
    end_char = end.group() if end else "\n"
    sent = _sentence_bounds(text, index, (line.start, line.end))
    sl = [_bare(w) for w in _words_between(text, sent[0], index)]
    sr = _words_between(text, index + 1, sent[1])
    before_in_line = text[max(line.start, index - 2000) : index]
    quotes_open = before_in_line.count("“") - before_in_line.count("”") + before_in_line.count('"') % 2
    k = line.semicolons.index(index)
    prev_at = line.semicolons[k - 1] if k else line.start
    next_at = line.semicolons[k + 1] if k + 1 < len(line.semicolons) else line.end
    seg_prev = text[max(prev_at, index - 1000) : index]
    seg_next = text[index + 1 : min(next_at, index + 1000)]
    n_prev = len(LOOSE_WORD_RE.findall(seg_prev))
    n_next = len(LOOSE_WORD_RE.findall(seg_next))
    l_sentence_initial = len(sl) <= 1
    return [
        _flag(r_raw[:1].islower()),
        _flag(r_raw[:1].isupper()),
        _flag(r_raw[:1].isdigit()),
        _zipf(r) if r else 0.0,
        _flag(r in PREPOSITIONS),
        _flag(r in BOUND_PREPOSITIONS),
        _flag(r in LIST_CONJUNCTIONS),
        _flag(r in COMMA_CONJUNCTIONS),
        _flag(r in COMMA_RELATIVES or r in RELATIVE_MARKERS),
        _flag(r in NO_COMMA_SUBORDINATORS or r in OTHER_SUBORDINATORS),
        _flag(r in SUBJECT_DETERMINERS),
        _flag(r in SUBJECT_PRONOUNS),
        _flag(r in FINITE_MARKERS),
        _flag(r in SPEECH_VERBS),
        _flag(r.endswith("ing")),
        _flag(r.endswith("ed")),
        _flag(r.endswith("ly")),
        _flag(r in CLAUSE_ADVERBS),
        _flag(next_char in "“\"‘'("),
        _flag(l_raw[:1].islower()),
        _flag(l_raw[:1].isupper()),
        _flag(l_raw[:1].isdigit()),
        _zipf(ll) if ll else 0.0,
        _flag(ll in CLOSED_CLASS),
        _flag(ll in SUBJECT_DETERMINERS or ll in PREPOSITIONS),
        _flag(l_raw[:1].isupper() and not l_sentence_initial),
        _flag(left_char in ")]”\"'’"),
        min(len(after), cap),
        _flag(_has_finite(after)),
        _flag(_is_clause(after)),
        _flag(end_char == ","),
        _flag(end_char == ";"),
        _flag(end_char in ".!?"),
        _flag(end_char == "\n"),
        min(len(before), cap),
        _flag(_has_finite(before)),
        _flag(boundary == ","),
        _flag(boundary == ";"),
        _flag(boundary in ("", ".", "!", "?", "\n")),
        min(len(sl), cap),
        _flag(_has_finite(sl)),
        min(len(sr), cap),
        _flag(quotes_open > 0),
        min(line.n_words, 4 * cap),
        min(len(line.semicolons), 20),
        _flag(line.prose_end),
        _flag(line.table),
        min(n_prev, cap),
        min(n_next, cap),
        min(seg_prev.count(","), 10),
        min(seg_next.count(","), 10),
        abs(n_prev - n_next) / max(n_prev, n_next, 1),
        _flag(_closes_appositive(text, index, cfg)),
        _flag(_is_vocative(text, index, r, cfg)),
        _flag(_opens_clause_after_comma(text, index)),
        _flag(_is_reporting_tail(text, index, after)),
    ]


def semicolon_features(text: str, cfg: PunctuationConfig) -> tuple[list[int], np.ndarray]:
    """Offsets of the mid-line semicolons of ``text`` and their ``FEATURE_NAMES`` rows."""
    indices = [m.start() for m in SEMICOLON_RE.finditer(text)]
    if not indices:
        return [], np.zeros((0, len(FEATURE_NAMES)))
    by_line: dict[int, list[int]] = {}
    for i in indices:
        by_line.setdefault(text.rfind("\n", 0, i) + 1, []).append(i)
    lines = {}
    for start, semis in by_line.items():
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line_text = text[start:end]
        lines[start] = _Line(
            start,
            end,
            len(LOOSE_WORD_RE.findall(line_text)),
            bool(PROSE_LINE_END_RE.search(line_text[-20:])),
            "|" in line_text or "\t" in line_text,
            semis,
        )
    rows = [_local_features(text, i, lines[text.rfind("\n", 0, i) + 1], cfg) for i in indices]
    x = np.asarray(rows, dtype=float)
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    n = len(indices)
    n_words = len(LOOSE_WORD_RE.findall(text))
    lower = x[:, col["r_lower"]] > 0
    closed_lower = lower & (x[:, col["r_clause_adverb"]] == 0) & np.isin(np.arange(n), [j for j in range(n) if _closed_right(x[j], col)])
    page = [
        min(n, 200),
        1000.0 * n / max(n_words, 1),
        float(lower.mean()),
        float(closed_lower.mean()),
        float(x[:, col["rs_clause"]].mean()),
        float((x[:, col["line_semicolons"]] >= 2).mean()),
        math.log1p(n_words),
    ]
    x = np.hstack([x, np.tile(np.asarray(page), (n, 1))])
    return indices, x


def _closed_right(row: np.ndarray, col: dict[str, int]) -> bool:
    """The word after the semicolon is a preposition, conjunction, relative or subordinator."""
    return any(row[col[name]] > 0 for name in ("r_prep", "r_coord", "r_but_so_yet", "r_relative", "r_subordinator"))


def page_features(p1: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``PAGE_FEATURE_NAMES`` rows from the stage-1 probabilities ``p1`` of one page's semicolons."""
    n = len(p1)
    if not n:
        return np.zeros((0, len(PAGE_FEATURE_NAMES)))
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    p = np.clip(p1, 1e-6, 1 - 1e-6)
    total = p.sum()
    others = (total - p) / (n - 1) if n > 1 else np.zeros(n)
    over = float((p > 0.5).mean())
    const = [float(p.mean()), float(p.max())]
    rows = np.column_stack(
        [
            np.log(p / (1 - p)),
            np.full(n, const[0]),
            np.full(n, const[1]),
            others,
            np.full(n, over),
            np.full(n, float(min((p > 0.5).sum(), 50))),
            x[:, col["pg_share_multi_line"]],
        ]
    )
    return rows


class SemicolonScores(NamedTuple):
    indices: list[int]  # offsets of the mid-line semicolons
    p1: np.ndarray  # stage 1: stray probability from the semicolon's own context
    p2: np.ndarray  # stage 2: stray probability beside the page's other semicolons
    comma: np.ndarray  # stage 3: probability that a comma, not a space, belongs there


def score_semicolons(text: str, cfg: PunctuationConfig, model: SemicolonModel) -> SemicolonScores:
    """The three stages' probabilities for every mid-line semicolon of ``text``."""
    indices, x = semicolon_features(text, cfg)
    if not indices:
        return SemicolonScores([], np.zeros(0), np.zeros(0), np.zeros(0))
    p1 = model.stray.probabilities(x)
    p2 = model.page.probabilities(page_features(p1, x))
    return SemicolonScores(indices, p1, p2, model.comma.probabilities(x))


def looks_spun(p1: np.ndarray, cfg: PunctuationConfig) -> bool:
    """Enough of the page's semicolons are confidently stray at stage 1 (the page-level decision)."""
    confident = int((p1 >= cfg.spun_page_confident_probability).sum())
    return confident >= cfg.spun_page_min_confident and confident >= cfg.spun_page_min_confident_share * len(p1)


def assess_semicolons(text: str, cfg: PunctuationConfig, model: SemicolonModel | None = None) -> SemicolonAssessment:
    """Score every mid-line semicolon; those reaching the page's threshold become a comma or a space."""
    model = model or default_model()
    if model is None or ";" not in text:
        return SemicolonAssessment(0, 0, 0, False, False, ())
    scores = score_semicolons(text, cfg, model)
    spun = looks_spun(scores.p1, cfg)
    threshold = cfg.spun_page_min_stray_probability if spun else cfg.min_stray_probability
    sites = []
    for i, ps, pcomma in zip(scores.indices, scores.p2.tolist(), scores.comma.tolist()):
        if ps < threshold:
            choice = KEEP
        else:
            choice = COMMA if pcomma >= cfg.min_comma_probability else DROP
        before = LOOSE_WORD_RE.findall(text[max(0, i - 60) : i])
        after = LOOSE_WORD_RE.findall(text[i + 1 : i + 60])
        sites.append(SemicolonSite(i, choice, ps, pcomma, before[-1] if before else "", after[0] if after else ""))
    n_words = len(LOOSE_WORD_RE.findall(text)) if sites else 0
    n_stray = sum(s.choice != KEEP for s in sites)
    return SemicolonAssessment(len(sites), n_stray, n_words, n_stray > 0, spun, tuple(sites))


def final_choices(text: str, cfg: PunctuationConfig) -> tuple[str, list[tuple[int, str, str, str]]]:
    """The repaired text and, per semicolon changed, (offset in ``text``, choice, word before, word after).

    Passes repeat until nothing changes (the page's remaining semicolons are judged again beside
    each other), so that repairing a repaired text is a no-op; every pass removes semicolons, so
    it ends.
    """
    origin = list(range(len(text)))  # offset in the current text -> offset in ``text``
    changes: list[tuple[int, str, str, str]] = []
    while True:
        assessment = assess_semicolons(text, cfg)
        if not assessment.anomalous:
            return text, sorted(changes)
        out: list[str] = []
        new_origin: list[int] = []
        pos = 0
        for site in assessment.sites:
            if site.choice == KEEP:
                continue
            out.append(text[pos : site.index])
            new_origin += origin[pos : site.index]
            if site.choice == COMMA:
                out.append(",")
                new_origin.append(origin[site.index])
            pos = site.index + 1
            changes.append((origin[site.index], site.choice, site.before, site.after))
        out.append(text[pos:])
        new_origin += origin[pos:]
        text, origin = "".join(out), new_origin


def repair_semicolons_with_edits(text: str, cfg: PunctuationConfig) -> tuple[str, list[Edit]]:
    """Turn the semicolons judged stray into a comma or a space (``final_choices``); leave every other one alone."""
    if not cfg.enabled or ";" not in text:
        return text, []
    out, changes = final_choices(text, cfg)
    edits = [
        Edit(EDIT_KIND, f'"{before}; {after}" -> "{before}{"," if choice == COMMA else ""} {after}"', 1)
        for _, choice, before, after in changes
    ]
    return out, merge_edits(edits)


def repair_semicolons(text: str, cfg: PunctuationConfig) -> str:
    """Fixer: ``repair_semicolons_with_edits`` without the edit list."""
    return repair_semicolons_with_edits(text, cfg)[0]

"""Line model and line features for plain-text pages (used by cleaners.boilerplate).

A plain-text page (a ``.txt`` dump or an HTML page rendered to text) is read as a list of
``PageLine``: the text without its indentation and list marker, the indentation width, the
marker, and the paragraph group (lines not separated by a blank line share a group).

``line_features(lines)`` turns the lines into one numeric vector each (``FEATURE_NAMES``), the
input of the logistic line classifier whose weights ship in ``boilerplate_model.json``. The
features follow jusText adapted to text lines: length in words, stopword density, punctuation,
digit and capital density, sentence-final punctuation, list markers, indentation relative to
the page's prose indentation, position, and the same signals averaged over the neighbours so a
short line between good paragraphs can stay. Pure functions; no I/O.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from wordfreq import top_n_list

# Bullet markers that text renderers put before list items ("*", "o", "+", "-", "•", "·", "–").
BULLET_TOKENS = ("*", "+", "-", "•", "·", "◦", "▪", "–", "o", "#")

# LIST_MARKER_RE: a list marker and its spaces at the start of an unindented line.
# matches "* Barron's" (group 1 "*"); does not match "*Emphasis*" or "Over there".
LIST_MARKER_RE = re.compile(
    r"^(" + "|".join(re.escape(t) for t in BULLET_TOKENS) + r"|\d{1,2}[.)])(?:\s+|$)"
)

# WORD_TOKEN_RE: a word for counting (letters/digits with inner apostrophes or hyphens).
# matches "isn't" in "it isn't"; does not match "--" or "•".
WORD_TOKEN_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")

# PUNCT_CHAR_RE: one punctuation or symbol character. matches "," and "»"; does not match "a" or " ".
PUNCT_CHAR_RE = re.compile(r"[^\w\s]|_")
# DIGIT_CHAR_RE: one decimal digit. matches "7" and "٣"; does not match "x".
DIGIT_CHAR_RE = re.compile(r"\d")

# SENTENCE_END_RE: the line ends like a sentence, closing quotes and brackets allowed.
# matches 'He said “yes.”'; does not match "Read more" or "Sign In »".
SENTENCE_END_RE = re.compile(r"[.!?…:;。！？][\"'”’»)\]」』]*$")

# English function words (the head of jusText's English stoplist): the density of these words
# separates running prose from menus, labels and link lists.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each even few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just let me more most my myself no nor not now of off on once only or other ought our ours
    ourselves out over own said same says she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up upon us very was we
    were what when where which while who whom why will with would yet you your yours yourself
    yourselves many much may might must new one two told since still well""".split()
)

# Words that mark page furniture rather than prose (share bars, sign-in, legal footers).
FURNITURE_WORDS = frozenset(
    """share tweet email print subscribe subscription login log sign newsletter cookie cookies
    privacy terms advertisement advertise sponsored copyright rights reserved menu search
    follow facebook twitter linkedin whatsapp instagram youtube pinterest reddit telegram
    comments comment reply click download app apps podcast podcasts video videos photos gallery
    home contact careers about more view all sections edition""".split()
)

# Languages whose most frequent words (wordfreq) serve as the stoplist; a page uses the one that
# covers most of its words. Japanese and Chinese are measured in characters instead (CJK_RE).
STOPWORD_LANGUAGES = ("en", "de", "fr", "es", "pt", "it", "nl", "ru", "pl", "id", "tr", "sv", "uk", "cs")
STOPWORD_TOP_N = 120
# CJK_RE: Japanese kana and CJK ideographs. matches "書" and "の"; does not match "a" or "한".
CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
CJK_CHARS_PER_WORD = 2  # Japanese/Chinese prose: about two characters per word
# Particles and sentence punctuation of Japanese/Chinese prose (their "stopwords").
CJK_FUNCTION_CHARS = frozenset("のはがをにでとたてしもな的了是在和也、。，")

REGION_LINES = 10  # half-width of the window measuring where the page's prose mass is
WINDOW_LINES = 3  # neighbours on each side averaged into the context features
BLOCK_GAP_LINES = 3  # this many dropped lines in a row end a block of text


class PageLine(NamedTuple):
    index: int  # position among the page's non-blank lines
    text: str  # stripped, list marker removed
    raw: str  # the original line
    indent: int  # leading spaces (tabs count 4)
    marker: str  # list marker or ""
    group: int  # paragraph group: lines with no blank line between them share one
    n_words: int = 0  # count_words(text), computed once by split_lines


def split_lines(text: str) -> list[PageLine]:
    """The page's non-blank lines with indentation, list marker and paragraph group."""
    lines: list[PageLine] = []
    group = 0
    blank = True
    for raw in text.splitlines():
        if not raw.strip():
            if not blank:
                group += 1
            blank = True
            continue
        blank = False
        expanded = raw.replace("\t", "    ")
        stripped = expanded.strip()
        indent = len(expanded) - len(expanded.lstrip())
        m = LIST_MARKER_RE.match(stripped)
        marker = ""
        body = stripped
        # "o" counts as a marker only before a capital or digit ("o News" yes, "o dear" no)
        if m and not (m.group(1) == "o" and not re.match(r"o\s+[A-Z0-9“\"']", stripped)):
            marker = m.group(1)
            body = stripped[m.end() :].strip()
        lines.append(PageLine(len(lines), body, raw, indent, marker, group, count_words(body)))
    return lines


def words_of(text: str) -> list[str]:
    return WORD_TOKEN_RE.findall(text)


def count_words(text: str) -> int:
    """Word count, with Japanese/Chinese runs counted as CJK_CHARS_PER_WORD characters a word."""
    cjk = len(CJK_RE.findall(text))
    if not cjk:
        return len(words_of(text))
    latin = len(words_of(CJK_RE.sub(" ", text)))
    return latin + math.ceil(cjk / CJK_CHARS_PER_WORD)


@functools.cache
def stopwords_for(language: str) -> frozenset[str]:
    """The language's most frequent words (a lazily cached, immutable wordfreq lookup)."""
    words = frozenset(top_n_list(language, STOPWORD_TOP_N))
    return words | STOPWORDS if language == "en" else words


def page_stopwords(lines: Sequence[PageLine]) -> frozenset[str]:
    """The stoplist of the STOPWORD_LANGUAGES language that covers most of the page's words."""
    counts = Counter(w.lower() for line in lines for w in words_of(line.text))
    if not counts:
        return STOPWORDS
    return max(
        (stopwords_for(lang) for lang in STOPWORD_LANGUAGES),
        key=lambda stop: sum(n for w, n in counts.items() if w in stop),
    )


def _own_features(line: PageLine, stopwords: frozenset[str]) -> tuple[float, ...]:
    text = line.text
    words = words_of(text)
    n = line.n_words
    lower = [w.lower() for w in words]
    chars = max(len(text), 1)
    punct = len(PUNCT_CHAR_RE.findall(text))
    digits = len(DIGIT_CHAR_RE.findall(text))
    caps = sum(1 for w in words if w[:1].isupper())
    cjk = len(CJK_RE.findall(text))
    if cjk * 2 > chars:
        stop_density = min(1.0, 3 * sum(1 for c in text if c in CJK_FUNCTION_CHARS) / cjk)
    else:
        stop_density = sum(1 for w in lower if w in stopwords) / len(words) if words else 0.0
    furniture = sum(1 for w in lower if w in FURNITURE_WORDS)
    return (
        math.log1p(n),
        min(n, 60) / 60,
        float(n >= 10),
        float(n >= 25),
        stop_density,
        punct / chars,
        digits / chars,
        caps / len(words) if words else 0.0,
        float(bool(SENTENCE_END_RE.search(text))),
        float(bool(line.marker)),
        float("|" in text or "»" in text or "›" in text),
        furniture / len(words) if words else 0.0,
        float(text.count(",") > 0),
        float(n <= 3),
    )


OWN_NAMES = (
    "log_words",
    "words_60",
    "words_ge10",
    "words_ge25",
    "stop_density",
    "punct_density",
    "digit_density",
    "cap_ratio",
    "sentence_end",
    "list_marker",
    "separator",
    "furniture_density",
    "has_comma",
    "very_short",
)


def _prose_like(own: tuple[float, ...]) -> float:
    """1.0 for a line that reads like prose on its own (long, wordy, ends like a sentence)."""
    return float(own[2] > 0 and own[4] >= 0.2 and own[8] > 0)


def _body_indent(lines: Sequence[PageLine], own: Sequence[tuple[float, ...]]) -> int:
    """The indentation carrying the most prose words (0 for flat dumps)."""
    weight: Counter = Counter()
    for line, f in zip(lines, own):
        if _prose_like(f):
            weight[line.indent] += math.expm1(f[0])
    return weight.most_common(1)[0][0] if weight else 0


def line_features(lines: Sequence[PageLine]) -> list[tuple[float, ...]]:
    """One feature vector per line, in ``FEATURE_NAMES`` order."""
    if not lines:
        return []
    stopwords = page_stopwords(lines)
    own = [_own_features(line, stopwords) for line in lines]
    prose = [_prose_like(f) for f in own]
    body_indent = _body_indent(lines, own)
    n = len(lines)
    # prefix sums for windowed means of prose-likeness and log length
    first_prose = next((i for i, p in enumerate(prose) if p), n)
    last_prose = max((i for i, p in enumerate(prose) if p), default=-1)
    text_counts = Counter(line.text.casefold() for line in lines)
    # prose words in a window of REGION_LINES either side: where the article's mass is
    prose_words = [math.expm1(f[0]) * p for f, p in zip(own, prose)]
    region = [sum(prose_words[max(0, i - REGION_LINES) : i + REGION_LINES + 1]) for i in range(n)]
    top_region = max(region) or 1.0
    prose_at = [i for i, p in enumerate(prose) if p]
    body_prose = [i for i in prose_at if lines[i].indent == body_indent]
    body_first = body_prose[0] if body_prose else n
    body_last = body_prose[-1] if body_prose else -1
    group_sizes = Counter(line.group for line in lines)
    out = []
    for i, (line, f) in enumerate(zip(lines, own)):
        lo, hi = max(0, i - WINDOW_LINES), min(n, i + WINDOW_LINES + 1)
        neigh = [j for j in range(lo, hi) if j != i]
        same_indent = [j for j in neigh if lines[j].indent == line.indent]
        win_prose = sum(prose[j] for j in neigh) / len(neigh) if neigh else 0.0
        win_words = sum(own[j][0] for j in neigh) / len(neigh) if neigh else 0.0
        win_marker = sum(own[j][9] for j in neigh) / len(neigh) if neigh else 0.0
        prev_prose = prose[i - 1] if i > 0 else 0.0
        next_prose = prose[i + 1] if i + 1 < n else 0.0
        indent_diff = abs(line.indent - body_indent)
        in_span = float(first_prose <= i <= last_prose)
        dist = min((abs(i - j) for j in prose_at), default=REGION_LINES)
        out.append(
            f
            + (
                win_prose,
                win_words / 5,
                win_marker,
                prev_prose,
                next_prose,
                float(indent_diff == 0),
                min(indent_diff, 20) / 20,
                i / n,
                in_span,
                float(text_counts[line.text.casefold()] > 1),
                min(group_sizes[line.group], 10) / 10,
                len(same_indent) / max(len(neigh), 1),
                region[i] / top_region,
                min(dist, REGION_LINES) / REGION_LINES,
                float(body_first <= i <= body_last),
                float(line.indent >= body_indent),
            )
        )
    return out


CONTEXT_NAMES = (
    "win_prose",
    "win_log_words",
    "win_marker",
    "prev_prose",
    "next_prose",
    "at_body_indent",
    "indent_diff_20",
    "position",
    "in_prose_span",
    "duplicated",
    "group_size_10",
    "same_indent_share",
    "region_share",
    "prose_distance",
    "in_body_span",
    "indent_at_least_body",
)

FEATURE_NAMES = OWN_NAMES + CONTEXT_NAMES


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def best_segment(scores: Sequence[float]) -> tuple[int, int]:
    """``(start, end)`` (inclusive) of the contiguous run with the largest sum of ``scores``
    (Kadane; BTE's optimal body segment); ``(0, -1)`` when no run sums above zero."""
    best, best_span = 0.0, (0, -1)
    run, start = 0.0, 0
    for i, s in enumerate(scores):
        if run <= 0.0:
            run, start = 0.0, i
        run += s
        if run > best:
            best, best_span = run, (start, i)
    return best_span


def _blocks(probs: Sequence[float], min_gap: int) -> list[int]:
    """Block number of each line: blocks are runs of lines split by at least ``min_gap``
    consecutive lines the first stage would drop."""
    out, block, gap = [], 0, 0
    for p in probs:
        if p < 0.5:
            gap += 1
        else:
            if gap >= min_gap and out:
                block += 1
            gap = 0
        out.append(block)
    return out


def smoothing_features(
    lines: Sequence[PageLine], feats: Sequence[tuple[float, ...]], probs: Sequence[float]
) -> list[tuple[float, ...]]:
    """Second-stage features (``SMOOTHING_NAMES``): a line's first-stage probability beside its
    neighbours' (jusText's context step, learned), and where it lies relative to the page's main
    text: the optimal segment (BTE: the run of lines maximising word-weighted probability above
    one half) and the block (lines between gaps of dropped lines) with the most kept words. A
    short line or list item inside the main text can stay; a teaser block below it can go."""
    n = len(lines)
    idx = {name: k for k, name in enumerate(FEATURE_NAMES)}
    k_words = idx["log_words"]
    words = [math.expm1(f[k_words]) for f in feats]
    seg_lo, seg_hi = best_segment([(p - 0.5) * (1.0 + w) for p, w in zip(probs, words)])
    block_of = _blocks(probs, BLOCK_GAP_LINES)
    mass: Counter = Counter()
    for b, p, w in zip(block_of, probs, words):
        mass[b] += p * w if p >= 0.5 else 0.0
    top_mass = max(mass.values(), default=0.0) or 1.0
    main_block = max(mass, key=mass.__getitem__) if mass else 0
    out = []
    for i, line in enumerate(lines):
        lo, hi = max(0, i - WINDOW_LINES), min(n, i + WINDOW_LINES + 1)
        before = probs[lo:i]
        after = probs[i + 1 : hi]
        neigh = list(before) + list(after)
        same = [probs[j] for j in range(lo, hi) if j != i and lines[j].indent == line.indent]
        sandwich = min(max(before, default=0.0), max(after, default=0.0))
        wlo, whi = max(0, i - 2 * REGION_LINES), min(n, i + 2 * REGION_LINES + 1)
        wide = [probs[j] for j in range(wlo, whi) if j != i and lines[j].indent == line.indent]
        f = feats[i]
        seg_dist = seg_lo - i if i < seg_lo else (i - seg_hi if i > seg_hi else 0)
        out.append(
            (
                _logit(probs[i]),
                sum(neigh) / len(neigh) if neigh else 0.0,
                sum(same) / len(same) if same else 0.0,
                sandwich,
                probs[i - 1] if i > 0 else 0.0,
                probs[i + 1] if i + 1 < n else 0.0,
                f[idx["region_share"]],
                f[idx["at_body_indent"]],
                f[idx["list_marker"]],
                f[k_words],
                sum(wide) / len(wide) if wide else 0.0,
                f[idx["in_body_span"]],
                float(seg_lo <= i <= seg_hi),
                min(seg_dist, REGION_LINES) / REGION_LINES,
                float(i > seg_hi),
                mass[block_of[i]] / top_mass,
                float(block_of[i] == main_block),
                float(block_of[i] > main_block),
            )
        )
    return out


SMOOTHING_NAMES = (
    "own_logit",
    "win_prob",
    "same_indent_prob",
    "sandwich_prob",
    "prev_prob",
    "next_prob",
    "region_share",
    "at_body_indent",
    "list_marker",
    "log_words",
    "wide_same_indent_prob",
    "in_body_span",
    "in_segment",
    "segment_distance",
    "below_segment",
    "block_share",
    "in_main_block",
    "below_main_block",
)

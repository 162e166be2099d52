"""Line features for the boilerplate classifier (``model.py``).

``line_features(lines)`` turns a page's lines (``lines.PageLine``) into one numeric vector each
(``FEATURE_NAMES``), the input of the logistic line classifier whose weights ship in
``model.json``. The features follow jusText adapted to text lines: length in words, stopword
density, punctuation, digit and capital density, sentence-final punctuation, list markers,
indentation relative to the page's prose indentation, position, and the same signals averaged
over the neighbours so a short line between good paragraphs can stay. ``smoothing_features``
are the second stage's: a line's first-stage probability beside its neighbours' and its place
relative to the page's main text. Pure functions; no I/O.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import numpy as np
from wordfreq import top_n_list

from cleaners.boilerplate.lines import SENTENCE_END_RE, PageLine
from cleaners.shipped import read_json
from cleaners.words import CJK_RE

# PUNCT_CHAR_RE: one punctuation or symbol character. matches "," and "»"; does not match "a" or " ".
PUNCT_CHAR_RE = re.compile(r"[^\w\s]|_")
# DIGIT_CHAR_RE: one decimal digit. matches "7" and "٣"; does not match "x".
DIGIT_CHAR_RE = re.compile(r"\d")

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
# Particles and sentence punctuation of Japanese/Chinese prose (their "stopwords").
CJK_FUNCTION_CHARS = frozenset("のはがをにでとたてしもな的了是在和也、。，")

REGION_LINES = 10  # half-width of the window measuring where the page's prose mass is
WINDOW_LINES = 3  # neighbours on each side averaged into the context features
BLOCK_GAP_LINES = 3  # this many dropped lines in a row end a block of text


# wordfreq's STOPWORD_TOP_N words of each STOPWORD_LANGUAGES language, shipped (written by
# evals/stoplists.py): wordfreq reads a whole frequency list for them, ~2 s of CPU per process
STOPLISTS_PATH = Path(__file__).with_name("stoplists.json")


@functools.cache
def shipped_stoplists() -> Mapping[str, tuple[str, ...]]:
    """Language -> its shipped stoplist (read once; empty when the file is missing or was
    written for another STOPWORD_TOP_N)."""
    data = read_json(STOPLISTS_PATH)
    if data is None or data.get("top_n") != STOPWORD_TOP_N:
        return MappingProxyType({})
    return MappingProxyType({lang: tuple(words) for lang, words in data["languages"].items()})


@functools.cache
def stopwords_for(language: str) -> frozenset[str]:
    """The language's most frequent words (shipped for STOPWORD_LANGUAGES, else a wordfreq
    lookup; lazily cached, immutable)."""
    shipped = shipped_stoplists().get(language)
    words = frozenset(shipped if shipped is not None else top_n_list(language, STOPWORD_TOP_N))
    return words | STOPWORDS if language == "en" else words


SEPARATOR_CHARS = ("|", "»", "›")  # link-list separators rendered between menu items

# Character classes counted per line, as bit flags of one code point (``_char_class``).
PUNCT_BIT, DIGIT_BIT, CJK_BIT, CJK_FUNCTION_BIT, SEPARATOR_BIT, COMMA_BIT = 1, 2, 4, 8, 16, 32
CLASS_BITS = (PUNCT_BIT, DIGIT_BIT, CJK_BIT, CJK_FUNCTION_BIT, SEPARATOR_BIT, COMMA_BIT)


def _char_class(c: str) -> int:
    """The class bits of one character, by the same regexes and sets the features name."""
    return (
        PUNCT_BIT * bool(PUNCT_CHAR_RE.match(c))
        | DIGIT_BIT * bool(DIGIT_CHAR_RE.match(c))
        | CJK_BIT * bool(CJK_RE.match(c))
        | CJK_FUNCTION_BIT * (c in CJK_FUNCTION_CHARS)
        | SEPARATOR_BIT * (c in SEPARATOR_CHARS)
        | COMMA_BIT * (c == ",")
    )


@functools.cache
def _ascii_classes() -> np.ndarray:
    """Class bits of the 128 ASCII code points (a cached, read-only table)."""
    table = np.array([_char_class(chr(c)) for c in range(128)], dtype=np.uint8)
    table.setflags(write=False)
    return table


def _class_counts(texts: Sequence[str]) -> np.ndarray:
    """Per line, the number of characters in each of CLASS_BITS: one pass over the page's code
    points (ASCII by table, other characters classified once per distinct code point)."""
    n = len(texts)
    points = np.frombuffer("\n".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    line_of = np.cumsum(points == 10, dtype=np.int64)  # the line feeds joining the lines have no class bits
    classes = _ascii_classes()[np.minimum(points, 127)]  # non-ASCII positions are set below
    other = np.flatnonzero(points >= 128)
    if len(other):
        uniq, inverse = np.unique(points[other], return_inverse=True)
        classes[other] = np.array([_char_class(chr(u)) for u in uniq], dtype=np.uint8)[inverse]
    by_class = np.bincount(line_of * 64 + classes, minlength=n * 64).reshape(n, 64)
    return by_class @ _class_bit_matrix()


@functools.cache
def _class_bit_matrix() -> np.ndarray:
    """``(64, len(CLASS_BITS))``: 1 where a class value has the bit (a cached, read-only table)."""
    values = np.arange(64)[:, None]
    matrix = ((values & np.array(CLASS_BITS)[None, :]) > 0).astype(np.int64)
    matrix.setflags(write=False)
    return matrix


def _lower_words(words: Sequence[str]) -> list[str]:
    # words hold no spaces, so one join/lower/split equals lowering each word
    return " ".join(words).lower().split(" ") if words else []


@functools.cache
def _stopword_languages() -> Mapping[str, tuple[int, ...]]:
    """Word -> indices (in STOPWORD_LANGUAGES) of the stoplists holding it (cached, read-only)."""
    index: dict[str, list[int]] = {}
    for k, lang in enumerate(STOPWORD_LANGUAGES):
        for word in stopwords_for(lang):
            index.setdefault(word, []).append(k)
    return MappingProxyType({w: tuple(ks) for w, ks in index.items()})


FURNITURE_BIT = 1 << len(STOPWORD_LANGUAGES)  # after one bit per stoplist


@functools.cache
def _word_mask_table() -> Mapping[str, int]:
    """Word -> bit mask: bit k when the STOPWORD_LANGUAGES[k] stoplist holds it, FURNITURE_BIT
    when it is a FURNITURE_WORDS word (cached, read-only)."""
    table = {w: sum(1 << k for k in ks) for w, ks in _stopword_languages().items()}
    for word in FURNITURE_WORDS:
        table[word] = table.get(word, 0) | FURNITURE_BIT
    return MappingProxyType(table)


def _word_masks(lower: Sequence[str]) -> np.ndarray:
    """``_word_mask_table`` masks of lower-cased words (0 for other words)."""
    return np.fromiter(map(_word_mask_table().get, lower, itertools.repeat(0)), dtype=np.int64, count=len(lower))


def _best_language(masks: np.ndarray) -> int:
    """Index of the stoplist holding most of the words (the first one on ties)."""
    score = [int(np.count_nonzero(masks & (1 << k))) for k in range(len(STOPWORD_LANGUAGES))]
    return max(range(len(score)), key=score.__getitem__)


def _own_features(lines: Sequence[PageLine]) -> np.ndarray:
    """The ``OWN_NAMES`` columns: what each line says on its own."""
    n = len(lines)
    texts = [line.text for line in lines]
    words = [line.words for line in lines]
    n_tokens = np.array([len(ws) for ws in words], dtype=float)
    flat = list(itertools.chain.from_iterable(words))
    lower = _lower_words(flat)
    masks = _word_masks(lower)
    language = _best_language(masks) if len(lower) else 0
    token_line = np.repeat(np.arange(n), n_tokens.astype(int))

    def per_line(flags: np.ndarray) -> np.ndarray:
        return np.bincount(token_line, weights=flags, minlength=n)

    stop = per_line((masks >> language) & 1)
    furniture = per_line((masks & FURNITURE_BIT) > 0)
    caps = per_line(np.fromiter(map(str.isupper, [w[0] for w in flat]), dtype=bool, count=len(flat)))
    punct, digits, cjk, cjk_function, separator, comma = _class_counts(texts).T
    chars = np.maximum([len(t) for t in texts], 1).astype(float)
    words_n = np.array([line.n_words for line in lines], dtype=float)
    has_tokens = n_tokens > 0
    safe_tokens = np.maximum(n_tokens, 1)
    stop_density = np.where(
        cjk * 2 > chars,
        np.minimum(1.0, 3 * cjk_function / np.maximum(cjk, 1)),
        np.where(has_tokens, stop / safe_tokens, 0.0),
    )
    return np.column_stack(
        (
            np.log1p(words_n),
            np.minimum(words_n, 60) / 60,
            words_n >= 10,
            words_n >= 25,
            stop_density,
            punct / chars,
            digits / chars,
            np.where(has_tokens, caps / safe_tokens, 0.0),
            np.fromiter(map(bool, map(SENTENCE_END_RE.search, texts)), dtype=bool, count=n),
            np.fromiter((bool(line.marker) for line in lines), dtype=bool, count=n),
            separator > 0,
            np.where(has_tokens, furniture / safe_tokens, 0.0),
            comma > 0,
            words_n <= 3,
        )
    ).astype(float)


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


def _body_indent(lines: Sequence[PageLine], own: np.ndarray, prose: np.ndarray) -> int:
    """The indentation of the article body: that of the run of consecutive lines at one
    indentation holding the most prose words (an article's paragraphs follow each other;
    teaser summaries, however wordy together, come one at a time between headlines and
    bylines at other indentations); 0 for flat dumps."""
    best, best_indent = 0.0, 0
    run, run_indent = 0.0, None
    for i, line in enumerate(lines):
        if line.indent != run_indent:
            run, run_indent = 0.0, line.indent
        if prose[i]:
            run += math.expm1(own[i, 0])
            if run > best:
                best, best_indent = run, line.indent
    return best_indent


def _shifted(values: np.ndarray, d: int, fill: float = 0.0) -> np.ndarray:
    """``values[i + d]`` at position ``i``; ``fill`` where ``i + d`` is off the page."""
    n = len(values)
    out = np.full(n, fill, dtype=float)
    if d == 0:
        out[:] = values
    elif 0 < d < n:
        out[:-d] = values[d:]
    elif 0 < -d < n:
        out[-d:] = values[:d]
    return out


def _windows(values: np.ndarray, width: int, fill: float = 0.0) -> np.ndarray:
    """``(n, 2 * width + 1)`` read-only view: row ``i`` holds ``values[i - width : i + width + 1]``,
    ``fill`` off the page."""
    padded = np.concatenate((np.full(width, fill), np.asarray(values, dtype=float), np.full(width, fill)))
    step = padded.strides[0]
    return np.lib.stride_tricks.as_strided(
        padded, shape=(len(values), 2 * width + 1), strides=(step, step), writeable=False
    )


def _window_sum(values: np.ndarray, width: int, with_self: bool) -> np.ndarray:
    """Sum of ``values`` over the ``width`` lines either side (and the line itself if
    ``with_self``)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    running = np.concatenate(([0.0], np.cumsum(values)))
    at = np.arange(n)
    total = running[np.minimum(n, at + width + 1)] - running[np.maximum(0, at - width)]
    return total if with_self else total - values


def _window_count(n: int, width: int) -> np.ndarray:
    """Neighbours within ``width`` lines either side of each line (the line excluded)."""
    at = np.arange(n)
    return (np.minimum(n, at + width + 1) - np.maximum(0, at - width) - 1).astype(float)


def _mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """``total / count``, 0.0 where ``count`` is 0."""
    return np.divide(total, count, out=np.zeros(len(total)), where=count > 0)


def _same_indent(indent: np.ndarray, width: int, values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per line, over the neighbours within ``width`` lines at the same indentation: their
    number, and the sum of ``values`` over them."""
    same = _windows(indent, width, fill=np.nan) == indent[:, None]
    same[:, width] = False  # not the line itself
    count = same.sum(axis=1).astype(float)
    if values is None:
        return count, np.zeros(len(indent))
    return count, np.where(same, _windows(values, width), 0.0).sum(axis=1)


def line_features(lines: Sequence[PageLine]) -> np.ndarray:
    """One feature row per line (``FEATURE_NAMES`` columns), as an ``(n, features)`` array."""
    n = len(lines)
    if not n:
        return np.zeros((0, len(FEATURE_NAMES)))
    own = _own_features(lines)
    prose = ((own[:, 2] > 0) & (own[:, 4] >= 0.2) & (own[:, 8] > 0)).astype(float)
    indent = np.array([line.indent for line in lines], dtype=float)
    body_indent = _body_indent(lines, own, prose)
    at = np.arange(n)
    prose_at = np.flatnonzero(prose)
    first_prose = int(prose_at[0]) if len(prose_at) else n
    last_prose = int(prose_at[-1]) if len(prose_at) else -1
    neigh = _window_count(n, WINDOW_LINES)
    same_indent, _ = _same_indent(indent, WINDOW_LINES)
    # prose words in a window of REGION_LINES either side: where the article's mass is
    prose_words = np.expm1(own[:, 0]) * prose
    region = _window_sum(prose_words, REGION_LINES, with_self=True)
    top_region = float(region.max()) or 1.0
    if len(prose_at):
        right = np.minimum(np.searchsorted(prose_at, at), len(prose_at) - 1)
        left = np.maximum(right - 1, 0)
        dist = np.minimum(np.abs(prose_at[right] - at), np.abs(prose_at[left] - at))
    else:
        dist = np.full(n, REGION_LINES)
    body_prose = prose_at[indent[prose_at] == body_indent]
    body_first = int(body_prose[0]) if len(body_prose) else n
    body_last = int(body_prose[-1]) if len(body_prose) else -1
    text_counts = Counter(line.text.casefold() for line in lines)
    group_sizes = Counter(line.group for line in lines)
    indent_diff = np.abs(indent - body_indent)
    context = np.column_stack(
        (
            _mean(_window_sum(prose, WINDOW_LINES, with_self=False), neigh),
            _mean(_window_sum(own[:, 0], WINDOW_LINES, with_self=False), neigh) / 5,
            _mean(_window_sum(own[:, 9], WINDOW_LINES, with_self=False), neigh),
            _shifted(prose, -1),
            _shifted(prose, 1),
            indent_diff == 0,
            np.minimum(indent_diff, 20) / 20,
            at / n,
            (first_prose <= at) & (at <= last_prose),
            [text_counts[line.text.casefold()] > 1 for line in lines],
            [min(group_sizes[line.group], 10) / 10 for line in lines],
            same_indent / np.maximum(neigh, 1),
            region / top_region,
            np.minimum(dist, REGION_LINES) / REGION_LINES,
            (body_first <= at) & (at <= body_last),
            indent >= body_indent,
        )
    ).astype(float)
    return np.hstack((own, context))


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
FEATURE_INDEX = MappingProxyType({name: k for k, name in enumerate(FEATURE_NAMES)})


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
    out: list[int] = []
    block, gap = 0, 0
    for p in probs:
        if p < 0.5:
            gap += 1
        else:
            if gap >= min_gap and out:
                block += 1
            gap = 0
        out.append(block)
    return out


def _segment_level(
    logit: np.ndarray, probs: np.ndarray, words: np.ndarray, indent: np.ndarray, in_segment: np.ndarray
) -> tuple[float, float]:
    """The optimal segment's word-weighted mean stage-1 logit, and the indentation holding most
    of the words it keeps (-1 when it keeps none). A line is then judged against its own page:
    how sure stage 1 is of the article's lines differs from site to site (WCXB pages score
    lower than AEB pages throughout), the gap to them less."""
    weight = np.where(in_segment, 1.0 + words, 0.0)
    seg_logit = float(np.average(logit, weights=weight)) if weight.sum() else 0.0
    kept = in_segment & (probs >= 0.5)
    if not kept.any():
        return seg_logit, -1.0
    values, inverse = np.unique(indent[kept], return_inverse=True)
    return seg_logit, float(values[int(np.argmax(np.bincount(inverse, weights=(1.0 + words)[kept])))])


def _same_group(lines: Sequence[PageLine], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per line, over the other lines of its paragraph group (no blank line between them: a
    table's rows, a list's items): their number, and the sum of ``values`` over them."""
    _, inverse = np.unique(np.array([line.group for line in lines]), return_inverse=True)
    count = np.bincount(inverse)[inverse] - 1.0
    return count, np.bincount(inverse, weights=values)[inverse] - values


def smoothing_features(lines: Sequence[PageLine], feats: np.ndarray, probs: Sequence[float] | np.ndarray) -> np.ndarray:
    """Second-stage features (``SMOOTHING_NAMES`` columns): a line's first-stage probability
    beside its neighbours' (jusText's context step, learned), and where it lies relative to the
    page's main text: the optimal segment (BTE: the run of lines maximising word-weighted
    probability above one half) and the block (lines between gaps of dropped lines) with the
    most kept words; and relative to the page itself: its logit beside the segment's mean, whether
    it sits at the segment's indentation, and its paragraph group's probability. A short line or
    list item inside the main text can stay; a teaser block below it can go."""
    n = len(lines)
    if not n:
        return np.zeros((0, len(SMOOTHING_NAMES)))
    feats = np.asarray(feats, dtype=float)
    probs = np.asarray(probs, dtype=float)
    col = FEATURE_INDEX
    words = np.expm1(feats[:, col["log_words"]])
    seg_lo, seg_hi = best_segment(((probs - 0.5) * (1.0 + words)).tolist())
    block_of = np.asarray(_blocks(probs.tolist(), BLOCK_GAP_LINES))
    mass = np.bincount(block_of, weights=np.where(probs >= 0.5, probs * words, 0.0))
    top_mass = float(mass.max()) or 1.0
    main_block = int(np.argmax(mass))
    indent = np.array([line.indent for line in lines], dtype=float)
    at = np.arange(n)
    neigh = _window_count(n, WINDOW_LINES)
    before = np.max([_shifted(probs, d) for d in range(-WINDOW_LINES, 0)], axis=0)
    after = np.max([_shifted(probs, d) for d in range(1, WINDOW_LINES + 1)], axis=0)
    same_n, same_sum = _same_indent(indent, WINDOW_LINES, probs)
    wide_n, wide_sum = _same_indent(indent, 2 * REGION_LINES, probs)
    seg_dist = np.where(at < seg_lo, seg_lo - at, np.where(at > seg_hi, at - seg_hi, 0))
    clipped = np.clip(probs, 1e-4, 1 - 1e-4)
    logit = np.log(clipped / (1 - clipped))
    in_segment = (seg_lo <= at) & (at <= seg_hi)
    seg_logit, seg_indent = _segment_level(logit, probs, words, indent, in_segment)
    group_n, group_sum = _same_group(lines, probs)
    return np.column_stack(
        (
            logit,
            _mean(_window_sum(probs, WINDOW_LINES, with_self=False), neigh),
            _mean(same_sum, same_n),
            np.minimum(before, after),
            _shifted(probs, -1),
            _shifted(probs, 1),
            feats[:, col["region_share"]],
            feats[:, col["at_body_indent"]],
            feats[:, col["list_marker"]],
            feats[:, col["log_words"]],
            _mean(wide_sum, wide_n),
            feats[:, col["in_body_span"]],
            in_segment,
            np.minimum(seg_dist, REGION_LINES) / REGION_LINES,
            at > seg_hi,
            mass[block_of] / top_mass,
            block_of == main_block,
            block_of > main_block,
            logit - seg_logit,
            indent == seg_indent,
            _mean(group_sum, group_n),
        )
    ).astype(float)


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
    "logit_vs_segment",
    "segment_indent",
    "group_prob",
)

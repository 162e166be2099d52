"""The plain-text page parser: headline, stated date and article body of a text dump.

``parse_text_page(text, cfg, repeated)`` reads a plain-text news page (a ``.txt`` dump, or an
HTML page rendered to text with its navigation, ``*``/``o`` bullets and indentation: text pages
reach it with their nesting, see ``cleaners.document.text_page_chars``) as lines
(``lines.split_lines``) and decides, line by line, in this order:

1. comment threads: from the first reader-comment start to the end of the page is cut
   (``comments``): a ``name | July 27, 2022 at 8:06 am`` byline (with the time of day: an
   article's ``name | July 27, 2022`` byline is none) once any prose came before it;
   such a byline, a comment-section header ("Leave a Reply", "12 Comments") or a ``X says:``
   byline once ``min_prose_words_before_cut`` prose words came before it;
2. the related tail: a teaser-list header ("Related", "You may also like") below
   ``min_prose_words_before_cut`` prose words and ``min_prose_share_before_tail`` of the page's
   prose starts the page's tail, cut to the end (``related_tail``);
3. the named line rules (``rules.LINE_RULES``: bullets, ad banners, crawl dates, navigation,
   share bars, menus, cookie notices, follow calls, related headers, attributions, copyright
   footers, teasers, shortcodes, captions), the first match naming the removal; a short
   non-sentence line beside a caption in its paragraph is the caption's other half;
4. site repeats: lines whose signature is in ``repeated`` (``repeated_lines`` over pages of one
   site) (``site_repeat``);
5. the line classifier (``model.LineClassifier``), on rendered pages only (list items or several
   indentation levels, ``_has_layout``): it scores the lines steps 1-4 leave (what
   ``rule_kept_lines`` returns) and marks those under ``min_keep_probability``; when that would
   keep fewer than ``min_body_words`` words, the best run of lines relative to the page's
   likeliest line is kept as well (an article is never emptied by the classifier alone);
6. the headline and date: the first prose line the classifier keeps (or a protected sentence,
   see 7) bounds the search; the headline is the first line above it (after any date lines)
   when the dump starts with it, else the longest headline-like line of 4+ words in the
   ``max_title_search_lines`` above it (``title``, kept out of the body; its repetitions are
   ``title_repeat``); the first date line in the ``max_date_lines_after_title`` lines under it
   gives ``published`` (a crawl stamp is no date line); short labels between headline and
   prose are ``label``; every date line left is ``date``;
7. the classifier's decisions for the lines left (``classifier``), except, on flat pages
   (dumps with at most ``max_protected_page_markers`` list items), sentences with at least
   ``min_protected_stopword_share`` function words and short sentences between two of them;
8. a list under a kept line ending in a colon ("Tour dates:"): the lines right under it (the
   rest of its paragraph, else the next one) come back from the classifier when they are at
   most ``max_intro_list_lines``;
9. a kept line of ``MIN_DUPLICATE_WORDS``+ words repeating an earlier kept line word for word
   (``duplicate``).

The body is the kept lines, paragraphs (runs of lines with no blank line between) separated by
``\\n\\n``, indentation, list markers and inner runs of spaces removed. Every removal is
reported as one ``Edit("boilerplate_<kind>", first removed line, lines removed)`` per kind.
With ``cfg.enabled`` off the text comes back as it is; with ``cfg.use_classifier`` off (or no
shipped model) step 5 keeps every line.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from cleaners.boilerplate.features import STOPWORDS, best_segment
from cleaners.boilerplate.lines import SENTENCE_END_RE, PageLine, split_lines
from cleaners.boilerplate.model import LineClassifier, default_model
from cleaners.boilerplate.rules import max_token_words, rules_for
from cleaners.boilerplate.vocab import (
    CLAUSE_END_RE,
    COMMENT_HEADER_RE,
    COMMENT_SAYS_RE,
    COMMENT_SECTION_RE,
    COMMENT_SECTION_TOKENS,
    CRAWL_DATE_RE,
    DATE_DMY_RE,
    DATE_ISO_RE,
    DATE_MDY_RE,
    INTRO_END_RE,
    MONTHS,
    PROSE_END_RE,
    RELATED_TAIL_RE,
    TIME_ZONE_END_RE,
    YEAR_DIGITS_RE,
)
from cleaners.config import BoilerplateConfig
from cleaners.edits import Edit, clip
from cleaners.words import hyphenated_words

MIN_PROSE_WORDS = 8  # a sentence-like line this long is prose (shorter: labels, headings, bylines)
MAX_DATE_LINE_WORDS = 14  # "Associated Press November 19, 2019, 9:02 AM" is a date line; prose is longer
MAX_COMMENT_SAYS_WORDS = 6
MAX_COMMENT_SECTION_WORDS = max(max_token_words(COMMENT_SECTION_TOKENS), 2)  # "12 Comments", "Comments (12)"
MIN_INTRO_WORDS = 3  # "Dare to Play 3:" introduces a list; "Share:" or "Tags:" does not
MIN_DUPLICATE_WORDS = 4  # shorter repeats ("Yes.", list labels) can be legitimate


class TextPage(NamedTuple):
    title: str | None
    published: datetime.date | None
    body: str
    edits: list[Edit]


# --- line tests ----------------------------------------------------------------------------------


def line_signature(line: str) -> str:
    """Normalised form used to compare lines across pages: casefolded words, single spaces."""
    return " ".join(hyphenated_words(line.casefold()))


def find_date(text: str) -> datetime.date | None:
    """The first calendar date written in ``text`` (month-first, day-first or ISO), if valid."""
    if not YEAR_DIGITS_RE.search(text):
        return None
    for regex in (DATE_MDY_RE, DATE_DMY_RE, DATE_ISO_RE):
        m = regex.search(text)
        if not m:
            continue
        month = m.group("month")
        if month.isdigit():
            month_num = int(month)
        else:
            key = month.lower()[:3]
            month_num = [mo[:3] for mo in MONTHS].index(key) + 1
        try:
            return datetime.date(int(m.group("year")), month_num, int(m.group("day")))
        except ValueError:
            continue
    return None


def _signature(line: PageLine) -> str:
    """``line_signature(line.text)``; from the words split_lines found when the text is ASCII
    (there casefolding is lower-casing and leaves the words as they are)."""
    if line.text.isascii():
        return " ".join(line.words).lower()
    return line_signature(line.text)


def _is_date_line(line: PageLine) -> bool:
    if line.n_words > MAX_DATE_LINE_WORDS or not YEAR_DIGITS_RE.search(line.text) or CRAWL_DATE_RE.match(line.text):
        return False
    if SENTENCE_END_RE.search(line.text) and not TIME_ZONE_END_RE.search(line.text):
        return False
    return find_date(line.text) is not None


def _is_comment_start(line: PageLine) -> bool:
    text = line.text
    return bool(
        ("|" in text and COMMENT_HEADER_RE.match(text))
        or (line.n_words <= MAX_COMMENT_SECTION_WORDS and COMMENT_SECTION_RE.match(text))
        or (line.n_words <= MAX_COMMENT_SAYS_WORDS and COMMENT_SAYS_RE.match(text))
    )


def _stop_share(line: PageLine) -> float:
    words = [w.lower() for w in hyphenated_words(line.text)]
    return sum(1 for w in words if w in STOPWORDS) / len(words) if words else 0.0


def _is_headline(line: PageLine, cfg: BoilerplateConfig) -> bool:
    n = line.n_words
    return (
        not line.marker
        and 2 <= n <= cfg.max_title_words
        and not CLAUSE_END_RE.search(line.text)
        and not _is_date_line(line)
        and "|" not in line.text
    )


def repeated_lines(pages: Sequence[str], min_pages: int) -> frozenset[str]:
    """Signatures of lines found on at least ``min_pages`` of ``pages`` (pages of one site)."""
    seen: Counter = Counter()
    for page in pages:
        seen.update({line_signature(line.text) for line in split_lines(page)} - {""})
    return frozenset(sig for sig, n in seen.items() if n >= max(min_pages, 1))


class _LineFacts(NamedTuple):
    prose: list[bool]  # MIN_PROSE_WORDS+ words ending like a statement (PROSE_END_RE)
    is_date: list[bool]  # _is_date_line
    sigs: list[str]  # _signature


def _line_facts(lines: Sequence[PageLine]) -> _LineFacts:
    """Per-line facts the steps below ask for repeatedly, computed once."""
    prose, is_date, sigs = [], [], []
    for line in lines:
        n = line.n_words
        prose.append(n >= MIN_PROSE_WORDS and bool(PROSE_END_RE.search(line.text)))
        is_date.append(n <= MAX_DATE_LINE_WORDS and _is_date_line(line))
        sigs.append(_signature(line))
    return _LineFacts(prose, is_date, sigs)


# --- steps 1-4: the named rules ------------------------------------------------------------------


def _rule_drops(
    lines: Sequence[PageLine], facts: _LineFacts, cfg: BoilerplateConfig, repeated: frozenset[str]
) -> dict[int, str]:
    """Lines the named rules remove (comment threads, the related tail, furniture, captions,
    site repeats), by index, with the rule's kind."""
    dropped: dict[int, str] = {}
    n = len(lines)
    prose, is_date, sigs = facts

    # 1. comment threads: cut from the first comment start to the end
    prose_words = 0
    for line in lines:
        if (prose_words and "|" in line.text and COMMENT_HEADER_RE.match(line.text)) or (
            prose_words >= cfg.min_prose_words_before_cut and _is_comment_start(line)
        ):
            for j in range(line.index, n):
                dropped[j] = "comments"
            break
        if prose[line.index]:
            prose_words += line.n_words

    # 2. a teaser-list header below most of the article's prose starts the page's tail
    total_prose = sum(line.n_words for line in lines if prose[line.index] and line.index not in dropped)
    prose_words = 0
    for line in lines:
        if line.index in dropped:
            break
        if (
            prose_words >= cfg.min_prose_words_before_cut
            and prose_words >= cfg.min_prose_share_before_tail * total_prose
            and RELATED_TAIL_RE.match(line.text)
        ):
            for j in range(line.index, n):
                dropped.setdefault(j, "related_tail")
            break
        if prose[line.index]:
            prose_words += line.n_words

    # 3. named line rules
    for line in lines:
        if line.index in dropped:
            continue
        for kind, rule in rules_for(line.n_words):
            if rule(line, cfg):
                dropped[line.index] = kind
                break
    # a caption is often two short lines (label + credit): drop the label with its credit
    for line in lines:
        if dropped.get(line.index) != "caption":
            continue
        for j in (line.index - 1, line.index + 1):
            if 0 <= j < n and j not in dropped and lines[j].group == line.group:
                other = lines[j]
                if (
                    other.n_words <= cfg.max_caption_words
                    and not SENTENCE_END_RE.search(other.text)
                    and not is_date[j]
                ):
                    dropped[j] = "caption"

    # 4. lines repeated across the site's pages
    if repeated:
        for line in lines:
            if line.index not in dropped and sigs[line.index] in repeated:
                dropped[line.index] = "site_repeat"

    return dropped


def rule_kept_lines(lines: Sequence[PageLine], cfg: BoilerplateConfig, repeated: frozenset[str] = frozenset()) -> list[PageLine]:
    """The lines the named rules leave for the classifier (what its features are computed on)."""
    dropped = _rule_drops(lines, _line_facts(lines), cfg, repeated)
    return [line for line in lines if line.index not in dropped]


# --- step 5: the classifier ----------------------------------------------------------------------


def _has_layout(lines: Sequence[PageLine], cfg: BoilerplateConfig) -> bool:
    """A rendered site page (list items, several indentation levels) rather than a flat dump of
    paragraphs. The classifier runs on rendered pages only: it was fitted on them, and a flat
    body (this module's own output included) is left to the named rules."""
    markers = sum(1 for line in lines if line.marker)
    return markers > cfg.max_protected_page_markers or len({line.indent for line in lines}) > 1


def _classifier_keeps(
    lines: Sequence[PageLine], dropped: dict[int, str], cfg: BoilerplateConfig, model: LineClassifier | None
) -> list[bool]:
    """Per line, whether the classifier keeps it (True for every line it does not score). Its
    features see the page as the rules leave it: a comment thread or a share bar says nothing
    about where the article is."""
    good = [True] * len(lines)
    if model is None or not _has_layout(lines, cfg):
        return good
    scored = [line for line in lines if line.index not in dropped]
    probs = model.probabilities(scored)
    for line, p in zip(scored, probs):
        good[line.index] = p >= cfg.min_keep_probability
    # an article is never emptied by the classifier alone: when it would keep fewer than
    # min_body_words words, the best run of lines relative to the page's likeliest line stays
    if sum(line.n_words for line in scored if good[line.index]) < cfg.min_body_words:
        for line in _best_relative_run(scored, probs):
            good[line.index] = True
    return good


def _best_relative_run(scored: Sequence[PageLine], probs: Sequence[float]) -> Sequence[PageLine]:
    """The run of ``scored`` lines maximising word-weighted probability above half the page's
    highest (BTE's optimal segment, with a threshold relative to the page)."""
    top = max(probs, default=0.0)
    lo, hi = best_segment([(p - 0.5 * top) * (1 + line.n_words) for line, p in zip(scored, probs)])
    return scored[lo : hi + 1]


# --- step 6: headline, date line, labels ---------------------------------------------------------


def _title_and_date(
    lines: Sequence[PageLine],
    facts: _LineFacts,
    dropped: dict[int, str],
    good: Sequence[bool],
    protected: frozenset[int],
    cfg: BoilerplateConfig,
) -> tuple[str | None, datetime.date | None]:
    """The headline and the stated publication date; drops the headline, its repetitions, the
    labels under it and every date line from the body (into ``dropped``)."""
    n = len(lines)
    prose, is_date, sigs = facts
    live = [line for line in lines if line.index not in dropped]
    first_prose = next(
        (line.index for line in live if prose[line.index] and (good[line.index] or line.index in protected)), n
    )
    title_line = _find_title(live, first_prose, is_date, cfg) if first_prose < n else None  # a headline heads prose
    title = " ".join(title_line.text.split()) if title_line else None
    published: datetime.date | None = None
    if title_line is not None:
        dropped[title_line.index] = "title"
        title_sig = sigs[title_line.index]
        for line in live:
            if line.index not in dropped and sigs[line.index] == title_sig:
                dropped[line.index] = "title_repeat"
        after = [line for line in live if line.index > title_line.index and line.index not in dropped]
        for line in after[: cfg.max_date_lines_after_title]:
            if is_date[line.index]:
                published = find_date(line.text)
                break
        for line in after:
            if line.index >= first_prose:
                break
            if (
                not line.marker
                and line.n_words <= cfg.max_label_words
                and not SENTENCE_END_RE.search(line.text)
                and not is_date[line.index]
            ):
                dropped[line.index] = "label"
    for line in live:
        if line.index not in dropped and is_date[line.index]:
            dropped[line.index] = "date"
    return title, published


def _find_title(
    live: Sequence[PageLine], first_prose: int, is_date: Sequence[bool], cfg: BoilerplateConfig
) -> PageLine | None:
    """The headline: the page's first line (after any date lines) when the dump starts with it,
    else the longest headline-like line in the lines above the first prose line."""
    above = [line for line in live if line.index < first_prose]
    if not above:
        return None
    first = next((line for line in above if not is_date[line.index]), above[0])
    if _is_headline(first, cfg) and len(above) <= 6:
        return first
    window = [line for line in above if line.index >= first_prose - cfg.max_title_search_lines]
    candidates = [line for line in window if _is_headline(line, cfg) and line.n_words >= 4]
    if not candidates:
        return None
    return max(candidates, key=lambda line: (line.n_words, line.index))


# --- steps 7-8: what the classifier may not drop -------------------------------------------------


def _protected_prose(lines: Sequence[PageLine], prose: Sequence[bool], cfg: BoilerplateConfig) -> frozenset[int]:
    """Lines the classifier may not drop on flat pages (dumps with at most a few list items, not
    rendered site pages full of menus): sentences with enough function words, and short
    sentences ("He was clear.") whose neighbouring lines are such sentences."""
    if sum(1 for line in lines if line.marker) > cfg.max_protected_page_markers:
        return frozenset()
    keep = {
        line.index
        for line in lines
        if prose[line.index] and _stop_share(line) >= cfg.min_protected_stopword_share
    }
    if not keep:
        return frozenset()
    for i, line in enumerate(lines):
        neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(lines)]
        if i not in keep and PROSE_END_RE.search(line.text) and all(j in keep for j in neighbours):
            keep.add(i)
    return frozenset(keep)


def _rescue_list(lines: Sequence[PageLine], intro: int, dropped: dict[int, str], cfg: BoilerplateConfig) -> None:
    """Keep the classifier-dropped lines of the paragraph group right under ``intro`` (the rest
    of the intro's own group when the list follows without a blank line)."""
    start = intro + 1
    if start >= len(lines):
        return
    group = lines[start].group
    end = start
    while end < len(lines) and lines[end].group == group and end - start < cfg.max_intro_list_lines:
        end += 1
    if end < len(lines) and lines[end].group == group:
        return  # longer than any list an article introduces: a menu or a link farm
    for j in range(start, end):
        if dropped.get(j) == "classifier":
            del dropped[j]


# --- the parser ----------------------------------------------------------------------------------


def parse_text_page_with_model(
    text: str,
    cfg: BoilerplateConfig,
    repeated: frozenset[str] = frozenset(),
    model: LineClassifier | None = None,
) -> TextPage:
    """``parse_text_page`` with an explicit classifier (None: named rules only)."""
    lines = split_lines(text)
    if not cfg.enabled or not lines:
        return TextPage(None, None, _render(lines, [True] * len(lines)) if cfg.enabled else text, [])
    facts = _line_facts(lines)
    dropped = _rule_drops(lines, facts, cfg, repeated)  # steps 1-4
    good = _classifier_keeps(lines, dropped, cfg, model)  # step 5
    protected = _protected_prose(lines, facts.prose, cfg)  # sentences the classifier may not drop
    title, published = _title_and_date(lines, facts, dropped, good, protected, cfg)  # step 6

    # 7. classifier decisions for the rest; sentences among the page's prose stay regardless
    for line in lines:
        if line.index not in dropped and not good[line.index] and line.index not in protected:
            dropped[line.index] = "classifier"
    # 8. a list or table introduced by a kept line ending in a colon ("Tour dates:") belongs to
    # the article: the paragraph group under it comes back from the classifier
    for line in lines:
        if line.index in dropped or not line.text.endswith(":") or line.n_words < MIN_INTRO_WORDS:
            continue
        if not INTRO_END_RE.search(line.text):
            continue
        _rescue_list(lines, line.index, dropped, cfg)

    # 9. a kept line repeating an earlier kept line word for word (teaser, caption echo)
    seen: set[str] = set()
    for line in lines:
        if line.index in dropped:
            continue
        sig = facts.sigs[line.index]
        if sig in seen and line.n_words >= MIN_DUPLICATE_WORDS:
            dropped[line.index] = "duplicate"
        seen.add(sig)

    keep = [line.index not in dropped for line in lines]
    return TextPage(title, published, _render(lines, keep), _edits(lines, dropped))


def _render(lines: Sequence[PageLine], keep: Sequence[bool]) -> str:
    paragraphs: list[list[str]] = []
    last_group = None
    for line, kept in zip(lines, keep):
        if not kept:
            continue
        text = " ".join(line.text.split())
        if line.group != last_group:
            paragraphs.append([])
            last_group = line.group
        paragraphs[-1].append(text)
    return "\n\n".join("\n".join(p) for p in paragraphs)


def _edits(lines: Sequence[PageLine], dropped: dict[int, str]) -> list[Edit]:
    first: dict[str, str] = {}
    counts: Counter = Counter()
    for index in sorted(dropped):
        kind = dropped[index]
        if kind not in first:
            first[kind] = clip(lines[index].raw.strip())
        counts[kind] += 1
    return [Edit(f"boilerplate_{kind}", first[kind], counts[kind]) for kind in first]


def parse_text_page(text: str, cfg: BoilerplateConfig, repeated: frozenset[str] = frozenset()) -> TextPage:
    """Headline, stated publication date and boilerplate-free body of a plain-text page."""
    model = default_model() if cfg.use_classifier else None
    return parse_text_page_with_model(text, cfg, repeated, model)


def strip_boilerplate_with_edits(text: str, cfg: BoilerplateConfig) -> tuple[str, list[Edit]]:
    """The body of a plain-text page and the boilerplate edits (the headline is not body)."""
    page = parse_text_page(text, cfg)
    return page.body, page.edits


def strip_boilerplate(text: str, cfg: BoilerplateConfig) -> str:
    """The body of a plain-text page, boilerplate removed."""
    return strip_boilerplate_with_edits(text, cfg)[0]

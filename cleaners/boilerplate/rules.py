"""The named line rules: one test per kind of page furniture, each applied to one line.

``LINE_RULES`` is the ordered ``(name, test)`` list; the first test a line passes names the
``boilerplate_<name>`` edit that removes it. The page parser (``page.py``) runs them all on
plain-text pages, and ``cleaners.residual`` runs the high-precision ones named in
``BoilerplateConfig.html_residual_rules`` on text extracted from HTML. The patterns are in
``vocab.py``; here are the tests built on them and the cheap exact guards they run behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cleaners.boilerplate.lines import PageLine
from cleaners.boilerplate.vocab import (
    AD_BANNER_RE,
    ATTRIBUTION_RE,
    BULLET_ONLY_RE,
    CAPTION_PREFIX_RE,
    COOKIE_HEADER_RE,
    COOKIE_HEADER_TOKENS,
    COOKIE_NOTICE_RE,
    COPYRIGHT_NOTICE_RE,
    CRAWL_DATE_RE,
    CREDIT_AGENCY_RE,
    CREDIT_LABEL_PAREN_RE,
    CREDIT_PAREN_RE,
    CREDIT_TAIL_RE,
    FOLLOW_CALL_RE,
    MENU_ITEMS,
    MENU_SEPARATOR_CHARS,
    MENU_SEPARATOR_RE,
    NAV_LINE_RE,
    NAV_TOKENS,
    PX_LABEL_RE,
    RELATED_HEADER_RE,
    RELATED_TOKENS,
    SHARE_LINE_RE,
    SHORTCODE_LINE_RE,
    TEASER_RE,
)
from cleaners.config import BoilerplateConfig
from cleaners.words import count_words_cjk

LineRule = Callable[[PageLine, BoilerplateConfig], bool]

MAX_BREADCRUMB_ITEM_WORDS = 8  # a breadcrumb item is a section name or a headline fragment
MAX_FOLLOW_CALL_WORDS = 20  # a follow call is one short line; a longer one opening "Join"/"Get" is prose


def max_token_words(tokens: Sequence[str]) -> int:
    """Words in the longest of ``tokens`` (a word-count guard for a regex of those tokens)."""
    return max(count_words_cjk(t) for t in tokens)


# Cheap exact guards run before a rule's regex (every line meets every rule): a regex matching
# one token between non-word characters cannot match a line with more words than its longest
# token; a pattern with a literal character cannot match a line without it; BULLET_ONLY_RE
# matches only lines without a word.
MAX_NAV_WORDS = max_token_words(NAV_TOKENS)
MAX_RELATED_WORDS = max_token_words(RELATED_TOKENS)
MAX_COOKIE_HEADER_WORDS = max_token_words(COOKIE_HEADER_TOKENS)


def _is_menu_bar(line: PageLine, cfg: BoilerplateConfig) -> bool:
    """A bar of site sections ("Menu | Home | News | World") or a breadcrumb from the home page
    ("Home » World » Europe"): two or more separated items, every one a section or navigation
    word, or the first one "Home" and none longer than a headline fragment."""
    if not any(c in line.text for c in MENU_SEPARATOR_CHARS):  # cheap exact guard before the split
        return False
    items = [item.strip(" -–—:").lower() for item in MENU_SEPARATOR_RE.split(line.text.strip())]
    items = [item for item in items if item]
    if len(items) < 2:
        return False
    if all(item in MENU_ITEMS for item in items):
        return True
    return items[0] in ("home", "homepage") and all(count_words_cjk(item) <= MAX_BREADCRUMB_ITEM_WORDS for item in items)


def _is_caption(line: PageLine, cfg: BoilerplateConfig) -> bool:
    text = line.text
    # guards: PX_LABEL_RE needs a leading digit, CREDIT_TAIL_RE a "by", the paren credits a ")" at the end
    if (text[:1].isdigit() and PX_LABEL_RE.match(text)) or CAPTION_PREFIX_RE.match(text):
        return True
    if line.n_words > cfg.max_caption_words:
        return False
    if "by" in text and CREDIT_TAIL_RE.search(text) and CREDIT_AGENCY_RE.search(text):
        return True
    if not text.endswith(")"):
        return False
    if CREDIT_LABEL_PAREN_RE.search(text):
        return True
    paren = CREDIT_PAREN_RE.search(text)
    return bool(paren and CREDIT_AGENCY_RE.search(paren.group(0)))


def _is_follow(line: PageLine, cfg: BoilerplateConfig) -> bool:
    return line.n_words <= MAX_FOLLOW_CALL_WORDS and bool(FOLLOW_CALL_RE.match(line.text))


def _is_cookie_notice(line: PageLine, cfg: BoilerplateConfig) -> bool:
    text = line.text
    if line.n_words <= MAX_COOKIE_HEADER_WORDS and COOKIE_HEADER_RE.match(text):
        return True
    return "ookies" in text and bool(COOKIE_NOTICE_RE.match(text))


def _is_copyright_notice(line: PageLine, cfg: BoilerplateConfig) -> bool:
    return line.n_words <= cfg.max_copyright_words and bool(COPYRIGHT_NOTICE_RE.search(line.text))


# In order: the first rule a line passes names its removal. cleaners.config.LINE_RULE_NAMES
# lists the same names (html_residual_rules is checked against it without importing this module).
LINE_RULES: tuple[tuple[str, LineRule], ...] = (
    ("bullet", lambda line, cfg: line.n_words == 0 and bool(BULLET_ONLY_RE.match(line.text))),
    ("ad_banner", lambda line, cfg: bool(AD_BANNER_RE.match(line.text))),
    ("crawl_date", lambda line, cfg: "-" in line.text and bool(CRAWL_DATE_RE.match(line.text))),
    ("nav", lambda line, cfg: line.n_words <= MAX_NAV_WORDS and bool(NAV_LINE_RE.match(line.text))),
    ("share", lambda line, cfg: bool(SHARE_LINE_RE.match(line.text))),
    ("menu", _is_menu_bar),
    ("cookie", _is_cookie_notice),
    ("follow", _is_follow),
    ("related", lambda line, cfg: line.n_words <= MAX_RELATED_WORDS and bool(RELATED_HEADER_RE.match(line.text))),
    ("attribution", lambda line, cfg: bool(ATTRIBUTION_RE.match(line.text))),
    ("copyright", _is_copyright_notice),
    ("teaser", lambda line, cfg: ("[" in line.text or ":" in line.text) and bool(TEASER_RE.search(line.text))),
    ("shortcode", lambda line, cfg: line.text.startswith("[") and bool(SHORTCODE_LINE_RE.match(line.text))),
    ("caption", _is_caption),
)


# The most words a line matched by each rule can have (rules not listed: any length). A longer
# line skips the rule without calling it: the rule's own guard would turn it away.
RULE_MAX_WORDS = {"bullet": 0, "crawl_date": 2, "nav": MAX_NAV_WORDS, "related": MAX_RELATED_WORDS, "follow": MAX_FOLLOW_CALL_WORDS}
_MAX_BOUND = max(RULE_MAX_WORDS.values())
_RULES_BY_WORDS = tuple(
    tuple(rule for rule in LINE_RULES if RULE_MAX_WORDS.get(rule[0], n) >= n) for n in range(_MAX_BOUND + 2)
)  # index n: the rules a line of n words (the last: of more than _MAX_BOUND words) still needs


def rules_for(n_words: int) -> tuple[tuple[str, LineRule], ...]:
    """LINE_RULES, in order, without those no line of ``n_words`` words can match."""
    return _RULES_BY_WORDS[min(n_words, _MAX_BOUND + 1)]

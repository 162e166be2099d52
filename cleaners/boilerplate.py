"""Plain-text page boilerplate removal: headline, date and article body from a text dump.

``parse_text_page(text, cfg, repeated)`` reads a plain-text news page (a ``.txt`` dump, or an
HTML page rendered to text with its navigation, ``*``/``o`` bullets and indentation) and returns
``TextPage(title, published, body, edits)``. It works on lines (``cleaners.lines``):

1. comment threads: from the first reader-comment header (``name | July 27, 2022 at 8:06 am``,
   ``X in reply to Y. | ...``, ``Leave a Reply``) everything that follows is cut;
2. named rules, one per kind of furniture (ad banners, navigation, share/follow calls, cookie
   notices, bullet-only lines, image captions and size labels, related-post headers, "Originally
   published as", crawl dates, shortcode-only lines), each a regex built from a named token
   tuple (behind cheap exact guards: a word-count bound or a required character);
3. site repeats: lines whose signature is in ``repeated`` (see ``repeated_lines``);
4. the headline (kept out of the body, later repetitions dropped), the date line under it
   (``published``; a crawl-date stamp is not a publication date) and lone category labels;
5. a logistic line classifier (weights in ``boilerplate_model.json``, fitted by
   ``flows/fit_boilerplate.py``) for what the rules do not name: menus, link lists, teasers,
   footers. It scores the lines steps 1-3 leave (``rule_kept_lines``), indentation included
   (text pages reach this module with their nesting, see ``cleaners.document.text_page_chars``).
   Its context features let short lines between good paragraphs stay; its second stage also
   sees where a line lies relative to the page's main text (BTE optimal segment, blocks). When
   it would keep fewer than ``min_body_words`` words, the best run of lines relative to the
   page's likeliest line stays (an article is never emptied by the classifier alone);
6. a list or table under a kept line ending in a colon ("Tour dates:") stays with the article.

The body is the kept lines, paragraphs (runs of lines with no blank line between) separated by
``\\n\\n``, indentation and list markers removed. Every removal is reported as one
``Edit("boilerplate_<rule>", first removed line, lines removed)`` per rule.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cleaners.config import BoilerplateConfig
from cleaners.edits import Edit, clip
from cleaners.lines import (
    FEATURE_NAMES,
    SENTENCE_END_RE,
    SMOOTHING_NAMES,
    STOPWORDS,
    PageLine,
    best_segment,
    line_features,
    smoothing_features,
    split_lines,
)
from cleaners.words import count_words_cjk, hyphenated_words

MODEL_RESOURCE = "boilerplate_model.json"


def _alt(tokens: Sequence[str]) -> str:
    """A non-capturing alternation of literal tokens, longest first (trafilatura's _alt)."""
    return "(?:" + "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)) + ")"


# --- dates -------------------------------------------------------------------------------------

MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
WEEKDAY_ABBREVIATIONS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTH = _alt(MONTHS + MONTH_ABBREVIATIONS)

# DATE_MDY_RE: month-first dates. matches "July 26, 2022" and "Nov. 19, 2019"; not "July 2022".
DATE_MDY_RE = re.compile(rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})\b", re.I)
# DATE_DMY_RE: day-first dates. matches "20 November 2019"; does not match "20 Novembers".
DATE_DMY_RE = re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month>{_MONTH})\.?,?\s+(?P<year>\d{{4}})\b", re.I)
# DATE_ISO_RE: ISO dates. matches "2019-11-20"; does not match "2019-11".
DATE_ISO_RE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
# CRAWL_DATE_RE: a crawler's stamp, not a publication date. matches "Tue, 21-Oct-2025";
# does not match "October 21, 2025".
CRAWL_DATE_RE = re.compile(
    rf"^{_alt(WEEKDAY_ABBREVIATIONS)},?\s+\d{{1,2}}-{_alt(MONTH_ABBREVIATIONS)}-\d{{4}}$", re.I
)
# YEAR_DIGITS_RE: four digits in a row, which every date form above needs. matches "2019";
# does not match "July 26".
YEAR_DIGITS_RE = re.compile(r"\d{4}")
# TIME_ZONE_END_RE: a time stamp's tail. matches "9:02 AM" and "14:00 GMT.";
# does not match "He left."
TIME_ZONE_END_RE = re.compile(r"\b(?:[AP]M|ET|GMT|UTC)\W*$", re.I)
MIN_PROSE_WORDS = 8  # a sentence-like line this long is prose (shorter: labels, headings, bylines)
MAX_DATE_LINE_WORDS = 14  # "Associated Press November 19, 2019, 9:02 AM" is a date line; prose is longer

# PROSE_END_RE: a statement's end. matches "He left." and 'She said “no.”'; does not match
# "Is Russia leaving?" (headlines ask questions).
PROSE_END_RE = re.compile(r"[.…:;。][\"'”’»)\]」』]*$")

# --- comment threads ---------------------------------------------------------------------------

# COMMENT_HEADER_RE: a reader comment's byline. matches "taurus the judge | July 27, 2022 at 8:06 am"
# and "DSHornet in reply to taurus the judge. | July 27, 2022 at 9:33 am"; does not match
# "July 27, 2022" or "Sports | Tennis".
COMMENT_HEADER_RE = re.compile(
    rf"^[^|]{{1,80}}?\s*\|\s*(?:{_MONTH})\.?\s+\d{{1,2}},?\s+\d{{4}}"
    r"(?:\s*(?:at|@|,)?\s*\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?)?$",
    re.I,
)
# COMMENT_SAYS_RE: a comment byline in "says:" form. matches "thelastchargersfan says:" and
# "Bob. Just Bob. says:"; does not match "The minister says: we will win."
COMMENT_SAYS_RE = re.compile(r"^\S(?:[^:]{0,50}\S)?\s+says:?$", re.I)
MAX_COMMENT_SAYS_WORDS = 6

COMMENT_SECTION_TOKENS = (
    "leave a reply", "leave a comment", "post a comment", "add a comment", "join the discussion",
    "join the conversation", "show comments", "view comments", "reader comments",
)  # fmt: skip
# COMMENT_SECTION_RE: a comment-section header. matches "Leave a Reply" and "12 Comments";
# does not match "He declined to comment."
COMMENT_SECTION_RE = re.compile(
    rf"^(?:{_alt(COMMENT_SECTION_TOKENS)}|\d+\s+(?:comments?|responses?|replies)|comments?\s*\(\d+\))\W*$",
    re.I,
)

# --- named line rules --------------------------------------------------------------------------

AD_TOKENS = ("google ads", "advertisement", "advertising", "advert", "sponsored", "sponsored content", "ads", "ad")
# AD_BANNER_RE: ad slots. matches "Google Ads | Google Ads | Google Ads" and "ADVERTISEMENT";
# does not match "Google Ads revenue rose 9%".
AD_BANNER_RE = re.compile(rf"^(?:{_alt(AD_TOKENS)}\s*[|•·/-]?\s*)+$", re.I)

NAV_TOKENS = (
    "navigation", "main navigation", "toggle navigation", "menu", "main menu", "open menu",
    "close menu", "skip to content", "skip to main content", "jump to", "home", "homepage", "search",
    "search →", "back to top", "sections", "all sections", "close", "sign in", "log in", "login",
    "sign up", "register", "my account", "subscribe", "subscribe now", "subscribesign in",
    "subscribe sign in", "next", "previous", "prev", "next article", "previous article",
    "load more", "view all", "see all", "show more", "more", "top",
)  # fmt: skip
# NAV_LINE_RE: a whole line of site navigation. matches "Navigation" and "Back to Top «";
# does not match "Navigation rights were disputed."
NAV_LINE_RE = re.compile(rf"^[\W_]*{_alt(NAV_TOKENS)}[\W_]*$", re.I)

SECTION_TOKENS = (
    "news", "latest", "latest news", "top stories", "breaking news", "world", "world news", "politics",
    "business", "economy", "markets", "money", "finance", "sport", "sports", "opinion", "opinions",
    "editorial", "analysis", "entertainment", "culture", "arts", "style", "lifestyle", "life", "travel",
    "food", "tech", "technology", "science", "health", "environment", "climate", "education", "weather",
    "video", "videos", "photos", "podcasts", "live", "local", "national", "international", "us", "u.s.",
    "uk", "europe", "asia", "africa", "americas", "middle east", "australia", "india", "china",
    "contact", "contact us", "about", "about us",
)  # fmt: skip
MENU_ITEMS = frozenset(SECTION_TOKENS) | frozenset(NAV_TOKENS)
MENU_SEPARATOR_CHARS = "|»›•·/>"  # every character MENU_SEPARATOR_RE splits on
# MENU_SEPARATOR_RE: what separates the items of a menu bar or a breadcrumb. splits "Home | News"
# and "Home » World"; does not split "home-made" or "and/or".
MENU_SEPARATOR_RE = re.compile(r"\s*[|»›•·]\s*|\s+[/>]\s+")
MAX_BREADCRUMB_ITEM_WORDS = 8


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


SHARE_TOKENS = (
    "share", "share this", "share this article", "share this story", "share on facebook",
    "share on twitter", "tweet", "email", "e-mail", "print", "facebook", "twitter", "linkedin",
    "whatsapp", "reddit", "pinterest", "pin it", "tumblr", "telegram", "flipboard", "copy link",
    "copy url", "show more sharing options", "share via email", "text", "comments", "comment",
)  # fmt: skip
# SHARE_LINE_RE: a share button or a bar of them. matches "Share" and "Facebook | Twitter | Email";
# does not match "Twitter shares fell."
SHARE_LINE_RE = re.compile(rf"^(?:[\W_]*{_alt(SHARE_TOKENS)}[\W_]*)+$", re.I)

COOKIE_SUBJECTS = ("this website", "this web site", "this site", "our website", "our site", "we")
COOKIE_KINDS = ("necessary", "non-necessary", "essential", "functional", "analytics", "performance", "any")
# COOKIE_NOTICE_RE: a cookie-consent notice. matches "This website uses cookies to improve your
# experience." and "Necessary cookies are absolutely essential"; does not match "Cookies were
# sent to the space station." or "Police said the site uses cookies from a bakery" (not first).
COOKIE_NOTICE_RE = re.compile(
    rf"^(?:(?:{_alt(COOKIE_SUBJECTS)})\s+(?:uses?|is\s+using|are\s+using)|{_alt(COOKIE_KINDS)})\s+cookies\b", re.I
)
COOKIE_HEADER_TOKENS = (
    "privacy overview", "cookie policy", "cookies policy", "cookie preferences", "cookie settings",
    "cookies settings", "privacy & cookies", "cookies", "manage cookies", "accept cookies",
)  # fmt: skip
# COOKIE_HEADER_RE: a cookie banner's heading or button. matches "Privacy Overview" and
# "* Cookie Settings"; does not match "Cookies for the bake sale".
COOKIE_HEADER_RE = re.compile(rf"^[\W_]*{_alt(COOKIE_HEADER_TOKENS)}[\W_]*$", re.I)

FOLLOW_VERBS = ("join", "follow", "subscribe to", "sign up for", "like", "get", "download")
FOLLOW_TARGETS = (
    "telegram", "channel", "newsletter", "facebook", "twitter", "instagram", "youtube", "whatsapp",
    "us", "our app", "podcast", "updates", "alerts",
)  # fmt: skip
# FOLLOW_CALL_RE: follow/subscribe calls. matches "Join our brand new verified AMN Telegram channel
# and get important news uncensored!" and "Follow Us"; does not match "Join the army, he said."
FOLLOW_CALL_RE = re.compile(
    rf"^(?:{_alt(FOLLOW_VERBS)})\b(?:\s+\S+){{0,6}}?\s+{_alt(FOLLOW_TARGETS)}\b.{{0,80}}$", re.I
)
MAX_FOLLOW_CALL_WORDS = 20

RELATED_TOKENS = (
    "recent posts", "related posts", "related articles", "related stories", "related",
    "read more", "read next", "more stories", "more news", "most popular", "most read",
    "most popular articles", "most popular videos", "trending", "trending now", "you may also like",
    "you might also like", "recommended", "recommended for you", "latest news", "latest",
    "popular posts", "further reading", "see also", "more from", "editor's picks", "top stories",
    "follow us", "tags", "topics", "filed under", "advertisement", "don't miss", "see more",
    "must read", "more on this", "more on this story", "in other news",
)  # fmt: skip
# RELATED_HEADER_RE: headers of teaser lists. matches "Recent Posts" and "Most Popular Videos";
# does not match "Recent posts on social media drew criticism."
RELATED_HEADER_RE = re.compile(rf"^[\W_]*{_alt(RELATED_TOKENS)}[\W_]*$", re.I)

RELATED_TAIL_TOKENS = (
    "related", "related posts", "related articles", "related stories", "recent posts", "more stories",
    "you may also like", "you might also like", "recommended", "recommended for you", "read next",
    "more from", "popular posts", "most popular", "most read", "trending now", "editor's picks",
)  # fmt: skip
# RELATED_TAIL_RE: a teaser-list header that, below the article, starts the page's tail.
# matches "Related" and "You may also like"; does not match "Related coverage of the trial:".
RELATED_TAIL_RE = re.compile(rf"^[\W_]*{_alt(RELATED_TAIL_TOKENS)}[\W_]*$", re.I)

TEASER_PREFIX_TOKENS = (
    "see more", "read more", "read also", "also read", "don't miss", "dont miss", "watch", "related",
    "more", "recommended", "click here", "see also", "must read", "listen",
)  # fmt: skip
TEASER_TAG_TOKENS = ("insight", "video", "reaction", "pictures", "photos", "poll", "live", "analysis", "latest", "gallery")
# TEASER_RE: a link to another story. matches "SEE MORE: Hong Kong protests" and "China furious at
# Macron [INSIGHT]|"; does not match "More than 800 students were trapped." or "[VIDEO] of the day shows".
TEASER_RE = re.compile(
    rf"(?:^{_alt(TEASER_PREFIX_TOKENS)}\s*:|\[{_alt(TEASER_TAG_TOKENS)}\][\W_]*$)", re.I
)

# ATTRIBUTION_RE: syndication footers. matches "Originally published as Russia will leave ..."
# and "This article first appeared on Example"; does not match "It was first published in 1990."
ATTRIBUTION_RE = re.compile(
    r"^(?:(?:originally|first)\s+published\s+(?:as|at|in|on|by)\b"
    r"|this\s+(?:article|story|post)\s+(?:was\s+)?(?:originally\s+|first\s+)?(?:appeared|published)\b)",
    re.I,
)

RESERVED_TOKENS = ("all rights reserved", "tous droits réservés", "alle rechte vorbehalten", "todos los derechos reservados")
# COPYRIGHT_NOTICE_RE: a copyright footer: a line opening with ©/(c)/"Copyright" and a year or a
# ©, or one that is or ends in a rights-reserved formula after a year. matches "Copyright 2022 The
# Daily Planet. All rights reserved.", "© AP", "2021 Foo Media, all rights reserved" and "All
# rights reserved."; does not match "Copyright laws changed in 2020, he said." or "He said all
# rights reserved."
COPYRIGHT_NOTICE_RE = re.compile(
    rf"^\W*(?:©|\(c\)\s|copyright\s*(?:©|\(c\))?\s*(?:\d{{4}}|©)"
    rf"|(?:.*\b\d{{4}}\b.*)?{_alt(RESERVED_TOKENS)}\W*$)",
    re.I,
)

# BULLET_ONLY_RE: nothing but bullets, bars and punctuation. matches "•" and "* |";
# does not match "• 2024".
BULLET_ONLY_RE = re.compile(r"^[\W_]*$")

# SHORTCODE_LINE_RE: a line that is only a CMS shortcode. matches '[embedpost slug="x"]';
# does not match "[Editor's note: the vote was delayed.]".
SHORTCODE_LINE_RE = re.compile(r"^\[/?[a-z_]+(?:\s+[a-z_]+\s*=[^\]]*)?\]$", re.I)

CAPTION_PREFIX_TOKENS = (
    "featured image", "image", "images", "photo", "photos", "picture", "illustration", "graphic",
    "file photo", "caption", "image credit", "photo credit", "credit", "credits", "source",
)  # fmt: skip
# CAPTION_PREFIX_RE: image credits. matches "Featured image credit: International Space Station by
# NASA" and "Photo by Jason Kempin/Getty Images"; does not match "Photos show the damage."
CAPTION_PREFIX_RE = re.compile(
    rf"^{_alt(CAPTION_PREFIX_TOKENS)}(?:\s+(?:credit|courtesy|source))?\s*(?::|\||by\b|courtesy\b|via\b|©)", re.I
)
# PX_LABEL_RE: image size labels from file names. matches "1024px ISS Zvezda module";
# does not match "1024 people".
PX_LABEL_RE = re.compile(r"^\d{2,4}\s?px\b", re.I)

AGENCY_TOKENS = (
    "NASA", "ESA", "Getty Images", "Getty", "Reuters", "AP", "AP Photo", "AFP", "EPA", "Shutterstock",
    "Wikimedia Commons", "Wikimedia", "Unsplash", "Flickr", "Bloomberg", "iStock", "Alamy",
)  # fmt: skip
# CREDIT_TAIL_RE: a caption ending in a credit. matches "ISS Zvezda module by NASA" and
# "View of the International Space Station by NASA/Crew-2"; does not match "Run by volunteers".
CREDIT_TAIL_RE = re.compile(r"\bby\s+[A-Z][\w.&'-]*(?:[\s/][A-Z0-9][\w.&'-]*)*$")
# CREDIT_AGENCY_RE: a credit naming a picture agency or a slash credit. matches "by NASA/Crew-2",
# "(NASA/Released)" and "Getty Images"; does not match "by Mr Smith".
CREDIT_AGENCY_RE = re.compile(rf"(?:\b{_alt(AGENCY_TOKENS)}\b|\b\w+/[A-Z][\w-]*)", re.I)
# CREDIT_LABEL_PAREN_RE: a caption's labelled credit at the end. matches "Protesters in the street
# (Image: GETTY )"; does not match "He left (image of calm)."
CREDIT_LABEL_PAREN_RE = re.compile(r"\((?:image|photo|picture|credit|pic|source)s?\s*:[^()]{1,50}\)$", re.I)
# CREDIT_PAREN_RE: a parenthesised credit at the end. matches "The station. (NASA/Released)";
# does not match "He left (again)."
CREDIT_PAREN_RE = re.compile(r"\((?:(?:photo|image|credit|source)s?:?\s*)?[A-Z][^()]{0,50}\)$")

# INTRO_END_RE: a line introducing a list or table. matches "Tour 2020 dates:" and
# "Dare to Play 3 :"; does not match "Note: see below." or "Time: 12:30".
INTRO_END_RE = re.compile(r"[^\W_][)\]]?\s?:$")
MIN_INTRO_WORDS = 3  # "Dare to Play 3:" introduces a list; "Share:" or "Tags:" does not

MIN_DUPLICATE_WORDS = 4  # shorter repeats ("Yes.", list labels) can be legitimate


def _nwords(line: PageLine) -> int:
    return line.n_words


def _is_caption(line: PageLine, cfg: BoilerplateConfig) -> bool:
    text = line.text
    # guards: PX_LABEL_RE needs a leading digit, CREDIT_TAIL_RE a "by", the paren credits a ")" at the end
    if (text[:1].isdigit() and PX_LABEL_RE.match(text)) or CAPTION_PREFIX_RE.match(text):
        return True
    if _nwords(line) > cfg.max_caption_words:
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
    return _nwords(line) <= MAX_FOLLOW_CALL_WORDS and bool(FOLLOW_CALL_RE.match(line.text))


def _is_cookie_notice(line: PageLine, cfg: BoilerplateConfig) -> bool:
    text = line.text
    if line.n_words <= MAX_COOKIE_HEADER_WORDS and COOKIE_HEADER_RE.match(text):
        return True
    return "ookies" in text and bool(COOKIE_NOTICE_RE.match(text))


def _is_copyright_notice(line: PageLine, cfg: BoilerplateConfig) -> bool:
    return line.n_words <= cfg.max_copyright_words and bool(COPYRIGHT_NOTICE_RE.search(line.text))


def _max_words(tokens: Sequence[str]) -> int:
    return max(count_words_cjk(t) for t in tokens)


# Cheap exact guards run before a rule's regex (every line meets every rule): a regex matching
# one token between non-word characters cannot match a line with more words than its longest
# token; a pattern with a literal character cannot match a line without it; BULLET_ONLY_RE
# matches only lines without a word.
MAX_NAV_WORDS = _max_words(NAV_TOKENS)
MAX_RELATED_WORDS = _max_words(RELATED_TOKENS)
MAX_COOKIE_HEADER_WORDS = _max_words(COOKIE_HEADER_TOKENS)
MAX_COMMENT_SECTION_WORDS = max(_max_words(COMMENT_SECTION_TOKENS), 2)  # "12 Comments", "Comments (12)"

LINE_RULES: tuple[tuple[str, Callable[[PageLine, BoilerplateConfig], bool]], ...] = (
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


def _rules_for(n_words: int) -> tuple[tuple[str, object], ...]:
    """LINE_RULES, in order, without those no line of ``n_words`` words can match."""
    return _RULES_BY_WORDS[min(n_words, _MAX_BOUND + 1)]


# --- result types ------------------------------------------------------------------------------


class TextPage(NamedTuple):
    title: str | None
    published: datetime.date | None
    body: str
    edits: list[Edit]


class LineModel(NamedTuple):
    """Standardised logistic regression over named features."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """One probability per row of ``x`` (rows in ``features`` order)."""
        z = self.bias + ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))

    def probability(self, x: Sequence[float]) -> float:
        return float(self.probabilities(np.asarray([x], dtype=float))[0])


class TreeModel(NamedTuple):
    """Gradient-boosted regression trees on the log-odds (complete binary trees of ``depth``:
    node k's children are 2k+1 (value <= threshold) and 2k+2; ``leaf`` holds 2**depth values
    per tree). Inference walks every tree at once with numpy: ``depth`` gathers per page."""

    features: tuple[str, ...]
    depth: int
    feature: tuple[tuple[int, ...], ...]  # per tree, per inner node: feature index
    threshold: tuple[tuple[float, ...], ...]  # per tree, per inner node
    leaf: tuple[tuple[float, ...], ...]  # per tree, 2**depth leaf values (shrinkage applied)
    bias: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        feature, threshold, leaf = _tree_arrays(self)
        rows = np.arange(len(x))[:, None]
        trees = np.arange(feature.shape[0])[None, :]
        node = np.zeros((len(x), feature.shape[0]), dtype=np.int64)
        for _ in range(self.depth):
            f = feature[trees, node]
            node = 2 * node + 1 + (x[rows, f] > threshold[trees, node])
        z = self.bias + leaf[trees, node - (2**self.depth - 1)].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))

    def probability(self, x: Sequence[float]) -> float:
        return float(self.probabilities(np.asarray([x], dtype=float))[0])


@functools.lru_cache(maxsize=8)
def _tree_arrays(model: TreeModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's trees as arrays (an immutable model's cached view)."""
    arrays = (
        np.asarray(model.feature, dtype=np.int64),
        np.asarray(model.threshold, dtype=float),
        np.asarray(model.leaf, dtype=float),
    )
    for arr in arrays:
        arr.setflags(write=False)
    return arrays


class LineClassifier(NamedTuple):
    """Stage 1 scores each line from its own and window features (``FEATURE_NAMES``); stage 2
    rescores it from its stage-1 probability beside its neighbours' and its place relative to
    the page's main text (``SMOOTHING_NAMES``)."""

    stage1: LineModel | TreeModel
    stage2: LineModel | TreeModel | None

    def probabilities(self, lines: Sequence[PageLine]) -> list[float]:
        if not lines:
            return []
        feats = line_features(lines)
        probs = self.stage1.probabilities(feats)
        if self.stage2 is None:
            return probs.tolist()
        return self.stage2.probabilities(smoothing_features(lines, feats, probs)).tolist()


def model_from_dict(data: dict, expected: tuple[str, ...]) -> LineModel | TreeModel:
    """A ``LineModel`` or ``TreeModel`` from its JSON form; refuses weights fitted on other
    features."""
    features = tuple(data["features"])
    if features != expected:
        raise ValueError("boilerplate model was fitted on different features; refit it")
    if data.get("kind") == "trees":
        return TreeModel(
            features,
            int(data["depth"]),
            tuple(tuple(int(v) for v in t) for t in data["feature"]),
            tuple(tuple(float(v) for v in t) for t in data["threshold"]),
            tuple(tuple(float(v) for v in t) for t in data["leaf"]),
            float(data["bias"]),
        )
    return LineModel(
        features,
        tuple(float(v) for v in data["mean"]),
        tuple(float(v) or 1.0 for v in data["scale"]),
        tuple(float(v) for v in data["weights"]),
        float(data["bias"]),
    )


def classifier_from_dict(data: dict) -> LineClassifier:
    stage2 = data.get("stage2")
    return LineClassifier(
        model_from_dict(data["stage1"], FEATURE_NAMES),
        model_from_dict(stage2, SMOOTHING_NAMES) if stage2 else None,
    )


@functools.cache
def default_model() -> LineClassifier | None:
    """The shipped classifier weights (read once; immutable), or None if not shipped."""
    try:
        raw = Path(__file__).with_name(MODEL_RESOURCE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return classifier_from_dict(json.loads(raw))


# --- helpers -----------------------------------------------------------------------------------


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
    if _nwords(line) > MAX_DATE_LINE_WORDS or not YEAR_DIGITS_RE.search(line.text) or CRAWL_DATE_RE.match(line.text):
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


def _is_prose(line: PageLine) -> bool:
    """A sentence-like line (a headline may end in "?" or "!", prose here ends otherwise)."""
    return _nwords(line) >= MIN_PROSE_WORDS and bool(PROSE_END_RE.search(line.text))


def _is_headline(line: PageLine, cfg: BoilerplateConfig) -> bool:
    n = _nwords(line)
    return (
        not line.marker
        and 2 <= n <= cfg.max_title_words
        and not re.search(r"[.:;,][\"'”’)]*$", line.text)
        and not _is_date_line(line)
        and "|" not in line.text
    )


def repeated_lines(pages: Sequence[str], min_pages: int) -> frozenset[str]:
    """Signatures of lines found on at least ``min_pages`` of ``pages`` (pages of one site)."""
    seen: Counter = Counter()
    for page in pages:
        seen.update({line_signature(line.text) for line in split_lines(page)} - {""})
    return frozenset(sig for sig, n in seen.items() if n >= max(min_pages, 1))


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


class _LineFacts(NamedTuple):
    prose: list[bool]  # _is_prose per line
    is_date: list[bool]  # _is_date_line per line
    sigs: list[str]  # line_signature per line


def _line_facts(lines: Sequence[PageLine]) -> _LineFacts:
    """Per-line facts the passes below ask for repeatedly, computed once."""
    prose, is_date, sigs = [], [], []
    for line in lines:
        n = line.n_words
        prose.append(n >= MIN_PROSE_WORDS and bool(PROSE_END_RE.search(line.text)))
        is_date.append(n <= MAX_DATE_LINE_WORDS and _is_date_line(line))
        sigs.append(_signature(line))
    return _LineFacts(prose, is_date, sigs)


def _rule_drops(
    lines: Sequence[PageLine], facts: _LineFacts, cfg: BoilerplateConfig, repeated: frozenset[str]
) -> dict[int, str]:
    """Lines the named rules remove (comment threads, the related tail, furniture, captions,
    site repeats), by index, with the rule's kind."""
    dropped: dict[int, str] = {}
    n = len(lines)
    prose, is_date, sigs = facts

    # 1. comment threads: cut from the first comment header to the end
    prose_words = 0
    for line in lines:
        if (prose_words and "|" in line.text and COMMENT_HEADER_RE.match(line.text)) or (
            prose_words >= cfg.min_prose_words_before_cut and _is_comment_start(line)
        ):
            for j in range(line.index, n):
                dropped[j] = "comments"
            break
        if prose[line.index]:
            prose_words += _nwords(line)

    # 1b. a teaser-list header below most of the article's prose starts the page's tail
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
            prose_words += _nwords(line)

    # 2. named line rules
    for line in lines:
        if line.index in dropped:
            continue
        for kind, rule in _rules_for(line.n_words):
            if rule(line, cfg):  # type: ignore[operator]
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
                    _nwords(other) <= cfg.max_caption_words
                    and not SENTENCE_END_RE.search(other.text)
                    and not is_date[j]
                ):
                    dropped[j] = "caption"

    # 3. lines repeated across the site's pages
    if repeated:
        for line in lines:
            if line.index not in dropped and sigs[line.index] in repeated:
                dropped[line.index] = "site_repeat"

    return dropped


def rule_kept_lines(lines: Sequence[PageLine], cfg: BoilerplateConfig, repeated: frozenset[str] = frozenset()) -> list[PageLine]:
    """The lines the named rules leave for the classifier (what its features are computed on)."""
    dropped = _rule_drops(lines, _line_facts(lines), cfg, repeated)
    return [line for line in lines if line.index not in dropped]


# --- the parser --------------------------------------------------------------------------------


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
    n = len(lines)
    facts = _line_facts(lines)
    prose, is_date, sigs = facts
    dropped = _rule_drops(lines, facts, cfg, repeated)

    # 4. classifier probabilities; the features see the page as the rules leave it (a comment
    # thread or a share bar says nothing about where the article is)
    good = [True] * n
    scored: list[PageLine] = []
    probs: list[float] = []
    if model is not None and _has_layout(lines, cfg):
        scored = [line for line in lines if line.index not in dropped]
        probs = model.probabilities(scored)
        for line, p in zip(scored, probs):
            good[line.index] = p >= cfg.min_keep_probability
        # an article is never emptied by the classifier alone: when it would keep fewer than
        # min_body_words words, the best run of lines relative to the page's likeliest line stays
        if sum(line.n_words for line in scored if good[line.index]) < cfg.min_body_words:
            for line in _best_relative_run(scored, probs):
                good[line.index] = True

    # 5. headline, date line, category labels
    live = [line for line in lines if line.index not in dropped]
    protected = _protected_prose(lines, prose, cfg)  # sentences the classifier may not drop
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
                and _nwords(line) <= cfg.max_label_words
                and not SENTENCE_END_RE.search(line.text)
                and not is_date[line.index]
            ):
                dropped[line.index] = "label"
    for line in live:
        if line.index not in dropped and is_date[line.index]:
            dropped[line.index] = "date"

    # 6. classifier decisions for the rest; sentences among the page's prose stay regardless
    for line in lines:
        if line.index not in dropped and not good[line.index] and line.index not in protected:
            dropped[line.index] = "classifier"
    # 6b. a list or table introduced by a kept line ending in a colon ("Tour dates:") belongs to
    # the article: the paragraph group under it comes back from the classifier
    for line in lines:
        if line.index in dropped or not line.text.endswith(":") or _nwords(line) < MIN_INTRO_WORDS:
            continue
        if not INTRO_END_RE.search(line.text):
            continue
        _rescue_list(lines, line.index, dropped, cfg)

    # 7. a kept line repeating an earlier kept line word for word (teaser, caption echo)
    seen: set[str] = set()
    for line in lines:
        if line.index in dropped:
            continue
        sig = sigs[line.index]
        if sig in seen and line.n_words >= MIN_DUPLICATE_WORDS:
            dropped[line.index] = "duplicate"
        seen.add(sig)

    keep = [line.index not in dropped for line in lines]
    body = _render(lines, keep)
    return TextPage(title, published, body, _edits(lines, dropped))


def _best_relative_run(scored: Sequence[PageLine], probs: Sequence[float]) -> Sequence[PageLine]:
    """The run of ``scored`` lines maximising word-weighted probability above half the page's
    highest (BTE's optimal segment, with a threshold relative to the page)."""
    top = max(probs, default=0.0)
    lo, hi = best_segment([(p - 0.5 * top) * (1 + line.n_words) for line, p in zip(scored, probs)])
    return scored[lo : hi + 1]


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


def _has_layout(lines: Sequence[PageLine], cfg: BoilerplateConfig) -> bool:
    """A rendered site page (list items, several indentation levels) rather than a flat dump of
    paragraphs. The classifier runs on rendered pages only: it was fitted on them, and a flat
    body (this module's own output included) is left to the named rules."""
    markers = sum(1 for line in lines if line.marker)
    return markers > cfg.max_protected_page_markers or len({line.indent for line in lines}) > 1


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
    candidates = [line for line in window if _is_headline(line, cfg) and _nwords(line) >= 4]
    if not candidates:
        return None
    return max(candidates, key=lambda line: (_nwords(line), line.index))


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

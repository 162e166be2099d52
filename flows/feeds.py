"""Feeds and sitemaps -> article URLs.

``parse_feed(data, base_url)`` reads RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed;
``parse_sitemap(data, base_url)`` reads a urlset, a sitemap index or a plain-text sitemap,
gzipped or not. Both return absolute http(s) URLs in document order without repeats. XML is
parsed without entity expansion, DTD loading or network access.

``discover_urls(feeds, sitemaps, cfg)`` fetches them through the polite fetcher (robots,
rate limits, redirects and the private-address guard apply), follows sitemap indexes up to
``fetch.max_sitemap_depth`` and stops at ``fetch.max_discovered_urls``. It returns a
``Discovery``: the URLs plus one ``(source, reason, detail)`` per feed or sitemap that failed.
Credentials are stripped from feed, sitemap and discovered URLs alike (``redact_url``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree

from cleaners.config import PipelineConfig
from cleaners.document import redact_url
from cleaners.errors import PageError
from cleaners.steps import Stats
from flows.fetch import Fetcher, HostRegistry
from flows.http import FetchError

GZIP_MAGIC = b"\x1f\x8b"
FEED_TYPES = None  # feeds are served as application/rss+xml, text/xml, application/json...: no type filter
# Atom link relations that point at the article itself ("alternate" is also the default)
ATOM_ARTICLE_RELS = ("alternate", "")
XML_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False, "recover": True}


class FeedError(PageError):
    """A feed or sitemap that cannot be read: stage ``discover``, a stable ``reason``, a ``detail``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__("discover", reason, detail)


def _absolute(base_url: str, links: Iterable[str | None]) -> list[str]:
    out: dict[str, None] = {}
    for link in links:
        if not link or not link.strip():
            continue
        url = redact_url(urljoin(base_url, link.strip()))
        if urlsplit(url).scheme in ("http", "https"):
            out.setdefault(url, None)
    return list(out)


def _local(tag) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _xml_root(data: bytes):
    parser = etree.XMLParser(**XML_PARSER_OPTIONS)
    try:
        root = etree.fromstring(data.strip(), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError("feed_invalid", str(exc)[:200]) from exc
    if root is None:
        raise FeedError("feed_invalid", "no XML document")
    return root


def inflate(data: bytes, max_bytes: int) -> bytes:
    """Gunzip ``data`` if it is gzip, refusing more than ``max_bytes`` inflated."""
    if not data.startswith(GZIP_MAGIC):
        return data
    d = zlib.decompressobj(31)
    try:
        out = d.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise FeedError("feed_invalid", f"bad gzip: {exc}") from exc
    if len(out) > max_bytes:
        raise FeedError("too_large", f"inflates to more than {max_bytes} bytes")
    return out


def parse_feed(data: bytes, base_url: str) -> list[str]:
    """Article links of an RSS, RDF, Atom or JSON feed."""
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return _parse_json_feed(data, base_url)
    root = _xml_root(data)
    links: list[str | None] = []
    kind = _local(root.tag)
    for el in root.iter():
        name = _local(el.tag)
        if kind == "feed" and name == "entry":
            for link in el:
                if _local(link.tag) == "link" and (link.get("rel") or "").lower() in ATOM_ARTICLE_RELS:
                    links.append(link.get("href"))
                    break
        elif name == "item":  # RSS 2.0 and RSS 1.0 (RDF)
            link = next((c.text for c in el if _local(c.tag) == "link" and c.text), None)
            if link is None:  # a permalink guid is the article URL
                guid = next((c for c in el if _local(c.tag) == "guid"), None)
                if guid is not None and (guid.get("isPermaLink") or "true").lower() == "true":
                    link = guid.text
            links.append(link)
    if kind not in ("feed", "rss", "rdf", "channel"):
        raise FeedError("feed_invalid", f"root element <{kind}> is not a feed")
    return _absolute(base_url, links)


def _parse_json_feed(data: bytes, base_url: str) -> list[str]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError("feed_invalid", f"bad JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise FeedError("feed_invalid", "JSON without an items list")
    links = []
    for item in doc["items"]:
        if isinstance(item, dict):
            url = item.get("url") or item.get("external_url")
            links.append(url if isinstance(url, str) else None)
    return _absolute(base_url, links)


@dataclass(frozen=True)
class Sitemap:
    urls: list[str]
    sitemaps: list[str]  # child sitemaps of an index


def parse_sitemap(data: bytes, base_url: str, max_bytes: int = 50 * 1024 * 1024) -> Sitemap:
    """Page URLs of a urlset, child sitemaps of a sitemapindex, or lines of a text sitemap."""
    data = inflate(data, max_bytes)
    if not data.lstrip().startswith(b"<"):
        lines = data.decode("utf-8", "replace").splitlines()
        return Sitemap(_absolute(base_url, (ln for ln in lines if "://" in ln)), [])
    root = _xml_root(data)
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise FeedError("feed_invalid", f"root element <{kind}> is not a sitemap")
    locs = [el.text for el in root.iter() if _local(el.tag) == "loc" and _local(el.getparent().tag) in ("url", "sitemap")]
    if kind == "sitemapindex":
        return Sitemap([], _absolute(base_url, locs))
    return Sitemap(_absolute(base_url, locs), [])


@dataclass
class Discovery:
    urls: list[str] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (source, reason, detail)


def _get(fetcher: Fetcher, url: str, max_bytes: int) -> bytes:
    """Fetch a feed/sitemap body through the fetcher's robots/rate/redirect handling."""
    resp = fetcher.get(url, max_bytes=max_bytes, content_types=FEED_TYPES)
    if resp.status != 200:
        raise FetchError(f"http_{resp.status}", f"{resp.url} answered {resp.status}")
    return resp.body


def discover_urls(
    feeds: Iterable[str],
    sitemaps: Iterable[str],
    cfg: PipelineConfig,
    stats: Stats | None = None,
    hosts: HostRegistry | None = None,
) -> Discovery:
    """Article URLs from feeds and sitemaps (fetched politely), capped at ``max_discovered_urls``."""
    stats = stats if stats is not None else Stats()
    fc = cfg.fetch
    found: dict[str, None] = {}
    out = Discovery()
    fetcher = Fetcher(fc, hosts)

    def add(urls: list[str]) -> None:
        for u in urls:
            if len(found) >= fc.max_discovered_urls:
                stats.add("discover.capped")
                return
            found.setdefault(u, None)

    try:
        for feed in dict.fromkeys(redact_url(f.strip()) for f in feeds):
            try:
                links = parse_feed(_get(fetcher, feed, fc.max_feed_bytes), feed)
                stats.add("discover.feeds")
                stats.add("discover.feed_links", len(links))
                add(links)
            except PageError as err:  # FetchError or FeedError
                stats.add(f"discover.failed_{err.reason}")
                out.failures.append((feed, err.reason, redact_url(err.detail)))
        queue = [(s, 0) for s in dict.fromkeys(redact_url(s.strip()) for s in sitemaps)]
        visited: set[str] = set()
        while queue:
            url, depth = queue.pop(0)
            if url in visited:
                continue
            visited.add(url)
            try:
                sm = parse_sitemap(_get(fetcher, url, fc.max_feed_bytes), url, fc.max_feed_bytes)
            except PageError as err:  # FetchError or FeedError
                stats.add(f"discover.failed_{err.reason}")
                out.failures.append((url, err.reason, redact_url(err.detail)))
                continue
            stats.add("discover.sitemaps")
            stats.add("discover.sitemap_links", len(sm.urls))
            add(sm.urls)
            if sm.sitemaps and depth >= fc.max_sitemap_depth:
                stats.add("discover.sitemap_too_deep", len(sm.sitemaps))
                out.failures.append((url, "sitemap_too_deep", f"{len(sm.sitemaps)} child sitemaps not read"))
                continue
            queue.extend((child, depth + 1) for child in sm.sitemaps)
    finally:
        fetcher.close()
    out.urls = list(found)
    return out

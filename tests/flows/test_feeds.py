"""Feed and sitemap parsing (fixtures from ../shared) and discovery over a loopback server."""

from __future__ import annotations

import gzip
import json

import pytest

from cleaners.config import parse_config
from cleaners.steps import Stats
from flows.feeds import FeedError, discover_urls, parse_feed, parse_sitemap
from flows.fetch import HostRegistry

from httpserver import LoopbackServer, Reply
from shared_data import SHARED as SHARED_ROOT
from shared_data import need

SHARED = SHARED_ROOT / "fixtures" / "feeds"
XML = {"Content-Type": "application/xml"}


def fixture(name: str) -> bytes:
    path = need(SHARED / name, "../shared feed fixture")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        ("feed1.atom", 1, "http://example.org/2003/12/13/atom03"),  # the rel="self"-only entry is not an article link
        ("feed2.rss", 1, "http://www.example.com/blog/post/1"),
        ("feed.json", 25, "https://www.npr.org/2021/10/29/1050315385/keller-rinaudo-how-can-delivery-drones-save-lives"),
    ],
    ids=["atom", "rss", "json"],
)
def test_parse_feed_fixtures(name, count, first):
    links = parse_feed(fixture(name), "http://base.example/")
    assert len(links) == count
    assert links[0].split("?")[0] == first


@pytest.mark.parametrize("name", ["sitemap.xml", "sitemap.xml.gz"])
def test_parse_sitemap_fixtures(name):
    sm = parse_sitemap(fixture(name), "http://base.example/")
    assert len(sm.urls) == 84 and sm.urls[0] == "https://www.sitemaps.org/" and sm.sitemaps == []


@pytest.mark.parametrize(
    ("doc", "links"),
    [
        (b'<rss><channel><item><link>/a</link></item><item><guid>http://h/b</guid></item><item><link>/a</link></item></channel></rss>', ["http://h/a", "http://h/b"]),
        (b'<rss><channel><item><guid isPermaLink="false">x-1</guid></item></channel></rss>', []),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><item><link>http://h/r</link></item></rdf:RDF>', ["http://h/r"]),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="alternate" href="b"/></entry><entry><link href="mailto:x@y"/></entry></feed>', ["http://h/b"]),
        (json.dumps({"items": [{"url": "/j"}, {"external_url": "https://o/x"}, {"id": "1"}]}).encode(), ["http://h/j", "https://o/x"]),
    ],
    ids=["rss-relative-guid-dedup", "rss-non-permalink-guid", "rdf", "atom-skip-non-http", "json-feed"],
)
def test_parse_feed_table(doc, links):
    assert parse_feed(doc, "http://h/") == links


def test_xml_entities_are_not_expanded():
    doc = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel><item><link>http://h/&x;</link></item></channel></rss>'
    assert all("root:" not in u for u in parse_feed(doc, "http://h/"))


@pytest.mark.parametrize("doc", [b"<html><body>no feed</body></html>", b"{\"title\": 1}", b"\x00\x01garbage"], ids=["html", "json-no-items", "binary"])
def test_not_a_feed_raises(doc):
    with pytest.raises(FeedError):
        parse_feed(doc, "http://h/")


def test_discover_from_feed_sitemap_index_and_gz_sitemap():
    with LoopbackServer() as srv:
        srv.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /secret\n", {"Content-Type": "text/plain"}))
        srv.route("/feed.rss", Reply(200, b"<rss><channel><item><link>/a1</link></item><item><link>/a2</link></item></channel></rss>", XML))
        index = f'<sitemapindex><sitemap><loc>{srv.url("/s1.xml")}</loc></sitemap><sitemap><loc>{srv.url("/s2.xml.gz")}</loc></sitemap><sitemap><loc>/secret.xml</loc></sitemap></sitemapindex>'
        srv.route("/index.xml", Reply(200, index.encode(), XML))
        srv.route("/s1.xml", Reply(200, b"<urlset><url><loc>/a2</loc></url><url><loc>/b1</loc></url></urlset>", XML))
        srv.route("/s2.xml.gz", Reply(200, gzip.compress(b"<urlset><url><loc>/c1</loc></url></urlset>"), {"Content-Type": "application/x-gzip"}))
        srv.route("/gone.xml", Reply(404))
        cfg = parse_config(None, {"fetch.allow_private_hosts": True, "fetch.min_host_interval_seconds": 0.01})
        stats = Stats()
        found = discover_urls([srv.url("/feed.rss")], [srv.url("/index.xml"), srv.url("/gone.xml")], cfg, stats, hosts=HostRegistry())
    assert found.urls == [srv.url(p) for p in ("/a1", "/a2", "/b1", "/c1")]
    assert sorted(r for _, r, _ in found.failures) == ["http_404", "robots_disallowed"]
    assert stats.counters["discover.sitemaps"] == 3


def test_discovery_cap_and_depth():
    with LoopbackServer() as srv:
        for i in range(4):  # an index chain d0 -> d1 -> d2 -> d3
            srv.route(f"/d{i}.xml", Reply(200, f"<sitemapindex><sitemap><loc>/d{i + 1}.xml</loc></sitemap></sitemapindex>".encode(), XML))
        srv.route("/many.xml", Reply(200, ("<urlset>" + "".join(f"<url><loc>/p{i}</loc></url>" for i in range(50)) + "</urlset>").encode(), XML))
        cfg = parse_config(None, {"fetch.allow_private_hosts": True, "fetch.min_host_interval_seconds": 0.01, "fetch.max_discovered_urls": 10, "fetch.max_sitemap_depth": 2})
        found = discover_urls([], [srv.url("/many.xml"), srv.url("/d0.xml")], cfg, hosts=HostRegistry())
    assert len(found.urls) == 10
    assert [r for _, r, _ in found.failures] == ["sitemap_too_deep"]


def test_discovery_strips_credentials_and_names_dns_errors(monkeypatch):
    """Feed, sitemap and discovered URLs lose their user:password@ (never sent nor kept); a feed
    whose host does not resolve fails as dns_error, not robots_disallowed."""
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # .invalid (RFC 2606) never resolves, here at once
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with LoopbackServer() as srv:
        creds = srv.url("/").replace("http://", "http://reader:s3cret@")
        srv.route("/feed.rss", Reply(200, f"<rss><channel><item><link>{creds}a1</link></item><item><link>/a2</link></item></channel></rss>".encode(), XML))
        srv.route("/old.xml", Reply(301, headers={"Location": creds + "s1.xml"}))
        srv.route("/s1.xml", Reply(200, b"<urlset><url><loc>/b1</loc></url></urlset>", XML))
        cfg = parse_config(None, {"fetch.allow_private_hosts": True, "fetch.min_host_interval_seconds": 0.01})
        found = discover_urls([creds + "feed.rss", "http://reader:s3cret@news.invalid/feed.rss"], [creds + "old.xml", creds + "gone.xml"], cfg, hosts=HostRegistry())
        sent = srv.requests()
    assert found.urls == [srv.url(p) for p in ("/a1", "/a2", "/b1")]
    assert sorted(found.failures)[0][:2] == (srv.url("/gone.xml"), "http_404")
    assert sorted(found.failures)[1][:2] == ("http://news.invalid/feed.rss", "dns_error")
    assert "s3cret" not in repr(found.failures)
    assert sent and all("Authorization" not in headers for _, headers in sent)

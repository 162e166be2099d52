"""The polite fetcher against a loopback server (no network, no Prefect needed)."""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import random
import socket
import threading
import time

import pytest

from cleaners import schema as S
from cleaners.config import parse_config
from cleaners.document import LoadFailure, RawPage, clean_rows
from cleaners.steps import Stats
from flows.fetch import HostRegistry, fetch_pages
from flows.http import is_public_address, retry_after_seconds

from httpserver import LoopbackServer, Reply

ARTICLE = b"<html><head><title>T</title></head><body><article><p>" + b"Words of a news story. " * 40 + b"</p></article></body></html>"
INTERVAL = 0.15


def make_cfg(**fetch):
    base = {
        "fetch.allow_private_hosts": True,
        "fetch.min_host_interval_seconds": INTERVAL,
        "fetch.min_backoff_seconds": 0.05,
        "fetch.max_backoff_seconds": 0.5,
        "fetch.timeout_seconds": 1.0,
        "fetch.max_page_seconds": 3.0,
        "fetch.max_workers": 4,
    }
    base.update({f"fetch.{k}": v for k, v in fetch.items()})
    return parse_config(None, base)


def run(urls, cfg=None, **kw):
    stats = Stats()
    out = list(fetch_pages(urls, cfg or make_cfg(), stats=stats, hosts=HostRegistry(), **kw))
    return {(o.page.source if isinstance(o, LoadFailure) else o.source): o for o in out}, stats, out


def reason(item) -> str:
    return item.error.reason if isinstance(item, LoadFailure) else "ok"


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        srv.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"}))
        yield srv


def test_every_url_ends_as_page_or_failure_with_reason(server):
    server.route("/ok", Reply(200, ARTICLE, {"Content-Type": "text/html; charset=utf-8", "ETag": '"v1"'}))
    server.route("/missing", Reply(404, b"nope"))
    server.route("/private/x", Reply(200, ARTICLE))
    server.route("/pdf", Reply(200, b"%PDF-1.4", {"Content-Type": "application/pdf"}))
    server.route("/big", Reply(200, b"x" * 5000))
    server.route("/big-chunked", Reply(200, b"x" * 5000, content_length=False))
    server.route("/loop1", Reply(302, headers={"Location": "/loop2"}))
    server.route("/loop2", Reply(302, headers={"Location": "/loop1"}))
    server.route("/moved", Reply(301, headers={"Location": "/ok"}))
    server.route("/slow", Reply(200, ARTICLE, delay_seconds=2.5))
    server.route("/trickle", Reply(200, ARTICLE * 4, trickle_seconds=0.8))
    cfg = make_cfg(max_body_bytes=4096, max_page_seconds=2.0)  # /trickle: 4 chunks 0.8 s apart, each under the read timeout
    expected = {
        "/ok": "ok",
        "/missing": "http_404",
        "/private/x": "robots_disallowed",
        "/pdf": "not_html",
        "/big": "too_large",
        "/big-chunked": "too_large",
        "/loop1": "redirect_loop",
        "/moved": "ok",
        "/slow": "timeout",
        "/trickle": "timeout",
    }
    urls = [server.url(p) for p in expected] + ["ftp://example.org/x", "http://", "not a url"]
    got, stats, out = run(urls, cfg)
    assert len(out) == len(urls), "every URL ends as exactly one page or failure"
    assert {p: reason(got[server.url(p)]) for p in expected} == expected
    for bad in urls[-3:]:
        assert reason(got[bad]) == "bad_url"
    moved = got[server.url("/moved")]
    assert moved.url == server.url("/ok") and moved.source == server.url("/moved")
    assert got[server.url("/ok")].declared_charset == "utf-8"
    assert got[server.url("/ok")].format == "html"
    assert stats.counters["fetch.urls"] == len(urls)
    for item in out:  # every failure says what happened, in one line
        if isinstance(item, LoadFailure):
            assert item.error.detail.strip() and "\n" not in item.error.detail, item.error
    # the User-Agent is ours and robots.txt was fetched once for the host
    assert server.paths().count("/robots.txt") == 1
    assert all(h.get("User-Agent", "").startswith("newsclean") for _, h in server.requests())


class ClockedHosts(HostRegistry):
    """A HostRegistry that records, client side, when each request is let go (the limiter's claim)."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[float] = []

    @contextlib.contextmanager
    def slot(self, host, cfg):
        with super().slot(host, cfg):
            self.starts.append(time.monotonic())
            yield


def test_per_host_rate_limit_holds_under_concurrency(server):
    for i in range(12):
        server.route(f"/p{i}", Reply(200, ARTICLE))
    hosts = ClockedHosts()
    out = list(fetch_pages([server.url(f"/p{i}") for i in range(12)], make_cfg(max_host_connections=4), hosts=hosts))
    assert all(isinstance(o, RawPage) for o in out) and len(out) == 12
    # client side, every request (robots.txt included): the exact spacing is checked on a fake
    # clock below; here thread scheduling may delay a timestamp, so single gaps get 10% and the
    # median and the whole span must hold the interval
    starts = sorted(hosts.starts)
    assert len(starts) == 13
    gaps = sorted(b - a for a, b in zip(starts, starts[1:]))
    assert gaps[0] >= INTERVAL * 0.9, f"requests let go {gaps[0]:.4f} s apart, limit {INTERVAL} s"
    assert gaps[len(gaps) // 2] >= INTERVAL
    times = sorted(t for t, _ in server.requests())  # as the server saw them
    assert times[-1] - times[0] >= (len(times) - 1) * INTERVAL * 0.9


class FakeClock:
    """A clock whose sleeps overrun by a random 0-20 ms, as a loaded machine's do."""

    def __init__(self, seed: int) -> None:
        self.now, self.rng, self.lock = 0.0, random.Random(seed), threading.Lock()

    def monotonic(self) -> float:
        with self.lock:
            self.now += 1e-6
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds + self.rng.uniform(0, 0.02)


@pytest.mark.parametrize("seed", range(5))
def test_host_interval_is_kept_between_actual_releases_when_sleeps_overrun(seed):
    """A request woken late must not shorten the gap to the next one (the next start counts
    from the actual release, not the planned one)."""
    clock = FakeClock(seed)
    hosts = HostRegistry(clock=clock.monotonic, sleep=clock.sleep)
    cfg = make_cfg(max_host_connections=4).fetch
    released: list[float] = []

    def request() -> None:
        with hosts.slot("example.org", cfg):
            released.append(clock.now)

    threads = [threading.Thread(target=request) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    released.sort()
    assert len(released) == 20
    assert min(b - a for a, b in zip(released, released[1:])) >= INTERVAL


def test_robots_crawl_delay_slows_the_host(server):
    server.route("/robots.txt", Reply(200, b"User-agent: *\nCrawl-delay: 0.4\n", {"Content-Type": "text/plain"}))
    for i in range(3):
        server.route(f"/c{i}", Reply(200, ARTICLE))
    hosts = ClockedHosts()
    list(fetch_pages([server.url(f"/c{i}") for i in range(3)], make_cfg(), hosts=hosts))
    starts = sorted(hosts.starts)  # robots.txt first, then the pages Crawl-delay apart
    assert len(starts) == 4
    assert min(b - a for a, b in zip(starts[1:], starts[2:])) >= 0.4 * 0.9


def test_retries_500_then_200_and_honours_retry_after(server, monkeypatch):
    server.route("/flaky", Reply(500), Reply(503), Reply(200, ARTICLE))
    server.route("/busy", Reply(429, headers={"Retry-After": "1"}), Reply(200, ARTICLE))
    server.route("/down", Reply(503))
    slept: list[float] = []
    real_sleep = time.sleep

    def recording_sleep(seconds: float) -> None:
        slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", recording_sleep)
    got, stats, _ = run([server.url("/flaky"), server.url("/busy"), server.url("/down")], make_cfg(max_retries=2))
    assert reason(got[server.url("/flaky")]) == "ok"
    assert reason(got[server.url("/busy")]) == "ok"
    assert reason(got[server.url("/down")]) == "http_503"
    assert len(server.requests("/flaky")) == 3
    assert len(server.requests("/down")) == 3  # first try + max_retries
    busy = [t for t, _ in server.requests("/busy")]
    assert busy[1] - busy[0] >= 0.5  # Retry-After 1 s, capped at max_backoff 0.5 s ...
    # ... which the client asked for (the server-side gap also holds scheduling delays)
    assert 0.5 in slept and max(slept) <= 0.5


def test_robots_5xx_disallows_all_and_4xx_allows_all():
    with LoopbackServer() as srv:
        srv.route("/robots.txt", Reply(500))
        srv.route("/a", Reply(200, ARTICLE))
        got, _, _ = run([srv.url("/a")], make_cfg(max_retries=0))
        assert reason(got[srv.url("/a")]) == "robots_disallowed"
    with LoopbackServer() as srv:
        srv.route("/a", Reply(200, ARTICLE))  # robots.txt -> 404
        got, _, _ = run([srv.url("/a")])
        assert reason(got[srv.url("/a")]) == "ok"


def test_private_addresses_refused_unless_allowed(server):
    server.route("/a", Reply(200, ARTICLE))
    cfg = make_cfg(allow_private_hosts=False)
    urls = [server.url("/a"), server.url("/a").replace("127.0.0.1", "localhost"), "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/"]
    got, _, _ = run(urls, cfg)
    assert {u: reason(got[u]) for u in urls} == {u: "private_address" for u in urls}
    assert server.requests() == []  # nothing reached the server, not even robots.txt


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("100.100.100.200", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fd00:ec2::254", False),
        ("fe80::1", False),
        ("ff0e::1", False),
        ("2606:4700::1111", True),
        # IPv6 forms that carry an IPv4 address are judged by it
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
        ("::7f00:1", False),  # IPv4-compatible (deprecated) 127.0.0.1
        ("::808:808", True),
        ("::ffff:0:7f00:1", False),  # IPv4-translated (RFC 2765) 127.0.0.1
        ("::ffff:0:808:808", True),
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 well-known prefix: 169.254.169.254, the metadata service
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a00:1", False),  # 10.0.0.1
        ("64:ff9b::808:808", True),  # 8.8.8.8 through NAT64
        ("64:ff9b:1::808:808", False),  # local-use NAT64 (RFC 8215): never public
        ("64:ff9b:1:ffff::1", False),
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),
        ("2002:808:808::1", True),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo: client 192.0.2.45 (documentation range)
        ("2001:0:808:808:8000:ffff:80ff:fffe", False),  # Teredo: public server, client 127.0.0.1 (obfuscated)
        ("2001:0:7f00:1::f7f7:f7f7", False),  # Teredo: server 127.0.0.1, public client
        ("2001:0:808:808::f7f7:f7f7", True),  # Teredo: server and client 8.8.8.8
        ("fec0::1", False),  # site-local (deprecated, still routed inside a site)
        ("feff:ffff::1", False),
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_literal_ipv6_with_embedded_private_ipv4_is_refused():
    """The guard applies the table above at connect time (no packet leaves: refused before connecting)."""
    urls = ["http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "http://[2002:7f00:1::]:9/", "http://[::ffff:0:7f00:1]:9/", "http://[fec0::1]:9/"]
    got, _, _ = run(urls, make_cfg(allow_private_hosts=False, respect_robots=False))
    assert {u: reason(got[u]) for u in urls} == {u: "private_address" for u in urls}


def with_credentials(url: str) -> str:
    return url.replace("http://", "http://reader:s3cret@", 1)


def test_credentials_are_stripped_before_fetching_and_storing(server):
    """``user:password@`` in a URL (given, or in a redirect) is never sent nor stored: not in a
    page's source and url, not in a failure row, not in the validators kept for the next run."""
    server.route("/ok", Reply(200, ARTICLE, {"Content-Type": "text/html", "ETag": '"e1"'}))
    server.route("/moved", Reply(302, headers={"Location": with_credentials(server.url("/ok2"))}))
    server.route("/ok2", Reply(200, ARTICLE, {"Content-Type": "text/html"}))
    urls = [with_credentials(server.url(p)) for p in ("/ok", "/moved", "/missing")]
    fresh: dict = {}
    got, _, out = run(urls, fresh_validators=fresh)
    assert set(got) == {server.url(p) for p in ("/ok", "/moved", "/missing")}
    assert reason(got[server.url("/ok")]) == "ok" and got[server.url("/ok")].url == server.url("/ok")
    assert got[server.url("/moved")].url == server.url("/ok2")
    assert reason(got[server.url("/missing")]) == "http_404"
    assert fresh == {server.url("/ok"): {"etag": '"e1"'}}
    assert all("Authorization" not in headers for _, headers in server.requests())
    rows = clean_rows(out, make_cfg(), Stats())
    assert len(rows) == 3 and any(r[S.DROP_REASON] == "http_404" for r in rows)
    for row in rows:
        assert "s3cret" not in repr(row) and "reader" not in repr(row), row


def dns_fails_for_invalid(monkeypatch, errno: int = socket.EAI_NONAME) -> list[str]:
    """Make every name under the reserved .invalid TLD (RFC 2606) fail to resolve with ``errno``,
    at once and whatever the sandbox's resolver does; returns the names looked up."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".invalid"):
            asked.append(host)
            raise socket.gaierror(errno, "Name or service not known" if errno == socket.EAI_NONAME else "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize("respect_robots", [True, False])
def test_unresolvable_host_is_dns_error_not_robots_disallowed(monkeypatch, respect_robots):
    """A host that does not resolve fails its pages as dns_error: its robots.txt could not be
    fetched, so RFC 9309 forbids the pages too, but nothing was disallowed. The name is looked up
    once for all its pages (a name that does not exist is not retried, the failure is cached)."""
    asked = dns_fails_for_invalid(monkeypatch)
    urls = [f"http://news.example.invalid/{p}" for p in ("a", "b", "c")]
    t0 = time.monotonic()
    got, stats, _ = run(urls, make_cfg(respect_robots=respect_robots, max_workers=1))
    assert time.monotonic() - t0 < 2.0
    assert {u: reason(got[u]) for u in urls} == {u: "dns_error" for u in urls}
    assert stats.counters["fetch.failed_dns_error"] == 3
    detail = got[urls[0]].error.detail
    assert "news.example.invalid does not resolve" in detail and "\n" not in detail
    assert ("robots.txt" in detail) is respect_robots
    assert len(asked) == (1 if respect_robots else 3)


def test_temporary_dns_failure_is_retried(monkeypatch):
    asked = dns_fails_for_invalid(monkeypatch, socket.EAI_AGAIN)
    got, _, _ = run(["http://flaky.invalid/a"], make_cfg(max_retries=2))
    assert reason(got["http://flaky.invalid/a"]) == "dns_error"
    assert len(asked) == 3  # first try + max_retries, for robots.txt; the page then fails with it


def test_host_refusing_connections_is_connection_error_not_robots_disallowed():
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/a"
    got, _, _ = run([url], make_cfg(max_retries=0))
    assert reason(got[url]) == "connection_error"
    assert got[url].error.detail.startswith(f"robots.txt of http://127.0.0.1:{port} could not be fetched")


def test_wrong_declared_charset_is_passed_on_and_meta_charset_sniffed(server):
    latin = "<html><head><meta charset='iso-8859-1'></head><body><p>café</p></body></html>".encode("latin-1")
    server.route("/meta", Reply(200, latin, {"Content-Type": "text/html"}))
    server.route("/header", Reply(200, "<p>café</p>".encode("cp1252"), {"Content-Type": "text/html; charset=windows-1252"}))
    got, _, _ = run([server.url("/meta"), server.url("/header")])
    assert got[server.url("/meta")].declared_charset in {"iso-8859-1", "latin-1", "iso8859-1", "latin_1", "cp1252"}
    assert got[server.url("/header")].declared_charset == "windows-1252"


def test_gzip_content_encoding_is_inflated_within_the_cap(server):
    server.route("/gz", Reply(200, gzip.compress(ARTICLE), {"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    server.route("/bomb", Reply(200, gzip.compress(b"a" * 200_000), {"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    got, _, _ = run([server.url("/gz"), server.url("/bomb")], make_cfg(max_body_bytes=50_000))
    assert got[server.url("/gz")].data == ARTICLE
    assert reason(got[server.url("/bomb")]) == "too_large"


def test_conditional_requests_use_and_return_validators(server):
    server.route("/v", Reply(304, headers={}))
    server.route("/w", Reply(200, ARTICLE, {"Content-Type": "text/html", "ETag": '"w2"', "Last-Modified": "Mon, 06 Sep 2010 00:01:00 GMT"}))
    fresh: dict = {}
    old = {server.url("/v"): {"etag": '"v1"'}}
    got, stats, out = run([server.url("/v"), server.url("/w")], validators=old, fresh_validators=fresh)
    assert server.url("/v") not in got and stats.counters["fetch.not_modified"] == 1
    assert server.requests("/v")[0][1].get("If-None-Match") == '"v1"'
    assert fresh == {server.url("/w"): {"etag": '"w2"', "last_modified": "Mon, 06 Sep 2010 00:01:00 GMT"}}


@pytest.mark.parametrize(("value", "low", "high"), [("5", 5, 5), ("Wed, 21 Oct 2015 07:28:00 GMT", 0, 0), ("soon", None, None), (None, None, None)])
def test_retry_after_seconds(value, low, high):
    got = retry_after_seconds(value)
    assert got == low if low is None else low <= got <= high


def test_robots_cache_expires_after_max_age(server):
    """A cached robots.txt is fetched again once older than fetch.max_robots_age_seconds, and the
    new rules apply; within the age it is fetched once for the host."""
    import time

    server.route("/a", Reply(200, ARTICLE))
    server.route("/private/b", Reply(200, ARTICLE))
    hosts = HostRegistry()
    cfg = make_cfg(max_robots_age_seconds=0.5)

    def fetch(urls):
        out = list(fetch_pages(urls, cfg, stats=Stats(), hosts=hosts))
        return {(o.page.source if isinstance(o, LoadFailure) else o.source): reason(o) for o in out}

    assert fetch([server.url("/a"), server.url("/private/b")]) == {server.url("/a"): "ok", server.url("/private/b"): "robots_disallowed"}
    assert fetch([server.url("/a")]) == {server.url("/a"): "ok"}
    assert server.paths().count("/robots.txt") == 1  # still fresh: not fetched again
    server.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /a\n", {"Content-Type": "text/plain"}))
    time.sleep(0.6)
    assert fetch([server.url("/a"), server.url("/private/b")]) == {server.url("/a"): "robots_disallowed", server.url("/private/b"): "ok"}
    assert server.paths().count("/robots.txt") == 2


def test_fetch_and_feed_failures_are_page_errors():
    """One error base: a fetch or feed failure is a PageError of its stage, with a public name."""
    from cleaners.errors import PageError
    from flows.feeds import FeedError
    from flows.http import FetchError

    assert isinstance(FetchError("bad_url", "no\nhost"), PageError)
    assert (FetchError("bad_url", "no\nhost").stage, FetchError("bad_url", "no\nhost").detail) == ("fetch", "no host")
    assert isinstance(FeedError("feed_invalid"), PageError) and FeedError("feed_invalid").stage == "discover"

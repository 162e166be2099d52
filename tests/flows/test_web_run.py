"""Web inputs end to end: the extraction guard (no Prefect) and one flow run over a loopback site."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleaners import extract
from cleaners import schema as S
from cleaners.config import ExtractConfig, parse_config
from cleaners.document import LoadFailure, PageError, RawPage
from cleaners.steps import Stats
from flows.guard import GuardedCleaner
from flows.storage import Storage

from httpserver import LoopbackServer, Reply

PARA = "<p>" + "The council approved the new budget after a long debate on Tuesday night. " * 6 + "</p>"


def article(title: str, n: int = 4) -> bytes:
    body = "".join(PARA.replace("council", f"council of {title}") for _ in range(n))
    return f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>".encode()


@pytest.mark.parametrize(
    ("html", "outcome"),
    [
        ("<html><body>" + "<div>" * 5000 + PARA * 3 + "</div>" * 5000 + "</body></html>", "text"),  # flattened, text kept
        ("<html><body>" + "<q>" * 5000 + "deep words " * 20 + "</q>" * 5000 + "</body></html>", "too_deep"),
        ("<html><body>" + "<div>" * 100 + PARA * 3 + "</div>" * 100 + "</body></html>", "text"),
    ],
    ids=["div-5000", "q-5000", "div-100"],
)
def test_extract_depth_limit_is_handled(html, outcome):
    try:
        got = "text" if len(extract.extract_html(html, ExtractConfig()).text) > 200 else "short"
    except extract.ExtractError as exc:
        got = exc.reason
    assert got == outcome


def guard_clean(pages, cfg):
    """Clean ``pages`` through a GuardedCleaner: (drop reason by source, worker starts, stats)."""
    stats = Stats()
    with GuardedCleaner(cfg) as cleaner:
        frame = cleaner.clean(pages, stats)
        starts = cleaner.starts
    return dict(zip(frame[S.SOURCE].to_list(), frame[S.DROP_REASON].to_list())), starts, stats


def test_guard_keeps_one_row_per_page_and_survives_a_slow_page():
    # 3.5 MB of tiny wrapped snippets: tens of seconds of extraction on this machine, far past the
    # 4 s budget, which the other pages stay well under even on a loaded machine
    slow = b"<html><body>" + b"<div><span>word</span> more</div>" * 100_000 + b"</body></html>"
    pages = [
        RawPage("ok1", article("One"), format="html"),
        RawPage("deep", b"<html><body>" + b"<div>" * 5000 + PARA.encode() * 3 + b"</div>" * 5000 + b"</body></html>", format="html"),
        RawPage("script", b"<html><body><script>" + b"var a=1;" * 100_000 + b"</script></body></html>", format="html"),
        RawPage("slow", slow, format="html"),
        RawPage("txt", b"A short plain text page.", format="text"),
        LoadFailure(RawPage("gone", b""), PageError("load", "unreadable", "test")),
        RawPage("ok2", article("Two"), format="html"),
    ]
    cfg = parse_config(None, {"guard.max_page_seconds": 4.0})
    reasons, starts, stats = guard_clean(pages, cfg)
    assert sorted(reasons) == sorted(p.source if isinstance(p, RawPage) else p.page.source for p in pages)
    assert reasons["ok1"] is None and reasons["ok2"] is None and reasons["deep"] is None
    assert reasons["slow"] == "extract_timeout" and reasons["script"] == "no_main_text"
    assert reasons["gone"] == "unreadable"
    assert starts == 2  # one worker for the batch, one restart after the timeout
    assert stats.counters["guard.extract_timeout"] == 1


def test_guard_turns_a_page_over_the_memory_budget_into_extract_memory():
    """A page whose extraction needs more than guard.max_worker_memory_mb is one extract_memory
    row (not internal_error), the worker is replaced, and the next page is cleaned."""
    huge = b"<html><body><article><p>" + b"Words of a long paragraph here. " * 400_000 + b"</p></article></body></html>"
    pages = [RawPage("huge", huge, format="html"), RawPage("ok", article("Fine"), format="html")]
    cfg = parse_config(None, {"guard.max_worker_memory_mb": 64})
    reasons, starts, stats = guard_clean(pages, cfg)
    assert reasons == {"huge": "extract_memory", "ok": None}
    assert starts == 2 and stats.counters["guard.extract_memory"] == 1


def test_a_page_too_large_to_reach_the_worker_is_extract_memory():
    """A worker that runs out of memory reading the page ends while the page is still being sent
    (a broken pipe): its extract_memory reply is read, the page is that row, the next page gets a
    new worker and the page is not sent again."""
    pages = [RawPage("vast", b"<html><body><p>" + b"x" * 150_000_000 + b"</p></body></html>", format="html")]
    pages.append(RawPage("ok", article("Fine"), format="html"))
    cfg = parse_config(None, {"guard.max_worker_memory_mb": 64})
    reasons, starts, stats = guard_clean(pages, cfg)
    assert reasons == {"vast": "extract_memory", "ok": None}
    assert starts == 2 and stats.counters["guard.extract_memory"] == 1


def test_local_pages_out_of_memory_fall_back_page_by_page(monkeypatch):
    """Text pages cleaned in the task process: a MemoryError redoes the batch page by page and the
    page that still runs out is an extract_memory row; the others are cleaned as usual."""
    import flows.guard as guard_mod

    real = guard_mod.clean_rows

    def clean_rows(pages, cfg, stats):
        if any(getattr(p, "source", None) == "oom" for p in pages):
            raise MemoryError
        return real(pages, cfg, stats)

    monkeypatch.setattr(guard_mod, "clean_rows", clean_rows)
    text = b"A plain text news page. " * 30
    pages = [RawPage("t1", text, format="text"), RawPage("oom", text, format="text"), RawPage("t2", text, format="text")]
    reasons, _, stats = guard_clean(pages, parse_config(None, {}))
    assert reasons["oom"] == "extract_memory" and reasons["t1"] != "extract_memory" and reasons["t2"] != "extract_memory"
    assert stats.counters["pages.read"] == 3 and stats.counters["guard.extract_memory"] == 1

def with_credentials(url: str) -> str:
    return url.replace("http://", "http://reader:s3cret@", 1)


def _warc(path, pages):
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for url, body, status in pages:
            headers = StatusAndHeaders(status, [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
            w.write_record(w.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))


@pytest.mark.flows
def test_flow_over_urls_feed_sitemap_and_warc(tmp_path):
    from flows.ingest import ingest_flow

    warc = tmp_path / "in" / "crawl.warc.gz"
    warc.parent.mkdir()
    # credentials in URLs (here, in the WARC, the URL list and the feed URL) are never sent nor stored
    _warc(warc, [("http://crawler:pw@w.example/a", article("Warc A"), "200 OK"), ("http://crawler:pw@w.example/b", b"gone", "404 Not Found")])
    with LoopbackServer() as srv:
        srv.route("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /private\n", {"Content-Type": "text/plain"}))
        for name in ("p1", "p2", "p3", "p4"):
            srv.route(f"/{name}", Reply(200, article(name.upper()), {"Content-Type": "text/html; charset=utf-8", "ETag": f'"{name}"'}))
        srv.route("/private", Reply(200, article("Secret")))
        srv.route("/feed.json", Reply(200, json.dumps({"items": [{"url": "/p2"}, {"url": "/p3"}]}).encode(), {"Content-Type": "application/feed+json"}))
        srv.route("/sitemap.xml", Reply(200, b"<urlset><url><loc>/p3</loc></url><url><loc>/p4</loc></url><url><loc>/private</loc></url></urlset>", {"Content-Type": "application/xml"}))
        out = tmp_path / "clean"
        overrides = {"fetch.allow_private_hosts": True, "fetch.min_host_interval_seconds": 0.05}
        summary = ingest_flow(
            inputs=[str(warc.parent)], output=str(out), overrides=overrides,
            urls=[with_credentials(srv.url("/p1")), with_credentials(srv.url("/missing"))],
            feeds=[with_credentials(srv.url("/feed.json"))], sitemaps=[srv.url("/sitemap.xml")],
        )
        assert all("Authorization" not in headers for _, headers in srv.requests())
    storage = Storage(out)
    articles = storage.read("articles")
    rejected = storage.read("rejected")
    got_urls = sorted(articles[S.URL].to_list())
    assert got_urls == sorted([srv.url(f"/p{i}") for i in range(1, 5)] + ["http://w.example/a"]), summary
    assert sorted(rejected[S.REASON].to_list()) == ["http_404", "http_404", "robots_disallowed"]
    warc_rows = [s for s in articles[S.SOURCE].to_list() if "#" in s]
    assert warc_rows and warc_rows[0].startswith(warc.resolve().as_posix() + "#<urn:uuid:")
    assert summary["stats"]["warc.skipped_request"] == 2
    assert summary["stats"]["discover.feeds"] == 1
    validators = json.loads((storage.state_dir / "fetch_validators.json").read_text())
    assert validators[srv.url("/p1")] == {"etag": '"p1"'}
    for table in (articles, rejected):
        for column in (S.SOURCE, S.URL, S.DETAIL):
            if column in table.columns:
                assert not any("pw@" in str(v) or "s3cret" in str(v) for v in table[column].to_list()), (column, table[column].to_list())
    assert sorted(rejected.filter(pl.col(S.REASON) == "http_404")[S.URL].to_list()) == sorted(["http://w.example/b", srv.url("/missing")])
    assert "s3cret" not in json.dumps(validators)

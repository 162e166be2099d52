"""The polite HTTP fetcher: URLs -> raw pages (httpx, threads).

``fetch_pages(urls, cfg, ...)`` is a synchronous generator: every URL ends as exactly one
``RawPage`` or ``LoadFailure``, except a URL the server reports unchanged (304 to a conditional
request), which is counted as ``fetch.not_modified`` and yields nothing: its article is already
in the tables. A failure's reason is one of ``http_<status>`` (the final answer was not 200),
``timeout``, ``robots_disallowed``, ``too_large``, ``not_html``, ``private_address``,
``bad_url``, ``redirect_loop``, ``dns_error`` (the host name does not resolve),
``connection_error`` (no connection, or it broke off) and ``internal_error``; its detail says
what happened in one line.

Politeness, per host: at most ``max_host_connections`` requests in flight and request starts at
least ``min_host_interval_seconds`` apart (raised by a robots.txt Crawl-delay, capped); robots.txt
is fetched once per origin and honoured (RFC 9309: 4xx means no rules, 5xx means disallow all).
When robots.txt cannot be fetched at all (DNS, connection, timeout), the site's pages are not
fetched either (RFC 9309: unreachable means disallow) and fail with that reason, not
``robots_disallowed``: the host is down or does not exist, it did not forbid anything. An
unreachable robots.txt (5xx or no answer) is remembered for ``max_robots_failure_age_seconds``
(every page of a dead host fails at once), then tried again.
429 and 5xx are retried with exponential backoff and jitter, honouring Retry-After up to
``max_backoff_seconds``; so are connection errors and temporary DNS failures (a name that does
not exist is not retried). Redirects are followed by hand so every hop is checked (scheme,
robots, loops). Bodies are streamed with a size cap and an overall deadline.

Credentials in a URL (``http://user:pw@host/``) are removed before anything else
(``cleaners.document.redact_url``): they are never sent, stored, or logged, redirect targets
included.

The client, its SSRF guard (every connection checked at connect time: no private addresses
unless ``fetch.allow_private_hosts``), URL checks and header helpers are in flows/http.py.

Host state (rate-limit clocks, robots rules) lives in a ``HostRegistry``. Clean tasks of one run
share the process-wide ``SHARED_HOSTS`` so two URL units on one host cannot double its rate;
it affects timing only, never output.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from cleaners.config import FetchConfig, PipelineConfig
from cleaners.decode import sniff_declared_charset
from cleaners.document import LoadFailure, PageError, RawPage, load_failure, redact_url
from cleaners.steps import Stats
from flows.http import BlockedAddress, FetchError, UnresolvedHost, check_url, describe, make_client, page_validators, parse_content_type, retry_after_seconds

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TEXT_TYPES = ("text/plain",)
SNIFF_BYTES = 4096


def robots_agent(user_agent: str) -> str:
    """The product token robots.txt rules are matched against: ``newsclean/0.1 (...)`` -> ``newsclean``."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


class HostRegistry:
    """Per-host politeness state: request-start clocks, in-flight caps, robots rules."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._next_start: dict[str, float] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._robots: dict[str, tuple[float, Protego | FetchError | None]] = {}  # origin -> (monotonic expiry, rules or why unreachable)
        self._robots_locks: dict[str, threading.Lock] = {}
        self._delay: dict[str, float] = {}

    def _semaphore(self, host: str, cap: int) -> threading.BoundedSemaphore:
        with self._lock:
            sem = self._slots.get(host)
            if sem is None:
                sem = self._slots[host] = threading.BoundedSemaphore(max(cap, 1))
            return sem

    @contextlib.contextmanager
    def slot(self, host: str, cfg: FetchConfig) -> Iterator[None]:
        """Hold one of the host's connection slots, starting no sooner than its interval allows.

        The next start is set from the moment a request is actually let go, under the lock, not
        from its planned time: a thread that wakes late from its sleep must not leave the one
        after it less than the interval behind.
        """
        sem = self._semaphore(host, cfg.max_host_connections)
        with sem:
            interval = max(cfg.min_host_interval_seconds, self._delay.get(host, 0.0))
            while True:
                with self._lock:
                    now = self._clock()
                    start = self._next_start.get(host, now)
                    if start <= now:
                        self._next_start[host] = now + interval
                        break
                self._sleep(start - now)
            yield

    def robots_lock(self, origin: str) -> threading.Lock:
        with self._lock:
            return self._robots_locks.setdefault(origin, threading.Lock())

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        with self._lock:
            self._delay[host] = seconds


SHARED_HOSTS = HostRegistry()


@dataclass(frozen=True)
class NotModified:
    url: str


@dataclass(frozen=True)
class _Response:
    status: int
    url: str
    headers: httpx.Headers
    body: bytes = b""


class Fetcher:
    """Fetch URLs politely; one instance per batch, thread-safe."""

    def __init__(
        self,
        cfg: FetchConfig,
        hosts: HostRegistry | None = None,
        client: httpx.Client | None = None,
        fresh_validators: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.fresh_validators = fresh_validators
        self._fresh_lock = threading.Lock()
        self.hosts = hosts if hosts is not None else SHARED_HOSTS
        self.client = client or make_client(cfg)
        self.agent = robots_agent(cfg.user_agent)
        self._rng = random.Random()  # jitter only: timing, never output

    def close(self) -> None:
        self.client.close()

    # --- one HTTP exchange, with retries -----------------------------------------------------
    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cap = self.cfg.max_backoff_seconds
        if retry_after is not None:
            return min(retry_after, cap)
        return min(cap, self.cfg.min_backoff_seconds * 2**attempt) * self._rng.uniform(0.5, 1.0)

    def request(self, url: str, *, headers: Mapping[str, str] | None = None, max_bytes: int, content_types: tuple[str, ...] | None) -> _Response:
        """GET ``url`` (no redirects followed, credentials never sent); retries 429/5xx,
        connection errors and temporary DNS failures; raises ``FetchError``."""
        url = redact_url(url)
        host = check_url(url)
        attempt = 0
        while True:
            retry_after = None
            try:
                with self.hosts.slot(host, self.cfg):
                    resp = self._get_once(url, headers or {}, max_bytes, content_types)
            except UnresolvedHost as exc:
                if exc.permanent or attempt >= self.cfg.max_retries:
                    raise FetchError("dns_error", str(exc)) from exc
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                if attempt >= self.cfg.max_retries:
                    raise FetchError("connection_error", f"{host}: {describe(exc)}") from exc
            else:
                if resp.status not in RETRY_STATUSES or attempt >= self.cfg.max_retries:
                    return resp
                retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
            time.sleep(self._backoff(attempt, retry_after))
            attempt += 1

    def _get_once(self, url: str, headers: Mapping[str, str], max_bytes: int, content_types: tuple[str, ...] | None) -> _Response:
        deadline = time.monotonic() + self.cfg.max_page_seconds
        try:
            with self.client.stream("GET", url, headers=dict(headers)) as resp:
                status = resp.status_code
                if status != 200:
                    return _Response(status, str(resp.url), resp.headers)
                mime, _ = parse_content_type(resp.headers.get("Content-Type"))
                if content_types and mime and mime not in content_types:
                    raise FetchError("not_html", f"Content-Type {mime}")
                declared = resp.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError("too_large", f"Content-Length {declared} > {max_bytes}")
                parts: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError("too_large", f"body over {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise FetchError("timeout", f"body not complete in {self.cfg.max_page_seconds:g} s")
                    parts.append(chunk)
                return _Response(status, str(resp.url), resp.headers, b"".join(parts))
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", f"{type(exc).__name__}: no answer from {urlsplit(url).netloc} within {self.cfg.timeout_seconds:g} s") from exc
        except BlockedAddress as exc:
            raise FetchError("private_address", str(exc)) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FetchError("bad_url", str(exc)) from exc
        except httpx.DecodingError as exc:
            raise FetchError("connection_error", f"bad content encoding: {exc}") from exc

    # --- robots.txt -----------------------------------------------------------------------
    def robots(self, url: str) -> Protego | None:
        """The parsed robots.txt of ``url``'s origin; None means no rules apply. Raises
        ``FetchError`` when robots.txt is unreachable (see ``_load_robots``).

        Cached per origin for ``max_robots_age_seconds`` (a long run or a long-lived process
        sees a site's changed rules within a day, as RFC 9309 asks), an unreachable robots.txt
        for ``max_robots_failure_age_seconds`` (every page of a dead host fails at once, and a
        host that comes back is tried again soon).
        """
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        cache = self.hosts._robots  # noqa: SLF001 - the registry is this module's own
        hit = cache.get(origin)
        if hit is None or hit[0] <= time.monotonic():
            with self.hosts.robots_lock(origin):
                hit = cache.get(origin)
                if hit is None or hit[0] <= time.monotonic():
                    hit = cache[origin] = self._robots_entry(origin, (parts.hostname or "").lower())
        found = hit[1]
        if isinstance(found, FetchError):
            raise FetchError(found.reason, found.detail)  # a fresh exception per page: one object raised in many threads shares its traceback
        return found

    def _robots_entry(self, origin: str, host: str) -> tuple[float, Protego | FetchError | None]:
        """(monotonic expiry, rules or failure) of ``origin``'s robots.txt, fetched now."""
        try:
            rules = self._load_robots(origin)
        except FetchError as err:
            return time.monotonic() + self.cfg.max_robots_failure_age_seconds, err
        if rules is not None:
            delay = rules.crawl_delay(self.agent)
            if delay:
                self.hosts.set_crawl_delay(host, min(float(delay), self.cfg.max_crawl_delay_seconds))
        return time.monotonic() + self.cfg.max_robots_age_seconds, rules

    def _load_robots(self, origin: str) -> Protego | None:
        """The rules of ``origin``'s robots.txt; None when there are none (4xx, oversized, too
        many redirects). Raises ``FetchError``: ``robots_disallowed`` on a 5xx (RFC 9309: disallow
        all), or the reason robots.txt could not be fetched at all (``dns_error``,
        ``connection_error``, ``timeout``, ``private_address``...): RFC 9309 forbids fetching
        the site's pages then, and the pages report what actually went wrong."""
        url = origin + "/robots.txt"
        for _ in range(self.cfg.max_redirects + 1):
            try:
                resp = self.request(url, max_bytes=self.cfg.max_robots_bytes, content_types=None)
            except FetchError as err:
                if err.reason == "too_large":
                    return None  # treat an oversized file as no usable rules (RFC 9309 asks >= 500 KiB)
                raise FetchError(err.reason, f"robots.txt of {origin} could not be fetched, so neither are its pages: {err.detail}") from err
            if resp.status in REDIRECT_STATUSES and resp.headers.get("Location"):
                url = redact_url(urljoin(url, resp.headers["Location"]))
                continue
            if resp.status == 200:
                return Protego.parse(resp.body.decode("utf-8", "replace"))
            if 400 <= resp.status < 500:
                return None  # "unavailable": no restrictions
            raise FetchError("robots_disallowed", f"{url} answered {resp.status}: every page of {origin} is disallowed (RFC 9309)")
        return None

    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url``; raises ``FetchError`` when robots.txt is unreachable."""
        if not self.cfg.respect_robots:
            return True
        rules = self.robots(url)
        return rules is None or rules.can_fetch(url, self.agent)

    # --- one URL, end to end -------------------------------------------------------------
    def get(self, url: str, *, max_bytes: int, content_types: tuple[str, ...] | None, headers: Mapping[str, str] | None = None) -> _Response:
        """GET ``url`` following redirects by hand: every hop is stripped of credentials, checked
        (scheme, host, robots) and must not have been seen before; ``headers`` go with the first
        hop only. Returns the final response, whatever its status; raises ``FetchError``."""
        url = current = redact_url(url.strip())
        seen = {current}
        for hop in range(self.cfg.max_redirects + 1):
            check_url(current)
            if not self.allowed(current):
                raise FetchError("robots_disallowed", f"robots.txt disallows {current} for {self.agent}")
            sent = headers if hop == 0 else None
            resp = self.request(current, headers=sent, max_bytes=max_bytes, content_types=content_types)
            if resp.status == 304 and not sent:
                raise FetchError("http_304", f"{current} answered 304 to a request without validators")
            if resp.status not in REDIRECT_STATUSES:
                return resp
            location = resp.headers.get("Location")
            if not location:
                raise FetchError(f"http_{resp.status}", f"{current} answered {resp.status} without a Location")
            nxt = redact_url(urljoin(current, location.strip()))
            if nxt in seen:
                raise FetchError("redirect_loop", f"{current} redirects to {nxt}, seen before")
            seen.add(nxt)
            current = nxt
        raise FetchError("redirect_loop", f"more than {self.cfg.max_redirects} redirects from {url}")

    def fetch(self, url: str, validators: Mapping[str, str] | None = None) -> RawPage | LoadFailure | NotModified:
        url = redact_url(url.strip())  # the page's source: never with credentials
        try:
            return self._fetch(url, validators)
        except FetchError as err:
            return load_failure(url, PageError("fetch", err.reason, err.detail[:500]), url=url)

    def _fetch(self, url: str, validators: Mapping[str, str] | None) -> RawPage | NotModified:
        headers = {}
        if validators and self.cfg.conditional_requests:
            if validators.get("etag"):
                headers["If-None-Match"] = validators["etag"]
            if validators.get("last_modified"):
                headers["If-Modified-Since"] = validators["last_modified"]
        resp = self.get(url, max_bytes=self.cfg.max_body_bytes, content_types=self.cfg.content_types, headers=headers)
        if resp.status == 304 and headers:
            return NotModified(url)
        if resp.status != 200:
            raise FetchError(f"http_{resp.status}", f"{resp.url} answered {resp.status}")
        return self._page(url, resp)

    def _page(self, url: str, resp: _Response) -> RawPage:
        mime, charset = parse_content_type(resp.headers.get("Content-Type"))
        if charset is None:
            charset = sniff_declared_charset(resp.body[:SNIFF_BYTES])
        name = urlsplit(resp.url).path.rsplit("/", 1)[-1]
        found = page_validators(resp.headers)
        if found and self.fresh_validators is not None:
            with self._fresh_lock:
                self.fresh_validators[url] = found
        return RawPage(
            source=url,
            seen=dt.datetime.now(dt.timezone.utc).date(),  # the fetch time is when the page was seen
            data=resp.body,
            name=name,
            url=resp.url,
            declared_charset=charset,
            format="text" if mime in TEXT_TYPES else ("html" if mime else None),
        )


def fetch_pages(
    urls: Iterable[str],
    cfg: PipelineConfig,
    stats: Stats | None = None,
    validators: Mapping[str, Mapping[str, str]] | None = None,
    fresh_validators: dict[str, dict[str, str]] | None = None,
    hosts: HostRegistry | None = None,
) -> Iterator[RawPage | LoadFailure]:
    """Fetch ``urls`` politely, yielding pages/failures as they complete (see module docstring).

    ``validators`` maps URL -> ``{"etag", "last_modified"}`` from an earlier run (conditional
    requests); the validators of pages fetched now are added to ``fresh_validators`` so that the
    caller can persist them once the pages are committed (not before: a crash in between must
    not turn the next run's fetch into a 304 for a page never written).
    """
    stats = stats if stats is not None else Stats()
    fetcher = Fetcher(cfg.fetch, hosts, fresh_validators=fresh_validators)
    queue = list(dict.fromkeys(redact_url(u.strip()) for u in urls if u and u.strip()))  # validators are keyed by these
    window = max(cfg.fetch.max_workers, 1) * 4
    pool = ThreadPoolExecutor(max_workers=max(cfg.fetch.max_workers, 1), thread_name_prefix="fetch")

    def job(url: str) -> RawPage | LoadFailure | NotModified:
        return fetcher.fetch(url, (validators or {}).get(url))

    pending: dict[Future, str] = {}
    try:
        it = iter(queue)
        for url in it:
            pending[pool.submit(job, url)] = url
            if len(pending) >= window:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                url = pending.pop(fut)
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - recorded, never silent
                    result = load_failure(url, PageError("fetch", "internal_error", " ".join(describe(exc).split())[:500]), url=url)
                stats.add("fetch.urls")
                if isinstance(result, NotModified):
                    stats.add("fetch.not_modified")
                    continue
                if isinstance(result, LoadFailure):
                    stats.add(f"fetch.failed_{result.error.reason}")
                else:
                    stats.add("fetch.ok")
                yield result
                nxt = next(it, None)
                if nxt is not None:
                    pending[pool.submit(job, nxt)] = nxt
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        fetcher.close()


VALIDATORS_FILE = "fetch_validators.json"


def load_validators(state_dir: Path) -> dict[str, dict[str, str]]:
    """URL -> {"etag", "last_modified"} of pages already committed (empty if none or unreadable)."""
    path = Path(state_dir) / VALIDATORS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_validators(state_dir: Path, fresh: Iterable[Path]) -> int:
    """Merge the staged ``validators.json`` files into the state file (call after the commit)."""
    merged = load_validators(state_dir)
    n = 0
    for path in fresh:
        try:
            part = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        merged.update(part)
        n += len(part)
    if n:
        target = Path(state_dir) / VALIDATORS_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(merged, sort_keys=True), encoding="utf-8")
        tmp.replace(target)
    return n


VALIDATORS_STAGED = "validators.json"  # a clean task's fresh validators, beside its staged parts

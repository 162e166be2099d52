"""The guarded HTTP layer under the fetcher: the client, its address checks, URL and header helpers.

SSRF guard: the connection layer itself resolves every host name and refuses addresses that
are not globally routable (loopback, private, link-local such as the 169.254.169.254 metadata
service, CGNAT, reserved, multicast, IPv6 site-local) unless ``fetch.allow_private_hosts``; an
IPv6 address that carries an IPv4 one (mapped, translated, compatible, NAT64, 6to4, Teredo) is
judged by that IPv4 address. Checking at connect time covers redirects and DNS rebinding
between check and use. Environment proxies are ignored.

``FetchError`` is the one failure the fetcher (flows/fetch.py) and feed discovery
(flows/feeds.py) raise; ``parse_content_type`` reads the Content-Type of HTTP answers and of
WARC records (flows/warc.py) alike.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import time
from urllib.parse import urlsplit

import httpcore
import httpx

from cleaners.config import FetchConfig
from cleaners.errors import PageError

ALLOWED_SCHEMES = ("http", "https")


# getaddrinfo errors that are an answer (the name does not exist), not a failure to get one:
# retrying them cannot help. EAI_NODATA is missing on some platforms
DNS_NO_SUCH_NAME = frozenset(getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name))

# IPv6 prefixes whose last 32 bits are an IPv4 address that a translator, relay or the host's own
# stack delivers to: IPv4-mapped, IPv4-translated (RFC 2765), IPv4-compatible (deprecated; also
# holds :: and ::1) and the NAT64 well-known prefix (RFC 6052)
IPV4_IN_LAST_32_BITS = tuple(ipaddress.IPv6Network(n) for n in ("::ffff:0:0/96", "::ffff:0:0:0/96", "::/96", "64:ff9b::/96"))
# Never globally routed, whatever they carry: site-local (RFC 3879 deprecated it, stacks still
# route it inside a site) and local-use NAT64 (RFC 8215; where its IPv4 sits depends on the
# operator's prefix length, so it cannot be judged by it)
NON_PUBLIC_IPV6 = tuple(ipaddress.IPv6Network(n) for n in ("fec0::/10", "64:ff9b:1::/48"))


class BlockedAddress(Exception):
    """The host resolves to an address the fetcher must not reach."""


class UnresolvedHost(Exception):
    """The host name does not resolve; ``permanent`` when the resolver answered that it does not exist."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries: one for the /96 forms and 6to4, Teredo's
    server and (de-obfuscated) client; none for a plain IPv6 address."""
    if any(ip in net for net in IPV4_IN_LAST_32_BITS):
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    return ()


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses; an IPv6 address that carries IPv4 addresses
    is public only if all of them are (``64:ff9b::a9fe:a9fe`` reaches 169.254.169.254 through
    NAT64, ``2002:7f00:1::`` is 127.0.0.1 over 6to4)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in NON_PUBLIC_IPV6):
            return False
        inner = embedded_ipv4(ip)
        if inner:
            return all(is_public_address(v4) for v4 in inner)
    return ip.is_global and not ip.is_multicast


class GuardedBackend(httpcore.SyncBackend):
    """httpcore network backend that resolves, vets and then connects to the vetted address."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UnresolvedHost(f"{host} does not resolve: {exc}", permanent=exc.errno in DNS_NO_SUCH_NAME) from exc
        except OSError as exc:
            raise UnresolvedHost(f"{host} does not resolve: {exc}", permanent=False) from exc
        last: Exception | None = None
        for _family, _type, _proto, _name, addr in infos:
            ip = ipaddress.ip_address(addr[0].split("%", 1)[0])
            if not self.allow_private and not is_public_address(ip):
                last = BlockedAddress(f"{host} resolves to non-public address {ip}")
                continue
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        if last is None:
            raise httpcore.ConnectError(f"no address for {host}")
        raise last


def make_client(cfg: FetchConfig) -> httpx.Client:
    """An httpx client with the guarded backend, no redirects, no env proxies, our User-Agent."""
    transport = httpx.HTTPTransport(retries=0)
    transport._pool._network_backend = GuardedBackend(cfg.allow_private_hosts)  # noqa: SLF001 - no public hook
    timeout = httpx.Timeout(cfg.timeout_seconds)
    limits = httpx.Limits(max_connections=max(cfg.max_workers, 1) * 2, max_keepalive_connections=cfg.max_workers)
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        limits=limits,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": cfg.user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
    )


class FetchError(PageError):
    """Why a URL could not be fetched: stage ``fetch``, a stable snake_case ``reason`` and a one-line ``detail``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        detail = " ".join(detail.split())  # exception messages may span lines; a detail is one
        super().__init__("fetch", reason, detail)


def check_url(url: str) -> str:
    """Raise ``FetchError('bad_url')`` unless ``url`` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError as exc:
        raise FetchError("bad_url", str(exc)) from exc
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise FetchError("bad_url", f"scheme {parts.scheme!r} not allowed")
    if not host:
        raise FetchError("bad_url", "no host")
    if any(c.isspace() or not c.isprintable() for c in parts.netloc):
        raise FetchError("bad_url", f"blank or control character in host {parts.netloc!r}")
    return host.lower()


def describe(exc: BaseException) -> str:
    """``"ReadError: message"``, or the type alone when the message is empty."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def page_validators(headers: httpx.Headers) -> dict[str, str]:
    out = {}
    if headers.get("ETag"):
        out["etag"] = headers["ETag"]
    if headers.get("Last-Modified"):
        out["last_modified"] = headers["Last-Modified"]
    return out


def parse_content_type(value: str | None) -> tuple[str, str | None]:
    """``"text/html; charset=UTF-8"`` -> ``("text/html", "utf-8")``; missing parts are ""/None."""
    if not value:
        return "", None
    mime, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower() or None
    return mime.strip().lower(), charset

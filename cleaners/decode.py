"""Raw bytes -> text (pure: no file access).

``decode_bytes`` tries, in order: a byte-order mark, the declared charset (HTTP header, then
``<meta charset>`` / ``<meta http-equiv>`` sniffed from the first ``max_sniff_bytes``), strict UTF-8,
charset detection (charset-normalizer), and finally ``cfg.fallback_encoding`` with replacement
characters. It never crashes on bad bytes: failures are a ``DecodeError`` with a stable ``reason``
(``empty``, ``binary``, ``too_large``, ``too_large_inflated``, ``truncated_gzip``, ``corrupt_gzip``).
NUL bytes are removed from the text. ``maybe_gunzip`` inflates gzip input with a hard output cap.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Literal

from charset_normalizer import from_bytes

from cleaners.config import LoadConfig
from cleaners.errors import DecodeError

GZIP_MAGIC = b"\x1f\x8b"
INFLATE_CHUNK_BYTES = 64 * 1024

# Byte-order marks, longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels that browsers decode as windows-1252 (WHATWG Encoding Standard): a page declaring latin-1
# almost always means cp1252 (curly quotes in 0x80-0x9f).
CP1252_ALIASES = ("latin-1", "iso8859-1", "ascii", "cp1252")
# A declared single-byte Western charset loses to bytes that are valid, non-ASCII UTF-8: the
# declaration is stale far more often than cp1252 text happens to be valid UTF-8.
WEAK_DECLARATIONS = CP1252_ALIASES + ("iso8859-15",)
TEXT_CONTROLS = "\t\n\r\f"
NON_TEXT_CATEGORIES = ("Cc", "Cn", "Cs", "Co")  # control, unassigned, surrogate, private use
MIN_UTF16_PARITY_SHARE = 0.6  # share of code units whose high byte is NUL in BOM-less UTF-16 text
WIDE_ENCODINGS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")

MAX_WESTERN_MEAN_RUN_BYTES = 1.5  # accented Latin: high bytes come alone ("caf\xe9"); Cyrillic/CJK in runs
MAX_UTF8_ERROR_SHARE = 0.1  # mostly valid UTF-8: at most this share of non-ASCII chars undecodable

# HIGH_BYTE_RUN_RE: a run of non-ASCII bytes. matches: b"\xfc\xdf" in b"Gr\xfc\xdfe" ; does not match: b"Gruss"
HIGH_BYTE_RUN_RE = re.compile(rb"[\x80-\xff]+")

# CHARSET_PARAM_RE: a charset parameter in a Content-Type value or a meta tag.
# matches: 'text/html; charset="ISO-8859-1"' -> ISO-8859-1 ; does not match: 'text/html'
CHARSET_PARAM_RE = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
# META_TAG_RE: a <meta ...> tag (covers <meta charset> and <meta http-equiv content="...charset=">).
# matches: '<meta charset="utf-8">' ; does not match: '<metadata>'
META_TAG_RE = re.compile(rb"<meta\s[^>]*>", re.IGNORECASE)

# HTML_START_RE: text that opens as an HTML document.
# matches: '<!DOCTYPE html><html>' ; does not match: 'Hello <b>world</b>'
HTML_START_RE = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S)
HTML_BLOCK_TAGS = ("html", "head", "body", "div", "p", "meta", "title", "article", "script", "span", "a")
# HTML_TAG_RE: an opening tag of a common HTML element.
# matches: '<div class="x">' ; does not match: '< 3 and x > 2'
HTML_TAG_RE = re.compile(r"<(?:%s)\b[^<>]*>" % "|".join(HTML_BLOCK_TAGS), re.IGNORECASE)
MIN_SNIFFED_TAGS = 3  # an unknown-extension file with this many HTML tags up front is HTML
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
TEXT_SUFFIXES = (".txt", ".text", ".md")

Method = Literal["bom", "declared", "utf8", "detected", "fallback"]


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name actually used
    method: Method  # which rule chose the encoding


def maybe_gunzip(data: bytes, max_bytes: int) -> bytes:
    """Inflate ``data`` if it starts with the gzip magic (all members), else return it as is.

    Output is produced incrementally and capped: more than ``max_bytes`` inflated bytes raises
    ``DecodeError("too_large_inflated")`` without materialising the bomb.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    out = bytearray()
    pending = data
    while pending:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        view = memoryview(pending)
        pos = 0
        try:
            while not inflater.eof:
                if inflater.unconsumed_tail:
                    chunk = inflater.unconsumed_tail
                elif pos < len(view):
                    chunk = bytes(view[pos : pos + INFLATE_CHUNK_BYTES])
                    pos += len(chunk)
                else:
                    break
                out += inflater.decompress(chunk, max_bytes - len(out) + 1)
                if len(out) > max_bytes:
                    raise DecodeError("too_large_inflated", f"more than {max_bytes} bytes inflated")
        except zlib.error as exc:
            raise DecodeError("corrupt_gzip", str(exc)) from exc
        if not inflater.eof:
            raise DecodeError("truncated_gzip", f"stream ends after {len(out)} inflated bytes")
        rest = inflater.unused_data + bytes(view[pos:])
        # a further gzip member follows (concatenated .gz); trailing padding is ignored
        pending = rest if rest.startswith(GZIP_MAGIC) else b""
    return bytes(out)


def _codec_name(label: str | bytes | None) -> str | None:
    """Python codec name for a charset label, or None when unknown."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    label = label.strip().strip("\"'").lower()
    m = CHARSET_PARAM_RE.search(label.encode("ascii", "ignore"))
    if m:  # a whole Content-Type header value was passed
        label = m.group(1).decode("ascii").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "cp1252" if name in CP1252_ALIASES else name


def sniff_declared_charset(head: bytes) -> str | None:
    """The charset declared by the first ``<meta>`` tag that declares one, as a codec name."""
    for tag in META_TAG_RE.finditer(head):
        m = CHARSET_PARAM_RE.search(tag.group(0))
        if m:
            return _codec_name(m.group(1))
    return None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


# PLAIN_TEXT_RUN_RE: printable ASCII and text whitespace, which are never "binary" and need no
# per-character look-up. "abc 1\n" matches whole; "\x07" and "é" do not match
PLAIN_TEXT_RUN_RE = re.compile(r"[\x20-\x7e\t\n\r\f]+")


def _binary_ratio(text: str, sample_chars: int = 65536) -> float:
    """Share of control characters (other than whitespace), U+FFFD and unassigned or private code points."""
    sample = text[:sample_chars]
    if not sample:
        return 0.0
    rest = PLAIN_TEXT_RUN_RE.sub("", sample)  # the few characters that need unicodedata
    bad = sum(1 for ch in rest if ch not in TEXT_CONTROLS and unicodedata.category(ch) in NON_TEXT_CATEGORIES)
    return (bad + rest.count("\ufffd")) / len(sample)


def _utf16_without_bom(head: bytes) -> str | None:
    """utf-16-le/be when NULs sit on one byte parity (ASCII-range UTF-16 without a BOM)."""
    if len(head) < 4 or head.count(0) < len(head) // 4:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > MIN_UTF16_PARITY_SHARE * len(head) / 2 and even < odd / 8:
        return "utf-16-le"
    if even > MIN_UTF16_PARITY_SHARE * len(head) / 2 and odd < even / 8:
        return "utf-16-be"
    return None


def _detect(data: bytes, cfg: LoadConfig) -> str | None:
    best = from_bytes(data[: cfg.max_detect_bytes]).best()
    return _codec_name(best.encoding) if best is not None else None


def _choose(data: bytes, cfg: LoadConfig, declared: str | None) -> tuple[str, str, Method]:
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace"), encoding, "bom"

    head = data[: cfg.max_sniff_bytes]
    charset = _codec_name(declared) or sniff_declared_charset(head)
    if charset in WIDE_ENCODINGS and b"\x00" not in head:
        charset = None  # a meta tag readable as ASCII cannot be in UTF-16/32
    wide = _utf16_without_bom(head)
    if wide is not None and charset not in WIDE_ENCODINGS:
        text = _strict(data[: len(data) // 2 * 2], wide)
        if text is not None:
            return text, wide, "detected"
    utf8 = _strict(data, "utf-8")
    if charset is not None:
        if charset in WEAK_DECLARATIONS and utf8 is not None and not data.isascii():
            return utf8, "utf-8", "utf8"
        text = _strict(data, charset)
        if text is not None:
            return text, charset, "declared"
    if utf8 is not None:
        return utf8, "utf-8", "utf8"
    lossy = data.decode("utf-8", "replace")
    n_bad = lossy.count("\ufffd")
    n_good = sum(1 for ch in lossy if ord(ch) > 127) - n_bad
    if n_good > 0 and n_bad <= MAX_UTF8_ERROR_SHARE * (n_good + n_bad):
        return lossy, "utf-8", "utf8"
    runs = HIGH_BYTE_RUN_RE.findall(data[: cfg.max_detect_bytes])
    if runs and sum(map(len, runs)) / len(runs) <= MAX_WESTERN_MEAN_RUN_BYTES:
        text = _strict(data, "cp1252")
        if text is not None:
            return text, "cp1252", "detected"
    detected = _detect(data, cfg)
    if detected is not None:
        text = _strict(data, detected)
        if text is not None:
            return text, detected, "detected"
    return data.decode(cfg.fallback_encoding, "replace"), cfg.fallback_encoding, "fallback"


def decode_bytes(data: bytes, cfg: LoadConfig, declared: str | None = None) -> Decoded:
    """Decode raw page bytes (optionally gzip) into text; ``declared`` is an HTTP charset/Content-Type."""
    if len(data) > cfg.max_input_bytes:
        raise DecodeError("too_large", f"{len(data)} bytes > {cfg.max_input_bytes}")
    data = maybe_gunzip(data, cfg.max_inflated_bytes)
    if not data.strip():
        raise DecodeError("empty")
    text, encoding, method = _choose(data, cfg, declared)
    # NULs are removed, never kept, and the rest is judged alone: a zero-filled block or NULs
    # sprinkled through good text leave good text, while binary formats are full of other
    # control and undecodable bytes as well.
    n_nul = text.count("\x00")
    text = text.replace("\x00", "")
    if not text.strip():
        raise DecodeError("empty")
    ratio = _binary_ratio(text)
    if ratio > cfg.max_binary_ratio:
        raise DecodeError("binary", f"{ratio:.0%} control or undecodable characters besides {n_nul} NUL")
    return Decoded(text, encoding, method)


def sniff_format(name: str, text: str) -> Literal["html", "text"]:
    """``html`` for .html/.htm(.gz) names, ``text`` for .txt/.md; otherwise sniff the markup."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    if lower.endswith(HTML_SUFFIXES):
        return "html"
    if lower.endswith(TEXT_SUFFIXES):
        return "text"
    head = text[:4096]
    if HTML_START_RE.match(head) or len(HTML_TAG_RE.findall(head)) >= MIN_SNIFFED_TAGS:
        return "html"
    return "text"

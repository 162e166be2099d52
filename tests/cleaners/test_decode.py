"""cleaners.decode: bytes -> text, gzip guard, format sniffing."""

from __future__ import annotations

import codecs
import gzip
import random

import pytest

from cleaners.config import LoadConfig
from cleaners.decode import DecodeError, decode_bytes, maybe_gunzip, sniff_format

CFG = LoadConfig()
FRENCH = "Le gouvernement français a annoncé une réforme très contestée, « déjà vu » pour l’opposition."
GERMAN = "Die Bundesregierung hat über die Stärkung der Wirtschaft beraten. Grüße aus Köln."

DECODE_CASES = [
    pytest.param("Plain ASCII text.".encode(), None, "Plain ASCII text.", "utf8", id="ascii"),
    pytest.param(FRENCH.encode("utf-8"), None, FRENCH, "utf8", id="utf8"),
    pytest.param(codecs.BOM_UTF8 + FRENCH.encode("utf-8"), None, FRENCH, "bom", id="utf8_bom"),
    pytest.param(codecs.BOM_UTF16_LE + FRENCH.encode("utf-16-le"), None, FRENCH, "bom", id="utf16le_bom"),
    pytest.param(codecs.BOM_UTF16_BE + FRENCH.encode("utf-16-be"), None, FRENCH, "bom", id="utf16be_bom"),
    pytest.param(codecs.BOM_UTF32_LE + GERMAN.encode("utf-32-le"), None, GERMAN, "bom", id="utf32le_bom"),
    pytest.param(GERMAN.encode("utf-16-le"), None, GERMAN, "detected", id="utf16le_without_bom"),
    pytest.param(FRENCH.replace("’", "'").encode("latin-1"), None, FRENCH.replace("’", "'"), "detected", id="latin1_no_charset"),
    pytest.param(GERMAN.encode("cp1252"), None, GERMAN, "detected", id="cp1252_german_no_charset"),
    pytest.param("“Quoted” – text".encode("cp1252"), "windows-1252", "“Quoted” – text", "declared", id="http_charset"),
    pytest.param("“Quoted” – text".encode("cp1252"), "text/html; charset=ISO-8859-1", "“Quoted” – text", "declared",
                 id="http_content_type_latin1_means_cp1252"),
    pytest.param(
        ('<html><head><meta charset="windows-1252"><title>t</title></head><body>' + FRENCH + "</body></html>").encode("cp1252"),
        None,
        '<html><head><meta charset="windows-1252"><title>t</title></head><body>' + FRENCH + "</body></html>",
        "declared",
        id="meta_charset",
    ),
    pytest.param(
        ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=koi8-r"></head><body>Москва</body></html>').encode("koi8-r"),
        None,
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=koi8-r"></head><body>Москва</body></html>',
        "declared",
        id="meta_http_equiv",
    ),
    pytest.param(
        '<meta charset="iso-8859-1"><p>Café</p>'.encode("utf-8"), None, '<meta charset="iso-8859-1"><p>Café</p>', "utf8",
        id="stale_latin1_declaration_loses_to_valid_utf8",
    ),
    pytest.param("Россия выйдет из Международной космической станции после 2024 года".encode("cp1251"), None,
                 "Россия выйдет из Международной космической станции после 2024 года", "detected", id="cp1251_detected"),
    pytest.param((GERMAN * 3).encode() + b"\xff", None, GERMAN * 3 + "\ufffd", "utf8", id="invalid_utf8_byte_replaced"),
    pytest.param(b"Hello\x00 world, with a stray NUL byte.", None, "Hello world, with a stray NUL byte.", "utf8", id="nul_removed"),
    pytest.param(gzip.compress(FRENCH.encode()), None, FRENCH, "utf8", id="gzip"),
    # a zero-filled block inside good text (a torn download) is stripped, the text kept
    pytest.param((GERMAN * 3).encode() + b"\x00" * 5000 + (GERMAN * 3).encode(), None, GERMAN * 6, "utf8", id="nul_run_in_text"),
    pytest.param(GERMAN.replace(" ", " \x00").encode(), None, GERMAN, "utf8", id="nul_after_every_space"),
]


@pytest.mark.parametrize(("data", "declared", "text", "method"), DECODE_CASES)
def test_decode_bytes(data: bytes, declared: str | None, text: str, method: str) -> None:
    decoded = decode_bytes(data, CFG, declared)
    assert decoded.text == text
    assert decoded.method == method


def _random_bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


ERROR_CASES = [
    pytest.param(b"", "empty", id="empty"),
    pytest.param(b" \n\t ", "empty", id="whitespace_only"),
    pytest.param(b"\x00\x00\x00\x00", "empty", id="only_nul"),
    pytest.param(_random_bytes(4096, 1), "binary", id="random_bytes"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + _random_bytes(2048, 2), "binary", id="png"),
    # NULs scattered through data that has other control bytes too (a binary record format)
    pytest.param(b"".join(b"AB\x00CD\x00\x01" for _ in range(500)), "binary", id="scattered_nul"),
    pytest.param(gzip.compress(_random_bytes(3000, 3).hex().encode())[:-100], "truncated_gzip", id="truncated_gzip"),
    pytest.param(b"\x1f\x8b\x08\x00garbage that is not deflate", "corrupt_gzip", id="corrupt_gzip"),
]


@pytest.mark.parametrize(("data", "reason"), ERROR_CASES)
def test_decode_errors(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(data, CFG)
    assert info.value.reason == reason


def test_input_over_cap_is_too_large() -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(b"x" * 2000, LoadConfig(max_input_bytes=1000))
    assert info.value.reason == "too_large"


def test_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = gzip.compress(b"\x00" * (200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 1024 * 1024  # ~200 KB on disk
    with pytest.raises(DecodeError) as info:
        maybe_gunzip(bomb, max_bytes=1024 * 1024)
    assert info.value.reason == "too_large_inflated"
    with pytest.raises(DecodeError) as info:
        decode_bytes(bomb, LoadConfig(max_inflated_bytes=1024 * 1024))
    assert info.value.reason == "too_large_inflated"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"not gzip", b"not gzip", id="passthrough"),
        pytest.param(gzip.compress(b"abc"), b"abc", id="one_member"),
        pytest.param(gzip.compress(b"abc") + gzip.compress(b"def"), b"abcdef", id="two_members"),
        pytest.param(gzip.compress(b"x" * 1000), b"x" * 1000, id="exactly_at_cap"),
    ],
)
def test_maybe_gunzip(data: bytes, expected: bytes) -> None:
    assert maybe_gunzip(data, max_bytes=1000) == expected


def test_gunzip_cap_is_exact() -> None:
    with pytest.raises(DecodeError):
        maybe_gunzip(gzip.compress(b"x" * 1001), max_bytes=1000)


@pytest.mark.parametrize(
    ("name", "text", "fmt"),
    [
        pytest.param("page.html", "no markup at all", "html", id="html_ext"),
        pytest.param("page.HTM.gz", "", "html", id="htm_gz_ext"),
        pytest.param("story.txt", "<html><body>x</body></html>", "text", id="txt_ext_wins"),
        pytest.param("blob", "  <!DOCTYPE html><html><p>x</p>", "html", id="doctype_sniffed"),
        pytest.param("blob", "<div><p>one</p><p>two</p></div>", "html", id="tags_sniffed"),
        pytest.param("blob", "Prices rose 3% <b>today</b> as x < y.", "text", id="prose_with_a_tag"),
        pytest.param("blob", "Just a plain story.\n\nSecond paragraph.", "text", id="plain"),
    ],
)
def test_sniff_format(name: str, text: str, fmt: str) -> None:
    assert sniff_format(name, text) == fmt

"""cleaners.document: rows and the frame made of them."""

from __future__ import annotations

import pytest

from cleaners import schema
from cleaners.config import PipelineConfig, parse_config
from cleaners.document import PageError, RawPage, clean_pages, clean_rows, load_failure, make_doc_id, redact_url, rows_frame
from cleaners.steps import Stats

TEXT_PAGE = RawPage(source="a.txt", data=("A plain sentence about the harbour and the ships in it. " * 12).encode(), name="a.txt", format="text")


def test_no_pages_no_rows() -> None:
    frame, _ = clean_pages([], PipelineConfig())
    assert frame.height == 0
    assert frame.schema == schema.CLEANED_SCHEMA


def test_many_rejected_rows_first_keep_later_columns() -> None:
    """Rejected rows (fewer keys) come first: the text of a later row must still be there."""
    failures = [load_failure(f"x://{i}", PageError("load", "http_404")) for i in range(150)]
    frame, _ = clean_pages([*failures, TEXT_PAGE], PipelineConfig())
    assert frame.height == 151
    assert frame[schema.TEXT].drop_nulls().to_list() != []


def test_clean_pages_is_rows_frame_of_clean_rows() -> None:
    cfg = PipelineConfig()
    pages = [TEXT_PAGE, load_failure("x://gone", PageError("load", "http_404"))]
    s1, s2 = Stats(), Stats()
    assert clean_pages(pages, cfg, s1)[0].equals(rows_frame(clean_rows(pages, cfg, s2)))
    assert s1.as_dict() == s2.as_dict()


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("http://user:pw@host/page", "http://host/page"),
        ("HTTPS://user@host:8443?q=1", "HTTPS://host:8443?q=1"),
        ("http://a@b:c@host#frag", "http://host#frag"),  # userinfo runs to the last "@" before the path
        ("http://u:p@[::1]:8080/", "http://[::1]:8080/"),
        ("//user:pw@host/page", "//host/page"),  # scheme-relative, as a feed may give it
        ("https://medium.com/@user/post", "https://medium.com/@user/post"),  # "@" in the path: no credentials
        ("https://host/go?to=http://u@other/", "https://host/go?to=http://u@other/"),  # data of the URL: kept, or another page is fetched
        ("mailto:someone@example.org", "mailto:someone@example.org"),
        ("/data/raw/a@b.html", "/data/raw/a@b.html"),
        ("http://u:p@host/a answered 404 -> 'https://v:q@w/x'", "http://host/a answered 404 -> 'https://w/x'"),  # a detail quoting URLs
        ("", ""),
        (None, None),
    ],
)
def test_redact_url(text, redacted) -> None:
    assert redact_url(text) == redacted
    assert redact_url(redacted) == redacted


def test_rows_never_carry_url_credentials() -> None:
    """Whichever reader made the page, its row's source, url and detail have no credentials, and
    its doc_id is that of the stored source."""
    page = RawPage(source="http://u:pw@host/a", data=TEXT_PAGE.data, name="a", url="http://u:pw@host/a", format="text")
    failure = load_failure("http://u:pw@host/b", PageError("fetch", "http_404", "http://u:pw@host/b answered 404"), url="http://u:pw@host/b")
    rows = clean_rows([page, failure], PipelineConfig(), Stats())
    assert {r[schema.SOURCE] for r in rows} == {"http://host/a", "http://host/b"}
    assert {r[schema.URL] for r in rows} == {"http://host/a", "http://host/b"}
    assert all("pw" not in str(r[schema.DETAIL]) for r in rows)
    assert {r[schema.DOC_ID] for r in rows} == {make_doc_id("http://host/a"), make_doc_id("http://host/b")}


def test_stage_errors_are_page_errors_with_their_stage_and_reason_led_detail() -> None:
    """One error base: decode and extract failures are PageErrors of their stage, and the detail
    their rejected rows carry still leads with the reason, as it did when each was re-wrapped."""
    from cleaners.decode import DecodeError
    from cleaners.extract import ExtractError

    for err, stage in ((DecodeError("binary", "80% control"), "decode"), (ExtractError("empty_html"), "extract")):
        assert isinstance(err, PageError)
        assert err.stage == stage
    assert DecodeError("binary", "80% control").detail == "binary: 80% control"
    assert ExtractError("empty_html").detail == "empty_html"
    rows = clean_rows([RawPage("a.html", b"")], PipelineConfig(), Stats())
    assert (rows[0][schema.STAGE], rows[0][schema.DROP_REASON], rows[0][schema.DETAIL]) == ("decode", "empty", "empty")


GERMAN = "Der Stadtrat hat am Dienstag einen neuen Haushalt für Straßenreparaturen und öffentliche Schulen beschlossen. "


@pytest.mark.parametrize(
    ("page", "language"),
    [
        (TEXT_PAGE, "en"),  # a text page declares nothing: the identifier fills it in
        (RawPage(source="b.txt", data=(GERMAN * 8).encode(), name="b.txt", format="text"), "de"),
        # a template's <html lang="en"> on a German article: the sure identifier wins
        (
            RawPage(
                source="c.html",
                data=f'<html lang="en"><body><article><p>{GERMAN * 8}</p></article></body></html>'.encode(),
                name="c.html",
                format="html",
            ),
            "de",
        ),
    ],
)
def test_rows_carry_the_identified_language(page, language) -> None:
    frame, _ = clean_pages([page], PipelineConfig())
    assert frame[schema.LANGUAGE].to_list() == [language]


def test_language_falls_back_to_the_declared_one_when_the_identifier_is_off() -> None:
    page = RawPage(
        source="c.html",
        data=f'<html lang="en"><body><article><p>{GERMAN * 8}</p></article></body></html>'.encode(),
        name="c.html",
        format="html",
    )
    cfg = parse_config("[language]\nenabled = false\n")
    frame, _ = clean_pages([page], cfg)
    assert frame[schema.LANGUAGE].to_list() == ["en"]


def test_seen_day_in_order_of_trust():
    import datetime as dt

    from cleaners.document import RawPage, seen_date

    crawled, published, modified = dt.date(2024, 3, 1), dt.date(2024, 2, 1), dt.date(2025, 1, 1)
    assert seen_date(RawPage("s", b"", seen=crawled, modified=modified), published) == crawled
    assert seen_date(RawPage("s", b"", modified=modified), published) == published
    assert seen_date(RawPage("s", b"", modified=modified), None) == modified
    assert seen_date(RawPage("s", b""), None) is None


def test_cleaned_rows_carry_the_seen_day():
    import dataclasses
    import datetime as dt

    day = dt.date(2024, 7, 1)
    pages = [dataclasses.replace(TEXT_PAGE, source="a.txt", seen=day), dataclasses.replace(TEXT_PAGE, source="b.txt", modified=day)]
    frame, _ = clean_pages(pages, PipelineConfig())
    assert frame[schema.SEEN].to_list() == [day, day]

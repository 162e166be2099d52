"""cleaners.document: rows and the frame made of them."""

from __future__ import annotations

from cleaners import schema
from cleaners.config import PipelineConfig
from cleaners.document import PageError, RawPage, clean_pages, clean_rows, load_failure, rows_frame
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

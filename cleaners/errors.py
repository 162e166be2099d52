"""The one error a page's journey raises when it cannot go on: ``PageError(stage, reason, detail)``.

Every expected failure (a file that cannot be read, bytes that cannot become text, HTML with no
article, a URL that cannot be fetched) is a ``PageError`` or one of the subclasses below, which
only fix the ``stage``. A ``PageError`` becomes a ``rejected`` row with ``stage``, ``reason`` (a
stable snake_case drop reason) and ``detail`` (one line for a person). It lives in its own module
so the stage modules (cleaners/decode.py, cleaners/extract.py) can raise it without importing
cleaners/document.py, which imports them.
"""

from __future__ import annotations


class PageError(Exception):
    """An expected, recordable reason a page cannot become an article."""

    def __init__(self, stage: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{stage}/{reason}: {detail}")
        self.stage, self.reason, self.detail = stage, reason, detail


class _StageError(PageError):
    """A ``PageError`` of one fixed stage whose ``detail`` leads with the reason ("binary: 80% ...").

    The rejected rows of the decode and extract stages have always carried the reason at the head
    of ``detail``; kept so those rows stay as they were.
    """

    stage_name = ""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(self.stage_name, reason, f"{reason}: {detail}" if detail else reason)


class DecodeError(_StageError):
    """Bytes that cannot become text (cleaners/decode.py)."""

    stage_name = "decode"


class ExtractError(_StageError):
    """HTML that yields no article text (cleaners/extract.py)."""

    stage_name = "extract"

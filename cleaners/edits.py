"""The record of what a fixer changed: ``Edit(kind, detail, count)``.

Fixers that can say *why* they changed text expose a ``*_with_edits`` variant returning
``(text, [Edit, ...])``; the plain fixer returns only the text. ``apply_steps`` collects the
edits of every step into the article's ``edits`` column and the run totals.
"""

from __future__ import annotations

from typing import NamedTuple

MAX_DETAIL_CHARS = 120


class Edit(NamedTuple):
    kind: str  # stable snake_case, e.g. "boilerplate_nav", "semicolon_repair"
    detail: str  # short human-readable example, e.g. "Rogzonin -> Rogozin"
    count: int  # type: ignore[assignment]  # how many places this edit touched (shadows tuple.count, unused here)


def clip(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """Shorten ``text`` for an edit detail: one line, at most ``limit`` characters."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def merge_edits(edits: list[Edit]) -> list[Edit]:
    """Fold edits of the same (kind, detail) together, keeping first-seen order."""
    merged: dict[tuple[str, str], int] = {}
    for e in edits:
        merged[(e.kind, e.detail)] = merged.get((e.kind, e.detail), 0) + e.count
    return [Edit(k, d, c) for (k, d), c in merged.items()]

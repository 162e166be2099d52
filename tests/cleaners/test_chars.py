"""cleaners.chars: mojibake, invisible characters, spaces, line structure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaners.chars import fix_characters, fix_characters_with_edits
from cleaners.config import CharsConfig

CFG = CharsConfig()
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "chars"


def _golden(name: str) -> list[dict]:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


CASES = [
    pytest.param("Itâ€™s a â€œtestâ€\x9d", "It’s a “test”", id="mojibake_quotes"),
    pytest.param("CafÃ©", "Café", id="mojibake_latin"),
    pytest.param("news\u200broom\u2060", "newsroom", id="zero_width"),
    pytest.param("co\u00adoperation", "cooperation", id="soft_hyphen"),
    pytest.param("10\u00a0km\u2009away", "10 km away", id="nbsp_thin_space"),
    pytest.param("a  b \t c", "a b c", id="space_runs"),
    pytest.param("  indented\nline  ", "indented\nline", id="edge_spaces"),
    pytest.param("a\r\nb\rc\u2028d", "a\nb\nc\nd", id="line_endings"),
    pytest.param("a\n\n\n\nb\n\n\n", "a\n\nb", id="blank_runs"),
    pytest.param("x\x07y\x1bz", "xyz", id="control_chars"),
    pytest.param("“curly” ‘quotes’", "“curly” ‘quotes’", id="noop_curly_quotes"),
    pytest.param("Clean text.\n\nSecond paragraph.", "Clean text.\n\nSecond paragraph.", id="noop_clean"),
    pytest.param("", "", id="noop_empty"),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_fix_characters(before: str, after: str) -> None:
    assert fix_characters(before, CFG) == after


def test_uncurl_quotes_option() -> None:
    assert fix_characters("“That’s it”", CharsConfig(uncurl_quotes=True)) == "\"That's it\""


def test_fix_encoding_off_keeps_mojibake() -> None:
    assert fix_characters("CafÃ©", CharsConfig(fix_encoding=False)) == "CafÃ©"


@pytest.mark.parametrize(
    ("before", "kinds"),
    [
        pytest.param("Itâ€™s", {"mojibake"}, id="mojibake"),
        pytest.param("a\u200bb", {"zero_width"}, id="zero_width"),
        pytest.param("a\u00adb", {"soft_hyphen"}, id="soft_hyphen"),
        pytest.param("a\u00a0b", {"nbsp"}, id="nbsp"),
        pytest.param("a  b", {"whitespace"}, id="whitespace"),
        pytest.param("a\x07b", {"control_chars"}, id="control_chars"),
        pytest.param("a\r\nb", {"line_endings"}, id="line_endings"),
        pytest.param("a\n\n\n\nb", {"blank_lines"}, id="blank_lines"),
        pytest.param("Tom &amp; Jerry", {"html_entities"}, id="html_entities"),
        pytest.param("clean", set(), id="none"),
    ],
)
def test_edit_kinds(before: str, kinds: set[str]) -> None:
    text, edits = fix_characters_with_edits(before, CFG)
    assert {e.kind for e in edits} == kinds
    assert text == fix_characters(before, CFG)
    assert all(e.count >= 1 for e in edits)


@pytest.mark.parametrize("case", _golden("positive"), ids=lambda c: c["id"])
def test_golden_positive(case: dict) -> None:
    assert fix_characters(case["before"], CFG) == case["after"]


@pytest.mark.parametrize("case", _golden("negative"), ids=lambda c: c["id"])
def test_golden_negative(case: dict) -> None:
    assert fix_characters(case["text"], CFG) == case["text"]


@pytest.mark.parametrize("case", _golden("known_failures"), ids=lambda c: c["id"])
@pytest.mark.xfail(strict=True, reason="known failure (tests/golden/chars/known_failures.json)")
def test_golden_known_failures(case: dict) -> None:
    assert fix_characters(case["before"], CFG) == case["after"]


def test_seed_pages_keep_their_lines(seeds_dir: Path) -> None:
    for path in sorted(seeds_dir.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        fixed = fix_characters(raw, CFG)
        assert fixed == fix_characters(fixed, CFG)
        kept = [line.strip() for line in raw.splitlines() if line.strip()]
        assert len([line for line in fixed.splitlines() if line.strip()]) == len(kept)


@pytest.mark.parametrize("text", ["\x81\x8a¬", "a\x81\x8a¬b\n\u200bÃ\u00a9"], ids=["c1-joins-mojibake", "zero-width-joins"])
def test_removal_that_creates_mojibake_is_fixed_in_the_same_call(text: str) -> None:
    once = fix_characters(text, CFG)
    assert fix_characters(once, CFG) == once

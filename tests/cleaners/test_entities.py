"""cleaners.entities: rare near-miss spellings of a document's frequent names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaners.config import EntitiesConfig
from cleaners.edits import Edit
from cleaners.entities import find_entity_typos, fix_entity_typos, fix_entity_typos_with_edits

from shared_data import SEEDS, SHARED, need

CFG = EntitiesConfig()
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "entities"


def _golden(name: str) -> list[dict]:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


CASES = [
    pytest.param(
        "Rogozin spoke. Rogozin left. Rogozin returned. Rogzonin’s behavior changed.",
        "Rogozin spoke. Rogozin left. Rogozin returned. Rogozin’s behavior changed.",
        id="seed_typo_possessive",
    ),
    pytest.param(
        "Schlumberger sold the unit. Schlumberger said the price was fair. Sclumberger had said more.",
        "Schlumberger sold the unit. Schlumberger said the price was fair. Schlumberger had said more.",
        id="dropped_letter",
    ),
    pytest.param(
        "Chrysler Canada is owned by Chrsyler Corp. Chrysler said sales rose.",
        "Chrysler Canada is owned by Chrysler Corp. Chrysler said sales rose.",
        id="transposition",
    ),
    pytest.param(
        "Allure Cosmetics said sales rose. Allure also cut prices. Alllure said more.",
        "Allure Cosmetics said sales rose. Allure also cut prices. Allure said more.",
        id="inserted_letter",
    ),
    pytest.param(
        "Borisov met Putin. Borisov spoke. Borisov left. Borisova stayed.",
        "Borisov met Putin. Borisov spoke. Borisov left. Borisova stayed.",
        id="noop_inflection",
    ),
    pytest.param(
        "Australia won. Australia celebrated. Australia again. Austria lost.",
        "Australia won. Australia celebrated. Australia again. Austria lost.",
        id="noop_real_word",
    ),
    pytest.param(
        "Rogozin spoke. Rogozin left. Rogzonin stayed. Rogzonin left.",
        "Rogozin spoke. Rogozin left. Rogzonin stayed. Rogzonin left.",
        id="noop_repeated_spelling_not_rare",
    ),
    pytest.param("Nothing capitalised here except This.", "Nothing capitalised here except This.", id="noop_clean"),
    pytest.param("", "", id="noop_empty"),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_fix_entity_typos(before: str, after: str) -> None:
    assert fix_entity_typos(before, CFG) == after


def test_with_edits() -> None:
    text = "Rogozin spoke. Rogozin left. Rogozin returned. Rogzonin’s behavior changed."
    _, edits = fix_entity_typos_with_edits(text, CFG)
    assert edits == [Edit("name_typo", "Rogzonin -> Rogozin", 1)]


def test_thresholds_are_respected() -> None:
    text = "Rogozin spoke. Rogozin left. Rogzonin’s behavior changed."
    assert find_entity_typos(text, CFG) == {"Rogzonin": "Rogozin"}
    assert find_entity_typos(text, EntitiesConfig(min_name_mentions=3)) == {}
    assert fix_entity_typos(text, EntitiesConfig(enabled=False)) == text


@pytest.mark.parametrize("case", _golden("positive"), ids=lambda c: c["id"])
def test_golden_positive(case: dict) -> None:
    assert fix_entity_typos(case["before"], CFG) == case["after"]


@pytest.mark.parametrize("case", _golden("negative"), ids=lambda c: c["id"])
def test_golden_negative(case: dict) -> None:
    assert fix_entity_typos(case["text"], CFG) == case["text"]


@pytest.mark.parametrize("case", _golden("known_failures"), ids=lambda c: c["id"])
@pytest.mark.xfail(strict=True, reason="known failure (tests/golden/entities/known_failures.json)")
def test_golden_known_failures(case: dict) -> None:
    assert fix_entity_typos(case["before"], CFG) == case["after"]


def test_seed_003_typo_fixed() -> None:
    seeds = list(SEEDS.glob("003_*.txt"))
    assert seeds
    text = seeds[0].read_text(encoding="utf-8")
    out, edits = fix_entity_typos_with_edits(text, CFG)
    assert "Rogzonin" not in out and "Rogozin’s behavior" in out
    assert edits == [Edit("name_typo", "Rogzonin -> Rogozin", 1)]


def test_clean_news_false_corrections_near_zero() -> None:
    """Acceptance: on clean Reuters wire text, audited false corrections stay under 2 per 1,000 docs."""
    from evals import repairs as eval_repairs

    docs = eval_repairs.load_clean_corpora_one("syndication_source")
    if not docs:
        need(SHARED / "eval" / "syndication" / "dev.parquet", "syndication dev set")
    result = eval_repairs.false_name_corrections("syndication_source", docs, CFG, eval_repairs.load_name_audit())
    assert result["false_or_unaudited_per_1000_docs"] < 2.0

"""cleaners.punctuation: stray-semicolon repair in spun copies, legitimate semicolons untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaners.config import PunctuationConfig
from cleaners.edits import Edit
from cleaners.punctuation import (
    COMMA,
    DROP,
    KEEP,
    assess_semicolons,
    repair_semicolons,
    repair_semicolons_with_edits,
)

from shared_data import SEEDS, SHARED, need

CFG = PunctuationConfig()
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "punctuation"


def _golden(name: str) -> list[dict]:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


# Each "before" is a whole spun document: the gate needs several stray semicolons.
CASES = [
    pytest.param(
        "He ended its participation; in the project after 2024. Analysts were wary; but the choice stood. "
        "The chief; who spoke on Tuesday, left; amid rising tensions.",
        "He ended its participation in the project after 2024. Analysts were wary, but the choice stood. "
        "The chief, who spoke on Tuesday, left amid rising tensions.",
        id="preposition_but_who_amid",
    ),
    pytest.param(
        "“Vladimir Vladimirovich; you know the plan,” he said. It was risky; so they waited; about a week. "
        "Robyn Gatens, the director of the station; stated that work goes on.",
        "“Vladimir Vladimirovich, you know the plan,” he said. It was risky, so they waited about a week. "
        "Robyn Gatens, the director of the station, stated that work goes on.",
        id="vocative_so_appositive",
    ),
    pytest.param(
        "We strive for success; which means advancing the science; and maintaining safety. "
        "Prices rose; in March; the government said.",
        "We strive for success, which means advancing the science and maintaining safety. "
        "Prices rose in March, the government said.",
        id="which_and_reporting_tail",
    ),
    pytest.param(
        "Sales rose; during the year. Costs fell; but margins shrank; amid competition. The plan works; it was approved.",
        "Sales rose during the year. Costs fell, but margins shrank amid competition. The plan works; it was approved.",
        id="keeps_clause_joiner",
    ),
    pytest.param(
        "The economy grew; it was the best year since 1980; exports led the way.",
        "The economy grew; it was the best year since 1980; exports led the way.",
        id="noop_clause_semicolons",
    ),
    pytest.param("No semicolons here, just commas.", "No semicolons here, just commas.", id="noop_plain"),
    pytest.param("", "", id="noop_empty"),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_repair_semicolons(before: str, after: str) -> None:
    assert repair_semicolons(before, CFG) == after


def test_with_edits_reports_each_repair() -> None:
    text = "It ended its participation; in the project. They were wary; but it stood. He left; amid tension."
    out, edits = repair_semicolons_with_edits(text, CFG)
    assert out == "It ended its participation in the project. They were wary, but it stood. He left amid tension."
    assert Edit("semicolon_repair", '"participation; in" -> "participation in"', 1) in edits
    assert Edit("semicolon_repair", '"wary; but" -> "wary, but"', 1) in edits
    assert all(e.kind == "semicolon_repair" for e in edits)


def test_disabled_is_identity() -> None:
    text = "It ended its participation; in the project. They were wary; but it stood. He left; amid tension."
    assert repair_semicolons(text, PunctuationConfig(enabled=False)) == text


def test_gate_thresholds_are_respected() -> None:
    text = "It ended its participation; in the project. They were wary; but it stood. He left; amid tension."
    assert assess_semicolons(text, CFG).anomalous
    strict = PunctuationConfig(min_stray_semicolons=10)
    assert repair_semicolons(text, strict) == text


@pytest.mark.parametrize("case", _golden("positive"), ids=lambda c: c["id"])
def test_golden_positive(case: dict) -> None:
    assert repair_semicolons(case["before"], CFG) == case["after"]


@pytest.mark.parametrize("case", _golden("negative"), ids=lambda c: c["id"])
def test_golden_negative(case: dict) -> None:
    assert repair_semicolons(case["text"], CFG) == case["text"]


@pytest.mark.parametrize("case", _golden("known_failures"), ids=lambda c: c["id"])
@pytest.mark.xfail(strict=True, reason="known failure (tests/golden/punctuation/known_failures.json)")
def test_golden_known_failures(case: dict) -> None:
    assert repair_semicolons(case["before"], CFG) == case["after"]


def test_seed_002_labels() -> None:
    """Every semicolon of the spun seed page gets its hand-labelled repair (acceptance: >= 95%)."""
    labels = json.loads((GOLDEN / "seed_002_labels.json").read_text(encoding="utf-8"))
    seed = SEEDS / Path(labels["seed"]).name  # the demo copy of the seed page
    text = seed.read_text(encoding="utf-8")
    assessment = assess_semicolons(text, CFG)
    assert assessment.anomalous
    assert [(s.before, s.after) for s in assessment.sites] == [(r["before"], r["after"]) for r in labels["labels"]]
    stray = [(s.choice, r["label"]) for s, r in zip(assessment.sites, labels["labels"]) if r["label"] != KEEP]
    assert sum(p == g for p, g in stray) / len(stray) >= 0.95
    assert {r["label"] for r in labels["labels"]} <= {KEEP, COMMA, DROP}


@pytest.mark.parametrize("name", ["lee", "syndication_source", "textmode_gold"])
def test_real_prose_semicolons_untouched(name: str) -> None:
    """Acceptance: at most 1% of legitimate semicolons in real prose are touched."""
    from evals import repairs as eval_repairs

    docs = eval_repairs.load_clean_corpora_one(name)
    if not docs:
        need(SHARED / "missing", f"{name} corpus")
    result = eval_repairs.legit_semicolons_touched(docs, CFG)
    assert result["touched_rate"] <= 0.01

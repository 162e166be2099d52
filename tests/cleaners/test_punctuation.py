"""cleaners.punctuation: stray-semicolon repair in spun copies, legitimate semicolons untouched."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cleaners.config import PunctuationConfig
from cleaners.edits import Edit
from cleaners.punctuation import (
    COMMA,
    DROP,
    FEATURE_NAMES,
    KEEP,
    MODEL_PATH,
    assess_semicolons,
    default_model,
    repair_semicolons,
    repair_semicolons_with_edits,
    semicolon_features,
)

from shared_data import SEEDS, SHARED, need

CFG = PunctuationConfig()
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "punctuation"

# A spun paragraph (the seed's phrasings rewritten) and what it was.
SPUN = (
    "The agency said it would end its participation; in the project after 2024. The decision came from Yuri "
    "Borisov; the new head of the agency, at a meeting on Tuesday. We will uphold our commitments to our "
    "partners; but the choice has been made. The remarks echoed his predecessor; who had addressed the "
    "potential exit; amid rising tensions; following the invasion. Officials were wary of threats; about "
    "sanctions on the country; so those remarks were suspicious."
)
UNSPUN = (
    "The agency said it would end its participation in the project after 2024. The decision came from Yuri "
    "Borisov, the new head of the agency, at a meeting on Tuesday. We will uphold our commitments to our "
    "partners, but the choice has been made. The remarks echoed his predecessor, who had addressed the "
    "potential exit amid rising tensions following the invasion. Officials were wary of threats about "
    "sanctions on the country, so those remarks were suspicious."
)

# Legitimate semicolons: clause joins in Wikipedia-style prose and list semicolons. Never changed.
LEGIT = [
    pytest.param(
        "Repetitive behavior differs more strikingly from social norms; for example, they have less interest in "
        "change. The town grew quickly after its charter was granted in 1901; its population doubled within a "
        "decade. Lincoln was a lawyer; he later entered politics and served in the state legislature.",
        id="wiki_clause_joins",
    ),
    pytest.param(
        "The band toured Europe in 1998; however, the album sold poorly. Critics were divided; some praised "
        "the production, while others found the lyrics weak.",
        id="however_and_some",
    ),
    pytest.param(
        "Speakers include Anna Berg, director of the museum; Tom Ruiz, a curator from Madrid; and Li Wei, "
        "professor of history at the university.",
        id="list_of_people_with_roles",
    ),
    pytest.param(
        "Paintings, 1920–1935; drawings and prints; sculpture in bronze, wood and stone; photographs, letters and "
        "notebooks; furniture designed by the artist.",
        id="catalogue_list",
    ),
    pytest.param(
        "Open daily 10am–6pm; closed on Mondays and public holidays; admission free for children under 12.",
        id="opening_hours_list",
    ),
]


def test_shipped_model_loads_and_matches_features() -> None:
    model = default_model()
    assert model is not None and model.stray.features == FEATURE_NAMES
    indices, x = semicolon_features(SPUN, CFG)
    assert len(indices) == SPUN.count(";") and x.shape == (len(indices), len(FEATURE_NAMES))
    assert np.isfinite(x).all()


def test_default_decision_is_the_fitted_one() -> None:
    """The thresholds of the decision default to those chosen out of fold by evals/fit_semicolons.py."""
    fitted = json.loads(MODEL_PATH.read_text(encoding="utf-8"))["decision_out_of_fold"]
    assert fitted and {key: getattr(CFG, key) for key in fitted} == pytest.approx(fitted)


def test_spun_paragraph_is_repaired() -> None:
    out = repair_semicolons(SPUN, CFG)
    assert ";" not in out
    # comma or space: at least all but one of the eight repairs restore the original
    right = sum(a == b for a, b in zip(out.split(" "), UNSPUN.split(" ")))
    assert len(out.split(" ")) == len(UNSPUN.split(" ")) and right >= len(UNSPUN.split(" ")) - 1


@pytest.mark.parametrize("text", LEGIT)
def test_legitimate_semicolons_kept(text: str) -> None:
    assert repair_semicolons(text, CFG) == text


# Known weakness: "; for example," and "1901; its" score as confidently stray at stage 1, so a page
# made of three copies of this paragraph passes the page-level bar and gets the lower threshold.
LEGIT_PAGE = [
    pytest.param(*p.values, id=p.id, marks=[pytest.mark.xfail(strict=True, reason="page-level decision fooled")])
    if p.id == "wiki_clause_joins"
    else p
    for p in LEGIT
]


@pytest.mark.parametrize("text", LEGIT_PAGE)
def test_legitimate_semicolons_kept_on_a_page_of_them(text: str) -> None:
    page = "\n\n".join([text] * 3)
    assert repair_semicolons(page, CFG) == page


def test_with_edits_reports_each_repair() -> None:
    out, edits = repair_semicolons_with_edits(SPUN, CFG)
    assert out == repair_semicolons(SPUN, CFG)
    assert sum(e.count for e in edits) == SPUN.count(";") - out.count(";")
    assert all(e.kind == "semicolon_repair" for e in edits)
    assert Edit("semicolon_repair", '"participation; in" -> "participation in"', 1) in edits


def test_disabled_is_identity() -> None:
    assert repair_semicolons(SPUN, PunctuationConfig(enabled=False)) == SPUN


def test_thresholds_are_respected() -> None:
    never = PunctuationConfig(min_stray_probability=1.0, spun_page_min_stray_probability=1.0)
    assert repair_semicolons(SPUN, never) == SPUN
    assessment = assess_semicolons(SPUN, CFG)
    assert assessment.spun_page
    bar = CFG.spun_page_min_stray_probability
    assert all((s.choice != KEEP) == (s.stray_probability >= bar) for s in assessment.sites)
    assert all(s.choice != COMMA or s.comma_probability >= CFG.min_comma_probability for s in assessment.sites)
    # the same page judged as not spun (the page-level bar out of reach) keeps to the higher threshold
    unspun = assess_semicolons(SPUN, PunctuationConfig(spun_page_min_confident=1000))
    assert not unspun.spun_page
    assert all((s.choice != KEEP) == (s.stray_probability >= CFG.min_stray_probability) for s in unspun.sites)


def test_no_semicolon_no_change() -> None:
    assert repair_semicolons("No semicolons here, just commas.", CFG) == "No semicolons here, just commas."
    assert repair_semicolons("", CFG) == ""
    assert assess_semicolons("AT&amp;T and Procter &amp; Gamble.", CFG).n_semicolons == 0


@pytest.mark.parametrize("case", json.loads((GOLDEN / "negative.json").read_text(encoding="utf-8")), ids=lambda c: c["id"])
def test_golden_negative(case: dict) -> None:
    assert repair_semicolons(case["text"], CFG) == case["text"]


POSITIVE = json.loads((GOLDEN / "positive.json").read_text(encoding="utf-8"))


def test_golden_positive_mostly_fixed() -> None:
    """Spun paragraphs (golden/positive.json): most stray semicolons get the right repair, none is added."""
    stray = right = 0
    for case in POSITIVE:
        out = repair_semicolons(case["before"], CFG).split(" ")
        before, after = case["before"].split(" "), case["after"].split(" ")
        assert len(out) == len(after)
        wrong_elsewhere = [i for i, (b, a) in enumerate(zip(before, after)) if b == a and out[i] != a]
        assert not wrong_elsewhere, case["id"]
        positions = [i for i, (b, a) in enumerate(zip(before, after)) if b != a]
        stray += len(positions)
        right += sum(out[i] == after[i] for i in positions)
    assert right / stray >= 0.6


# Golden spun paragraphs not repaired exactly (a comma-vs-space error or a missed semicolon each)
INEXACT = {"seed002_paragraph_borisov", "seed002_keeps_clause_semicolon", "spun_wire_story"}
INEXACT_MARK = pytest.mark.xfail(strict=True, reason="not repaired exactly (comma vs space errors)")


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c["id"], marks=[INEXACT_MARK] if c["id"] in INEXACT else []) for c in POSITIVE]
)
def test_golden_positive_exact(case: dict) -> None:
    assert repair_semicolons(case["before"], CFG) == case["after"]


def test_seed_002_labels_match_the_page() -> None:
    labels = json.loads((GOLDEN / "seed_002_labels.json").read_text(encoding="utf-8"))
    text = (SEEDS / Path(labels["seed"]).name).read_text(encoding="utf-8")  # the demo copy of the seed page
    sites = assess_semicolons(text, CFG).sites
    assert [(s.before, s.after) for s in sites] == [(r["before"], r["after"]) for r in labels["labels"]]
    assert {r["label"] for r in labels["labels"]} <= {KEEP, COMMA, DROP}
    assert assess_semicolons(text, CFG).spun_page


def test_seed_002_most_stray_fixed() -> None:
    """The spun seed page: at least 12 of its 14 stray semicolons changed, 8 with the labelled repair, the legitimate one kept."""
    from evals.repairs import seed_semicolon_accuracy

    result = seed_semicolon_accuracy(CFG)
    assert result["stray"] == 14 and result["legit_kept"] == result["legit"] == 1
    assert result["stray_changed"] >= 12 and result["stray_fixed_right"] >= 8


@pytest.mark.xfail(strict=True, reason="acceptance 14/14 on seed 002 not reached: 8/14 (see evals/repairs.py seed_002)")
def test_seed_002_all_stray_fixed() -> None:
    from evals.repairs import seed_semicolon_accuracy

    assert seed_semicolon_accuracy(CFG)["stray_fixed_right"] == 14


@pytest.mark.parametrize("name", ["lee", "textmode_gold", "enwiki"])
def test_real_prose_pages_untouched(name: str) -> None:
    """Acceptance: at most 2 pages in 1,000 get a legitimate semicolon changed (lee and textmode_gold held out of the fit)."""
    from evals import repairs as eval_repairs

    docs = eval_repairs.load_clean_corpora_one(name)
    if not docs:
        need(SHARED / "missing", f"{name} corpus")
    result = eval_repairs.legit_semicolons_touched(docs, CFG)
    assert result["pages_changed_per_1000_pages"] <= 2.0


@pytest.mark.parametrize("case", json.loads((GOLDEN / "known_failures.json").read_text(encoding="utf-8")), ids=lambda c: c["id"])
@pytest.mark.xfail(strict=True, reason="known failure (tests/golden/punctuation/known_failures.json)")
def test_golden_known_failures(case: dict) -> None:
    assert repair_semicolons(case["before"], CFG) == case["after"]

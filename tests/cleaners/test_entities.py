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
        "Schlumberger sold the unit. Schlumberger said the price was fair. Schlumberger shares rose. Sclumberger had said more.",
        "Schlumberger sold the unit. Schlumberger said the price was fair. Schlumberger shares rose. Schlumberger had said more.",
        id="dropped_letter",
    ),
    pytest.param(
        "Chrysler Canada is owned by Chrsyler Corp. Chrysler said sales rose. Chrysler dealers were told on Monday.",
        "Chrysler Canada is owned by Chrysler Corp. Chrysler said sales rose. Chrysler dealers were told on Monday.",
        id="transposition",
    ),
    pytest.param(
        "Allure Cosmetics said sales rose. Allure also cut prices. Allure expects a strong year. Alllure said more.",
        "Allure Cosmetics said sales rose. Allure also cut prices. Allure expects a strong year. Allure said more.",
        id="inserted_letter",
    ),
    pytest.param(
        "Bundesbank officials met on Thursday. The Bundesbank said rates would hold. A Bundesbank spokesman said the "
        "Bundesbamk council had not discussed the dollar.",
        "Bundesbank officials met on Thursday. The Bundesbank said rates would hold. A Bundesbank spokesman said the "
        "Bundesbank council had not discussed the dollar.",
        id="keyboard_substitution",
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
        "Rogozin spoke. Rogozin left. Rogozin came back. Rogzonin stayed. Rogzonin left.",
        "Rogozin spoke. Rogozin left. Rogozin came back. Rogzonin stayed. Rogzonin left.",
        id="noop_repeated_spelling_not_rare",
    ),
    pytest.param("Nothing capitalised here except This.", "Nothing capitalised here except This.", id="noop_clean"),
    pytest.param("", "", id="noop_empty"),
]

# Distinct names one or two letters apart that an earlier version merged (issue 15): the rare form
# must survive. Each is a realistic paragraph around the real pair.
DISTINCT_NAMES = [
    pytest.param(
        "Agamemnon had taken Chryseis as a prize of war. When Chryseis was not returned, the god sent a plague on "
        "the Greek camp. Her father Chryses, a priest of Apollo, begged for her release, and Chryseis was at last "
        "sent home with offerings.",
        id="chryses_chryseis",
    ),
    pytest.param(
        "Mouloud Feraoun was born in Kabylie in 1913. Mouloud wrote in French about village life, and Mouloud "
        "taught in schools across the region. Further west, the Moulouya river marks the old border with Morocco.",
        id="moulouya_mouloud",
    ),
    pytest.param(
        "Parrondo's paradox was described by Juan Parrondo in 1996. Parrondo showed that two losing games can "
        "combine into a winning one, and Parrondo later worked with the physicist Patrono on ratchets.",
        id="patrono_parrondo",
    ),
    pytest.param(
        "The Byzantine Empire lasted a thousand years. Byzantine art spread to Russia, and Byzantine law shaped "
        "Europe. The historian Byzantinus is known only from one fragment.",
        id="byzantinus_byzantine",
    ),
    pytest.param(
        "Grainline Studio sells sewing patterns online. Grainline started in Chicago, and Grainline now ships to "
        "forty countries. The rugby podcast Gainline reviewed its jackets last week.",
        id="gainline_grainline",
    ),
    pytest.param(
        "Writers keep moving to Substacks of their own. Substacks grew fastest in politics, and Substacks now pay "
        "more than some newspapers. One Substacker said the money was better than her old salary.",
        id="substacker_substacks",
    ),
    pytest.param(
        "Equimark Corp said it agreed to buy a bank in Pittsburgh. Equimark shares rose 50 cents, and Equimark "
        "said the deal would close in June. Equibank, its main subsidiary, will keep its name.",
        id="equibank_equimark",
    ),
    pytest.param(
        "Texcan Ltd said it would sell its cable unit. Texcan shares were halted in Toronto, and Texcan said the "
        "buyer was Texscan Corp of Phoenix, which makes cable television equipment.",
        id="texscan_texcan",
    ),
    pytest.param(
        "Write Better Briefs. Write them for one reader. Write the summary last. Teams that write plans in Wrike "
        "or a shared document should keep them short, and write the decision at the top.",
        id="wrike_write",
    ),
    pytest.param(
        "Concrete Floors. Concrete Countertops. Concrete Walls. We pour concrete for homes and offices, and our "
        "Concertex sealer keeps concrete clean for years.",
        id="concertex_concrete",
    ),
]

# Slips of a name written three or more times beside it: repaired.
SLIPS = [
    pytest.param(
        "The Taiwan dollar rose. Officials in Taiwan said exports grew. Taiwan will report trade figures on Monday. "
        "Trade deficits with Taiwain and Korea remain large.",
        "Taiwain",
        "Taiwan",
        id="taiwain",
    ),
    pytest.param(
        "Stonecipher said the merger was off. Stonecipher told analysts the board agreed, and Stonecipher will "
        "stay as chairman. Stoneciphre declined to give a date.",
        "Stoneciphre",
        "Stonecipher",
        id="transposed_end",
    ),
    pytest.param(
        "Kampelman led the talks in Geneva. Kampelman said the Soviets had moved, and Kampelman will report to "
        "the president. Kampleman returns on Friday.",
        "Kampleman",
        "Kampelman",
        id="kampleman",
    ),
]


@pytest.mark.parametrize("text", DISTINCT_NAMES)
def test_distinct_names_kept(text: str) -> None:
    assert fix_entity_typos(text, CFG) == text


@pytest.mark.parametrize(("text", "typo", "name"), SLIPS)
def test_slips_repaired(text: str, typo: str, name: str) -> None:
    out = fix_entity_typos(text, CFG)
    assert typo not in out and out == text.replace(typo, name)


@pytest.mark.parametrize(("before", "after"), CASES)
def test_fix_entity_typos(before: str, after: str) -> None:
    assert fix_entity_typos(before, CFG) == after


def test_with_edits() -> None:
    text = "Rogozin spoke. Rogozin left. Rogozin returned. Rogzonin’s behavior changed."
    _, edits = fix_entity_typos_with_edits(text, CFG)
    assert edits == [Edit("name_typo", "Rogzonin -> Rogozin", 1)]


def test_thresholds_are_respected() -> None:
    text = "Rogozin spoke. Rogozin left. Rogozin returned. Rogzonin’s behavior changed."
    assert find_entity_typos(text, CFG) == {"Rogzonin": "Rogozin"}
    assert find_entity_typos(text, EntitiesConfig(min_name_mentions=4)) == {}
    assert find_entity_typos(text, EntitiesConfig(min_slip_probability=1.0)) == {}
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

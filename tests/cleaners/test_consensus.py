"""cleaners.dedup.consensus: repair the canonical text where its copies agree."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from cleaners.config import DedupConfig, PipelineConfig
from cleaners.dedup import assign_clusters, repair_clusters, repair_from_copies
from cleaners.derived import make_content_hash
from cleaners.edits import Edit
from cleaners.words import count_words

CFG = DedupConfig()

BASE = (
    "Russia, like the United States, has previously launched its own independent manned space stations. "
    "Mr. Borisov said the new space program is the agency's top priority, officials told reporters on Tuesday."
)


def damage(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


WON = damage(BASE, "its own independent", "its won independent")
BORISOV = damage(BASE, "Mr. Borisov said", "Mr. Borsiov said")
SEMI = damage(BASE, "said the new", "said; the new")
PREVIOSLY = damage(BASE, "previously", "previosly")
REWRITE = damage(BASE, "top priority", "chief goal")

# (id, canonical, copies, expected text, expected edit details)
REPAIR_CASES = [
    ("real_word_typo", WON, [BASE, PREVIOSLY], BASE, ['"won" -> "own"']),
    ("misspelled_name", BORISOV, [BASE, SEMI], BASE, ['"Borsiov" -> "Borisov"']),
    ("stray_semicolon", SEMI, [BASE, WON], BASE, ['";" -> ""']),
    ("two_repairs", damage(WON, "previously", "previosly"), [BASE, BASE, SEMI], BASE, ['"previosly" -> "previously"', '"won" -> "own"']),
    ("clean_canonical_no_op", BASE, [WON, PREVIOSLY, SEMI], BASE, []),
    ("one_copy_is_not_consensus", WON, [BASE], WON, []),
    ("copies_disagree", WON, [BASE, WON], WON, []),
    ("minority_of_covering_copies", WON, [BASE, BASE, WON, WON], WON, []),
    ("rewrite_is_not_a_typo", BASE, [REWRITE, REWRITE], BASE, []),
    ("case_and_typography_ignored", BASE, [BASE.upper(), BASE.upper(), BASE.replace("'", "’")], BASE, []),
    ("truncated_copies_still_vote_where_they_cover", WON, [BASE[:120], BASE[:110] + " And more."], BASE, ['"won" -> "own"']),
    ("empty_canonical", "", [BASE, BASE], "", []),
]


@pytest.mark.parametrize(
    ("canonical", "copies", "expected", "details"), [c[1:] for c in REPAIR_CASES], ids=[c[0] for c in REPAIR_CASES]
)
def test_repair_from_copies(canonical: str, copies: list[str], expected: str, details: list[str]) -> None:
    text, edits = repair_from_copies(canonical, copies, CFG)
    assert text == expected
    assert sorted(e.detail for e in edits) == sorted(details)
    assert all(e.kind == "consensus_repair" and e.count >= 1 for e in edits)
    assert repair_from_copies(text, copies, CFG)[0] == text  # idempotent


def test_edit_record_shape() -> None:
    assert repair_from_copies(WON, [BASE, BASE], CFG)[1] == [Edit("consensus_repair", '"won" -> "own"', 1)]


def test_thresholds_are_config() -> None:
    three = dataclasses.replace(CFG, min_consensus_copies=3)
    assert repair_from_copies(WON, [BASE, BASE], three)[0] == WON
    assert repair_from_copies(WON, [BASE, BASE, BASE], three)[0] == BASE


def _clustered(texts: dict[str, str]) -> pl.DataFrame:
    df = pl.DataFrame({"doc_id": list(texts), "text": list(texts.values())})
    return assign_clusters(df, CFG)


def test_repair_clusters_updates_only_canonical_rows() -> None:
    long_won = WON + " " + "The station has been operating since 1998 with partners in Europe, Japan and Canada."
    copies = {"c1": BASE, "c2": PREVIOSLY}
    out = _clustered({"canon": long_won, **copies})
    assert out.filter("is_canonical")["doc_id"].to_list() == ["canon"]
    repaired = repair_clusters(out, CFG)
    assert repaired["doc_id"].to_list() == out["doc_id"].to_list()
    row = repaired.filter(pl.col("doc_id") == "canon")
    assert "its own independent" in row["text"].item()
    assert row["edits"].item().to_list() == [{"kind": "consensus_repair", "detail": '"won" -> "own"', "count": 1}]
    others = repaired.filter(pl.col("doc_id") != "canon")
    assert others["text"].to_list() == list(copies.values())
    assert (others["edits"].list.len() == 0).all()


def test_repair_clusters_rederives_hash_and_word_count_of_a_repaired_text() -> None:
    """Regression (issue 11): the flow recomputed these itself with names it never imported."""
    out = _clustered({"canon": WON + " Extra closing words here.", "c1": BASE, "c2": BASE + " x"})
    out = out.with_columns(
        pl.col("text").map_elements(make_content_hash, return_dtype=pl.String).alias("content_hash"),
        pl.col("text").map_elements(count_words, return_dtype=pl.Int32).alias("n_words"),
    )
    repaired = repair_clusters(out, CFG)
    assert repaired.select(out.columns).schema == out.schema  # plus the edits column it adds
    canon = repaired.filter("is_canonical")
    assert canon["text"].item() != out.filter("is_canonical")["text"].item()
    for row in repaired.iter_rows(named=True):
        assert row["content_hash"] == make_content_hash(row["text"]) and len(row["content_hash"]) == 32
        assert row["n_words"] == count_words(row["text"])
    assert repaired.filter(~pl.col("is_canonical")).select(out.columns).equals(out.filter(~pl.col("is_canonical")))


def test_repair_clusters_appends_to_existing_edits() -> None:
    out = _clustered({"canon": WON + " Extra closing words here.", "c1": BASE, "c2": BASE + " x"})
    edits = [[{"kind": "boilerplate_nav", "detail": "Home | News", "count": 1}]] * out.height
    out = out.with_columns(
        edits=pl.Series(edits, dtype=pl.List(pl.Struct({"kind": pl.String, "detail": pl.String, "count": pl.Int32})))
    )
    row = repair_clusters(out, CFG).filter("is_canonical")
    assert [e["kind"] for e in row["edits"].item().to_list()] == ["boilerplate_nav", "consensus_repair"]


def test_repair_clusters_disabled_and_empty() -> None:
    out = _clustered({"canon": WON, "c1": BASE, "c2": BASE + " x"})
    off = repair_clusters(out, dataclasses.replace(CFG, consensus_repair=False))
    assert off["text"].to_list() == out["text"].to_list()
    assert repair_clusters(out.head(0), CFG).height == 0


# ------------------------------------------------------------------ acceptance: a republished seed page

SEED = "004_92a320458e2675b0.txt"


def _republish(body: str, site: str, header: str, footer: str) -> str:
    return f"{header}\n\n{body}\n\n{footer}\n"


def test_seed_republished_copies_repair_the_canonical(seeds_dir) -> None:
    from cleaners.document import RawPage, clean_pages

    path = seeds_dir / SEED
    seed = path.read_text(encoding="utf-8")
    assert "its won independent" in seed
    fixed = seed.replace("its won independent", "its own independent")
    copy_a = _republish(
        fixed.replace("Mr. Borisov said the new", "Mr. Borisov said; the new").replace(
            "has not been undermined", "has not; been undermined"
        ).replace("a hot-tempered nationalist", "a hot-temperd nationalist"),
        "orbitdaily.com",
        "Orbit Daily | Home | World | Science | Space",
        "© 2024 Orbit Daily. All rights reserved. Subscribe to our newsletter.",
    )
    copy_b = _republish(
        fixed.replace("navigation, communications", "navigation; communications").replace(
            "corruption scandals", "corruptoin scandals"
        ),
        "spacewire.net",
        "SpaceWire News — Latest | Launches | Stations",
        "Share this article: Facebook Twitter Email. Copyright SpaceWire 2024.",
    )
    pages = [
        RawPage(source="seed.txt", data=seed.encode(), name="seed.txt", site="example.org", format="text"),
        RawPage(source="a.txt", data=copy_a.encode(), name="a.txt", site="orbitdaily.com", format="text"),
        RawPage(source="b.txt", data=copy_b.encode(), name="b.txt", site="spacewire.net", format="text"),
    ]
    cleaned, _ = clean_pages(pages, PipelineConfig())
    kept = cleaned.filter(pl.col("drop_reason").is_null())
    assert kept.height == 3
    clustered = assign_clusters(kept.select("doc_id", "text", "site", "published", "edits"), CFG)
    assert clustered["cluster_id"].n_unique() == 1
    repaired = repair_clusters(clustered, CFG)
    canon = repaired.filter("is_canonical")
    text = canon["text"].item()
    assert "its own independent" in text
    assert "its won independent" not in text
    for typo in ("hot-temperd", "corruptoin", "said; the", "not; been", "navigation; communications"):
        assert typo not in text
    details = [e["detail"] for e in canon["edits"].item().to_list() if e["kind"] == "consensus_repair"]
    assert details  # the repairs are recorded

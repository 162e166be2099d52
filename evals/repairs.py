"""Reproducible measurement of the semicolon and name-typo repairs (the I/O side).

Run: ``.venv/bin/python -m evals.repairs`` (``--json`` for machine-readable output).

Corpora (all read-only, none downloaded; paths in ``evals.data``):

- ``seed002``: the seed page ``002_*.txt`` with hand labels (``SEED_LABELS``).
- ``lee``: gensim's bundled Lee news corpus (``LEE_FILES``, one doc a line).
- ``textmode_gold``: the ``*.gold.txt`` article bodies of the text-mode set.
- ``syndication_source``: the syndication rows with ``is_source`` (clean Reuters wire text).
- ``enwiki``: the Wikipedia article sample bundled with gensim's tests, markup stripped with
  ``gensim.corpora.wikicorpus.filter_wiki`` (real encyclopedic prose, rich in semicolons).
- ``wcxb_gold``: the ``main_content`` gold bodies of WCXB dev (modern web pages of every type);
  never used to fit or choose anything of the name repair (its held-out check).

Figures:

- semicolons: accuracy on the seed labels; share of legitimate semicolons touched per corpus;
  and a synthetic held-out spinner (commas turned into semicolons, semicolons inserted before
  prepositions, with a fixed seed) measuring document detection and choice accuracy. The
  synthetic check was never used to choose rules or thresholds.
- names: the seed 003 fix; per corpus the pages with a wrong name change per 1,000 (every change
  on clean text counts unless the hand audit ``tests/golden/entities/clean_news_audit.json`` marks
  it a genuine source typo) with every change listed for auditing, and the share of slips of the
  held-out ``typist`` generator (``evals.name_slips``) repaired, per corpus and pooled.
"""

from __future__ import annotations

import bz2
import gzip
import json
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cleaners.config import EntitiesConfig, PunctuationConfig
from cleaners.entities import fix_entity_typos_with_edits
from cleaners.punctuation import COMMA, DROP, KEEP, SEMICOLON_RE, assess_semicolons, repair_semicolons
from evals import data, name_slips

SYNTH_SEED = 20240607
# A comma that separates words (not digits): ", the" matches; "1,076" does not.
WORD_COMMA_RE = re.compile(r"(?<=[^\W\d]),(?= [^\W\d])")


def required_data() -> dict[str, Path]:
    """What the harness reads, by name (the CLI exits 2 naming any that is missing)."""
    gensim = data.gensim_test_data()
    return {
        "seeds": data.shared(data.SEED_PAGES),
        "textmode_gold": data.shared(data.TEXTMODE_DEV),
        "syndication": data.shared(data.SYNDICATION_DEV),
        "lee (the gensim wheel's test data)": gensim / data.LEE_FILES[0] if gensim else Path("gensim/test/test_data"),
        "wcxb_gold": data.shared(data.WCXB_DEV) / data.WCXB_GOLD_FILE,
    }


def load_lee() -> list[str]:
    gensim = data.gensim_test_data()
    if gensim is None:
        return []
    docs: list[str] = []
    for name in data.LEE_FILES:
        docs += [line.strip() for line in (gensim / name).read_text(encoding="latin-1").splitlines() if line.strip()]
    return docs


def load_textmode_gold() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(data.shared(data.TEXTMODE_DEV).glob("*.gold.txt"))]


def load_syndication_source() -> list[str]:
    path = data.shared(data.SYNDICATION_DEV)
    if not path.exists():
        return []
    import polars as pl

    return pl.read_parquet(path).filter(pl.col("is_source"))["text"].to_list()


def load_enwiki() -> list[str]:
    gensim = data.gensim_test_data()
    path = gensim / data.ENWIKI_SAMPLE if gensim else None
    if path is None or not path.exists():
        return []
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    docs = []
    with bz2.open(path) as fh:
        for _title, text, _pid in extract_pages(fh):
            if text and not text.lower().startswith("#redirect"):
                docs.append(filter_wiki(text))
    return docs


def load_wcxb_gold() -> list[str]:
    path = data.shared(data.WCXB_DEV) / data.WCXB_GOLD_FILE
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line).get("main_content") or "" for line in fh if line.strip()]


CORPUS_LOADERS = {
    "lee": load_lee,
    "textmode_gold": load_textmode_gold,
    "syndication_source": load_syndication_source,
    "enwiki": load_enwiki,
    "wcxb_gold": load_wcxb_gold,
}


def load_clean_corpora_one(name: str) -> list[str]:
    return CORPUS_LOADERS[name]()


def load_clean_corpora() -> dict[str, list[str]]:
    return {name: load() for name, load in CORPUS_LOADERS.items()}


# --- semicolons ---------------------------------------------------------------------------


def seed_semicolon_accuracy(cfg: PunctuationConfig) -> dict:
    """Per-semicolon choice on seed 002 against the hand labels."""
    seed = data.shared(json.loads(data.SEED_LABELS.read_text())["seed"])
    labels = json.loads(data.SEED_LABELS.read_text())["labels"]
    text = seed.read_text(encoding="utf-8")
    assessment = assess_semicolons(text, cfg)
    predicted = [s.choice if assessment.anomalous else KEEP for s in assessment.sites]
    if len(predicted) != len(labels):
        raise ValueError(f"seed has {len(predicted)} semicolons, labels {len(labels)}")
    stray = [(p, g["label"]) for p, g in zip(predicted, labels) if g["label"] != KEEP]
    legit = [(p, g["label"]) for p, g in zip(predicted, labels) if g["label"] == KEEP]
    return {
        "semicolons": len(labels),
        "stray": len(stray),
        "stray_fixed_right": sum(p == g for p, g in stray),
        "stray_accuracy": sum(p == g for p, g in stray) / len(stray),
        "legit": len(legit),
        "legit_kept": sum(p == KEEP for p, _ in legit),
        "document_flagged": assessment.anomalous,
    }


def legit_semicolons_touched(docs: list[str], cfg: PunctuationConfig) -> dict:
    """How many semicolons of clean prose the repair removes or changes."""
    total = touched = docs_touched = 0
    examples: list[str] = []
    for doc in docs:
        n = doc.count(";")
        if not n:
            continue
        total += n
        out = repair_semicolons(doc, cfg)
        if out != doc:
            docs_touched += 1
            lost = n - out.count(";")
            touched += lost
            if len(examples) < 3:
                m = next(SEMICOLON_RE.finditer(doc))
                examples.append(doc[max(0, m.start() - 40) : m.start() + 40])
    return {
        "docs": len(docs),
        "semicolons": total,
        "touched": touched,
        "touched_rate": touched / total if total else 0.0,
        "docs_touched": docs_touched,
        "examples": examples,
    }


@dataclass(frozen=True)
class SpunDoc:
    text: str
    labels: tuple[tuple[int, str], ...]  # (offset of ";", right choice)


def spin_semicolons(doc: str, rng: random.Random, comma_rate: float = 0.5, insert_rate: float = 0.08) -> SpunDoc:
    """Simulate a spinner: turn word commas into ";" (label comma) and insert ";" before prepositions (label drop).

    Existing semicolons are labelled keep. Prepositions follow a lower-case word, so the
    insertion never splits "Washington, DC" style pairs.
    """
    preps = {"in", "on", "about", "for", "with", "from", "during", "after", "amid", "at", "of"}
    out: list[str] = []
    labels: list[tuple[int, str]] = []
    pos = 0
    events: list[tuple[int, str]] = [(m.start(), "comma") for m in WORD_COMMA_RE.finditer(doc)]
    events += [(m.start(), "keep") for m in SEMICOLON_RE.finditer(doc)]
    for m in re.finditer(r"(?<=[a-z]) (?=(\w+) )", doc):
        if m.group(1) in preps:
            events.append((m.start(), "insert"))
    length = 0
    for at, kind in sorted(events):
        if kind == "comma" and rng.random() >= comma_rate:
            continue
        if kind == "insert" and rng.random() >= insert_rate:
            continue
        chunk = doc[pos:at]
        out.append(chunk)
        length += len(chunk)
        labels.append((length, {"comma": COMMA, "insert": DROP, "keep": KEEP}[kind]))
        out.append(";")
        length += 1
        pos = at + (0 if kind == "insert" else 1)
    out.append(doc[pos:])
    return SpunDoc("".join(out), tuple(labels))


def synthetic_semicolon_check(docs: list[str], cfg: PunctuationConfig, seed: int = SYNTH_SEED) -> dict:
    """Held-out check on spun clean docs: document detection and per-semicolon choice accuracy."""
    rng = random.Random(seed)
    n_docs = flagged = n_stray = right = stray_in_flagged = 0
    for doc in docs:
        if len(doc.split()) < 80:
            continue
        spun = spin_semicolons(doc, rng)
        stray = [(i, c) for i, c in spun.labels if c != KEEP]
        if len(stray) < 3:
            continue
        n_docs += 1
        n_stray += len(stray)
        assessment = assess_semicolons(spun.text, cfg)
        if not assessment.anomalous:
            continue
        flagged += 1
        stray_in_flagged += len(stray)
        choice = {s.index: s.choice for s in assessment.sites}
        right += sum(choice.get(i) == c for i, c in stray)
    return {
        "docs": n_docs,
        "docs_flagged": flagged,
        "detection_recall": flagged / n_docs if n_docs else 0.0,
        "stray": n_stray,
        "stray_fixed_right": right,
        "stray_accuracy": right / n_stray if n_stray else 0.0,
        "stray_accuracy_in_flagged_docs": right / stray_in_flagged if stray_in_flagged else 0.0,
    }


# --- names ----------------------------------------------------------------------------------


def seed_name_fix(cfg: EntitiesConfig) -> dict:
    path = next(data.shared(data.SEED_PAGES).glob("003_*.txt"))
    text = path.read_text(encoding="utf-8")
    out, edits = fix_entity_typos_with_edits(text, cfg)
    return {
        "edits": [e.detail for e in edits],
        "fixed": "Rogzonin" not in out and "Rogozin’s behavior" in out,
    }


def load_name_audit() -> dict[tuple[str, int, str], str]:
    """(corpus, doc index, "Typo -> Name") -> genuine_typo | false, from the hand audit."""
    if not data.NAME_AUDIT.exists():
        return {}
    rows = json.loads(data.NAME_AUDIT.read_text(encoding="utf-8"))["audit"]
    return {(r["corpus"], r["doc"], r["edit"]): r["verdict"] for r in rows}


def false_name_corrections(corpus: str, docs: list[str], cfg: EntitiesConfig, audit: dict | None = None) -> dict:
    """Corrections on clean text, split by the hand audit into genuine source typos, false and unaudited.

    ``false_or_unaudited_per_1000_docs`` is the conservative false-correction rate.
    """
    audit = audit or {}
    verdicts = {"genuine_typo": 0, "false": 0, "unaudited": 0}
    examples: list[str] = []
    for i, doc in enumerate(docs):
        _, edits = fix_entity_typos_with_edits(doc, cfg)
        for e in edits:
            verdict = audit.get((corpus, i, e.detail), "unaudited")
            verdicts[verdict] += e.count
            if verdict != "genuine_typo" and len(examples) < 12:
                examples.append(f"{e.detail} ({verdict})")
    n = len(docs)
    return {
        "docs": n,
        "corrections": sum(verdicts.values()),
        **verdicts,
        "false_per_1000_docs": 1000 * verdicts["false"] / n if n else 0.0,
        "false_or_unaudited_per_1000_docs": 1000 * (verdicts["false"] + verdicts["unaudited"]) / n if n else 0.0,
        "genuine_typos_fixed_per_1000_docs": 1000 * verdicts["genuine_typo"] / n if n else 0.0,
        "examples_not_genuine": examples,
    }


def wrong_name_changes(corpus: str, docs: list[str], cfg: EntitiesConfig, audit: dict) -> dict:
    """Pages with a name change the audit does not call a genuine source-typo fix, per 1,000; every change listed."""
    changes = [(i, d, audit.get((corpus, i, d), "unaudited")) for i, d in name_slips.name_changes(docs, cfg)]
    wrong_pages = {i for i, _, verdict in changes if verdict != "genuine_typo"}
    return {
        "docs": len(docs),
        "pages_wrong": len(wrong_pages),
        "pages_wrong_per_1000": 1000 * len(wrong_pages) / len(docs) if docs else 0.0,
        "changes": [f"{i}: {d} ({verdict})" for i, d, verdict in changes],
    }


def held_out_repairs(corpora: dict[str, list[str]], cfg: EntitiesConfig) -> dict:
    """Slips of the held-out generator repaired, per corpus and pooled."""
    rates = {name: name_slips.repair_rate(docs, cfg, name_slips.HELD_OUT_GENERATOR, SYNTH_SEED) for name, docs in corpora.items()}
    trials = sum(r["trials"] for r in rates.values())
    repaired = sum(r["repaired"] for r in rates.values())
    return {**rates, "pooled": {"trials": trials, "repaired": repaired, "repair_rate": repaired / trials if trials else 0.0}}


def measure_all() -> dict:
    pcfg, ecfg = PunctuationConfig(), EntitiesConfig()
    audit = load_name_audit()
    corpora = load_clean_corpora()
    # even syndication rows were looked at while writing the rules; odd rows never were
    held_out = corpora["lee"] + corpora["syndication_source"][1::2] + corpora["textmode_gold"]
    return {
        "semicolons": {
            "seed_002": seed_semicolon_accuracy(pcfg),
            "legit_touched": {name: legit_semicolons_touched(docs, pcfg) for name, docs in corpora.items()},
            "synthetic_spun_news_held_out": synthetic_semicolon_check(held_out, pcfg),
            "synthetic_spun_enwiki": synthetic_semicolon_check(corpora["enwiki"], pcfg),
        },
        "names": {
            "seed_003": seed_name_fix(ecfg),
            "wrong_changes": {name: wrong_name_changes(name, docs, ecfg, audit) for name, docs in corpora.items()},
            f"held_out_{name_slips.HELD_OUT_GENERATOR}_repairs": held_out_repairs(corpora, ecfg),
        },
    }


def _iter_lines(results: dict, prefix: str = "") -> Iterator[str]:
    for key, value in results.items():
        if isinstance(value, dict):
            yield from _iter_lines(value, f"{prefix}{key}.")
        elif isinstance(value, float):
            yield f"{prefix}{key}: {value:.4f}"
        else:
            yield f"{prefix}{key}: {value}"


def main(argv: list[str]) -> int:
    results = measure_all()
    if "--json" in argv:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print("\n".join(_iter_lines(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

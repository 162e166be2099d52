"""Fit the name-typo slip model (``cleaners/entities_model.json``) and the list of known names
(``cleaners/entities_names.json``).

Run: ``.venv/bin/python -m evals.fit_names [--loco] [--write]``.

Training corpora (``TRAIN_CORPORA``, loaders in ``evals.repairs``): Lee, the AEB dev gold bodies,
the Reuters syndication sources and the Wikipedia sample. WCXB dev gold is never read here: it is
the held-out check of ``newsclean eval repairs``.

Rows are the candidates that pass every gate of ``cleaners.entities.slip_candidates``:

- positives: one slip per document from each training generator (``name_slips.TRAIN_GENERATORS``;
  the ``typist`` generator is held out), when the slip survives the gates;
- negatives: candidates on the clean documents themselves (minus those the hand audit
  ``tests/golden/entities/clean_news_audit.json`` marks as genuine source typos), and pairs of
  distinct known names of the corpora one or two letters apart ("Austria"/"Australia"), the
  rarer form as the typo and the other at its highest count on one page.

Negatives weigh ``NEGATIVE_WEIGHT`` of the positives in total; L2-penalised logistic regression
(Newton steps).
``--loco``: leave one corpus out: the list of names and the model fitted on the others, then the
held-out corpus's pages with a name change per 1,000 and its repair rates of the generators left out
of fitting (``insert``, ``typist``).
"""

from __future__ import annotations

import json
import math
import random
import sys
from collections import Counter

import numpy as np

from cleaners.config import EntitiesConfig
from cleaners.entities import FEATURES, MODEL_FILE, NAMES_FILE, SlipModel, is_name_token, is_near_miss, letter_runs, slip_candidates, slip_features
from evals import name_slips
from evals.repairs import load_clean_corpora_one, load_name_audit

TRAIN_CORPORA = ("lee", "textmode_gold", "syndication_source", "enwiki")
SEED = 20251202
L2 = 1.0
# Most near-name pairs of the corpora never meet on one page, and the gates stop most that do (16
# clean-page candidates in the four corpora): as a prior they weigh a quarter of the slips.
NEGATIVE_WEIGHT = 0.25
MAX_INJECTED_DOCS = 1500  # documents of a corpus that get training slips (evenly spaced; bounds the fitting time)
EVAL_GENERATORS = (name_slips.HELD_OUT_GENERATOR, "typist")


def _max_page_counts(docs: list[str]) -> Counter[str]:
    best: Counter[str] = Counter()
    for doc in docs:
        for t, n in Counter(t for t in letter_runs(doc) if is_name_token(t)).items():
            best[t] = max(best[t], n)
    return best


def _row(typo: str, name: str, count: int, cfg: EntitiesConfig) -> list[float]:
    f = slip_features(typo, name, count, cfg)
    return [f[k] for k in FEATURES]


def corpus_rows(corpus: str, docs: list[str], cfg: EntitiesConfig, audit: dict) -> tuple[list[list[float]], list[int]]:
    """Rows of one corpus: gated candidates on its clean pages (0) and injected training slips (1).

    The gates run without the list of known names, so the rows do not depend on the fold.
    """
    X: list[list[float]] = []
    y: list[int] = []
    for i, doc in enumerate(docs):
        for c in slip_candidates(doc, cfg):
            if audit.get((corpus, i, f"{c.typo} -> {c.name}")) != "genuine_typo":
                X.append(_row(c.typo, c.name, c.name_count, cfg))
                y.append(0)
    step = max(1, len(docs) // MAX_INJECTED_DOCS)
    for generator in name_slips.TRAIN_GENERATORS:
        prng = random.Random(f"{SEED}-{generator}-train")
        for doc in docs[::step]:
            trial = name_slips.inject(doc, generator, prng, cfg)
            if trial is None:
                continue
            corrupted, typo, name = trial
            hit = [c for c in slip_candidates(corrupted, cfg) if c.typo == typo and c.name == name]
            if hit:
                X.append(_row(typo, name, hit[0].name_count, cfg))
                y.append(1)
    return X, y


def pair_rows(docs: list[str], cfg: EntitiesConfig) -> tuple[list[list[float]], list[int]]:
    """Distinct names of the corpora (each written 3+ times) one or two letters apart: negatives."""
    best = _max_page_counts(docs)
    names = sorted(name_slips.build_known_names(docs, min_docs=1))
    names = [n for n in names if n.isascii() and len(n) >= cfg.min_name_chars and best[n] >= cfg.min_name_mentions]
    by_initial: dict[str, list[str]] = {}
    for n in names:
        by_initial.setdefault(n[0], []).append(n)
    X: list[list[float]] = []
    for group in by_initial.values():
        for a in group:
            for b in group:
                if a != b and abs(len(a) - len(b)) <= cfg.max_edit_distance and is_near_miss(b, a, cfg):
                    X.append(_row(b, a, best[a], cfg))
    return X, [0] * len(X)


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = L2) -> np.ndarray:
    """L2 logistic regression by Newton steps (the bias, column 0, is not penalised); the negatives
    weigh ``NEGATIVE_WEIGHT`` times the positives in total."""
    w_pos, w_neg = 1 / max(1, y.sum()), NEGATIVE_WEIGHT / max(1, (1 - y).sum())
    sw = np.where(y == 1, w_pos, w_neg) * len(y)
    beta = np.zeros(X.shape[1])
    penalty = np.full(X.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(X @ beta, -30, 30)))
        grad = X.T @ (sw * (p - y)) + penalty * beta
        hess = (X * (sw * p * (1 - p))[:, None]).T @ X + np.diag(penalty + 1e-6)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def fit(corpora: dict[str, list[str]], cfg: EntitiesConfig, audit: dict, cache: dict | None = None) -> tuple[SlipModel, frozenset[str], dict]:
    """The slip model and the list of known names from ``corpora`` (``cache``: corpus -> rows, reused across folds)."""
    cache = {} if cache is None else cache
    X: list[list[float]] = []
    y: list[int] = []
    for corpus, docs in corpora.items():
        if corpus not in cache:
            cache[corpus] = corpus_rows(corpus, docs, cfg, audit)
        X += cache[corpus][0]
        y += cache[corpus][1]
    all_docs = [d for docs in corpora.values() for d in docs]
    pX, py = pair_rows(all_docs, cfg)
    Xa, ya = np.array(X + pX, dtype=float), np.array(y + py, dtype=float)
    beta = fit_logistic(Xa, ya)
    model = SlipModel({k: round(float(b), 4) for k, b in zip(FEATURES, beta)})
    p = np.array([model.probability(dict(zip(FEATURES, row))) for row in Xa])
    pick = p >= cfg.min_slip_probability
    stats = {
        "positives": int(ya.sum()),
        "negatives_on_pages": len(y) - sum(y),
        "negatives_name_pairs": len(py),
        "in_sample_recall": round(float(pick[ya == 1].mean()), 4) if ya.sum() else 0.0,
        "in_sample_negatives_passed": int(pick[ya == 0].sum()),
    }
    known = frozenset(name_slips.build_known_names(all_docs))
    return model, known, stats


def evaluate(corpus: str, docs: list[str], cfg: EntitiesConfig, known: frozenset[str], model: SlipModel, audit: dict) -> dict:
    """Pages with a name change that is not an audited genuine fix, per 1,000; repair rate of every generator."""
    changes = name_changes_audited(corpus, docs, cfg, known, model, audit)
    wrong_pages = {i for i, _, v in changes if v != "genuine_typo"}
    return {
        "docs": len(docs),
        "wrong_pages_per_1000": 1000 * len(wrong_pages) / len(docs) if docs else 0.0,
        "changes": [f"{i}: {d} ({v})" for i, d, v in changes],
        "repair": {g: name_slips.repair_rate(docs, cfg, g, SEED, known, model)["repair_rate"] for g in EVAL_GENERATORS},
    }


def name_changes_audited(corpus: str, docs: list[str], cfg: EntitiesConfig, known: frozenset[str] | None, model: SlipModel | None, audit: dict) -> list[tuple[int, str, str]]:
    return [(i, d, audit.get((corpus, i, d), "unaudited")) for i, d in name_slips.name_changes(docs, cfg, known, model)]


def loco(cfg: EntitiesConfig, corpora: dict[str, list[str]], audit: dict, cache: dict) -> dict:
    out = {}
    for held in corpora:
        rest = {k: v for k, v in corpora.items() if k != held}
        model, known, stats = fit(rest, cfg, audit, cache)
        out[held] = {"fit": stats, "weights": model.weights, **evaluate(held, corpora[held], cfg, known, model, audit)}
    return out


def main(argv: list[str]) -> int:
    cfg = EntitiesConfig()
    audit = load_name_audit()
    corpora = {name: load_clean_corpora_one(name) for name in TRAIN_CORPORA}
    results: dict = {}
    cache: dict = {}
    if "--loco" in argv:
        results["loco"] = loco(cfg, corpora, audit, cache)
    model, known, stats = fit(corpora, cfg, audit, cache)
    results["fit"] = stats
    results["weights"] = model.weights
    if "--write" in argv:
        MODEL_FILE.write_text(
            json.dumps({"about": "cleaners.entities slip model, written by evals.fit_names", "fit": stats, "weights": model.weights}, indent=1) + "\n",
            encoding="utf-8",
        )
        NAMES_FILE.write_text(
            json.dumps({"about": "names written the same way 3+ times in 2+ documents of the dev corpora (evals.fit_names)", "names": sorted(known)}, indent=0)
            + "\n",
            encoding="utf-8",
        )
    print(json.dumps(results, indent=1, ensure_ascii=False, default=lambda v: round(v, 4) if isinstance(v, float) else str(v)))
    return 0 if all(math.isfinite(w) for w in model.weights.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

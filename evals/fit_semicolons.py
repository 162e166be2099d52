"""Fit the stray-semicolon model (``cleaners/punctuation_model.json``) and choose its threshold out of fold.

Run: ``.venv/bin/python -m evals.fit_semicolons`` (``--no-write`` to only print the figures;
``--cached`` to reuse the feature rows of the last run, kept under the cache folder;
``--decide-only`` to reuse its out-of-fold probabilities and models and only choose the decision,
with ``--refit-page`` refitting stages 2 and 3 on the saved stage-1 probabilities).

Training pages: the WCXB dev gold bodies, the gensim Wikipedia sample and the Reuters syndication
sources (``TRAIN_CORPORA``), each page once as it is (its semicolons are legitimate) and once
spun by each training generator of ``evals.spinners`` at a random density. Held out of fitting
and threshold choice altogether: the ``seed_style`` generator and the text-mode (AEB) gold
bodies and the Lee corpus (``evals.repairs`` measures on them).

Stages (see ``cleaners.punctuation``): stage 1 trees on ``FEATURE_NAMES``; stage 2 trees on the
stage-1 probability among the page's (fitted on out-of-fold stage-1 probabilities, so it learns
how far to trust them); stage 3 comma-vs-space trees on the stray semicolons. Folds: WCXB pages
by site (``evals.extract.site_fold``), other pages by document. The threshold on the stage-2
probability is the lowest one at which, out of fold, no training corpus has more than
``MAX_CLEAN_PAGES_PER_1000`` clean pages with a semicolon changed; the page-level decision (a
lower threshold on pages that look spun, ``DECISION_GRID``) is the one with the most net repairs
out of fold within the same budget.
"""

from __future__ import annotations

import gzip
import itertools
import json
import pickle
import random
import sys
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from cleaners.config import PunctuationConfig
from cleaners.punctuation import COMMA, FEATURE_NAMES, KEEP, MODEL_PATH, PAGE_FEATURE_NAMES, page_features, semicolon_features
from evals import data, spinners
from evals.extract import FOLDS, site_fold, site_of
from evals.fit_boilerplate import TreeParams, _model_dict, fit_trees

SEED = 20260415
TRAIN_CORPORA = ("wcxb_gold", "enwiki", "syndication_source")
MAX_SYNDICATION_PAGES = 1000  # a sample of the 7,000 short wire stories is plenty
MIN_WORDS = 40
MAX_CLEAN_PAGES_PER_1000 = 1.0  # out-of-fold target, half the acceptance bound of 2
STAGE1 = TreeParams(trees=120, depth=4, rate=0.15, l2=1.0)
STAGE2 = TreeParams(trees=60, depth=3, rate=0.15, l2=1.0)
COMMA_TREES = TreeParams(trees=100, depth=4, rate=0.15, l2=1.0)
SUBSAMPLE = 0.5  # share of the rows each tree is grown on
STRAY_SAMPLE = 0.3  # share of the spun semicolons fitted on (the legitimate ones are all kept)


def load_wcxb_gold() -> list[tuple[str, str]]:
    """(url, main_content) of the WCXB dev gold pages."""
    path = data.shared(f"{data.WCXB_DEV}/{data.WCXB_GOLD_FILE}")
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return [(r.get("url") or "", r.get("main_content") or "") for r in rows]


def training_pages() -> list[tuple[str, int, str]]:
    """(corpus, fold, text) of every training page."""
    from evals import repairs

    pages = [("wcxb_gold", site_fold(site_of(url) or url), text) for url, text in load_wcxb_gold()]
    enwiki = repairs.load_clean_corpora_one("enwiki")
    pages += [("enwiki", i % FOLDS, t) for i, t in enumerate(enwiki)]
    synd = repairs.load_clean_corpora_one("syndication_source")
    rng = random.Random(SEED)
    synd = rng.sample(synd, min(len(synd), MAX_SYNDICATION_PAGES))
    pages += [("syndication_source", i % FOLDS, t) for i, t in enumerate(synd)]
    return [p for p in pages if len(p[2].split()) >= MIN_WORDS]


class Rows(NamedTuple):
    x: np.ndarray  # FEATURE_NAMES
    stray: np.ndarray  # 1: a spinner's semicolon
    comma: np.ndarray  # 1: a comma belongs there (stray rows only)
    page: np.ndarray  # page number
    fold: np.ndarray
    clean: np.ndarray  # 1: the page is an unspun original
    corpus: list[str]  # per page
    generator: list[str]  # per page ("" for the clean original)


def build_rows(pages: Sequence[tuple[str, int, str]], generators: Sequence[str], cfg: PunctuationConfig, seed: int = SEED) -> Rows:
    rng = random.Random(seed)
    xs, stray, comma, page, fold, clean = [], [], [], [], [], []
    corpus: list[str] = []
    generator: list[str] = []
    for name, f, text in pages:
        variants = [("", text, None)]
        for g in generators:
            spun = spinners.spin(text, g, rng)
            variants.append((g, spun.text, dict(spun.labels)))
        for g, t, labels in variants:
            indices, x = semicolon_features(t, cfg)
            if not indices:
                continue
            pid = len(corpus)
            corpus.append(name)
            generator.append(g)
            lab = [KEEP if labels is None else labels.get(i, KEEP) for i in indices]
            xs.append(x)
            stray += [lab_i != KEEP for lab_i in lab]
            comma += [lab_i == COMMA for lab_i in lab]
            page += [pid] * len(indices)
            fold += [f] * len(indices)
            clean += [g == ""] * len(indices)
    return Rows(
        np.vstack(xs), np.asarray(stray, float), np.asarray(comma, float), np.asarray(page), np.asarray(fold),
        np.asarray(clean, bool), corpus, generator,
    )  # fmt: skip


def _page_rows(rows: Rows, p1: np.ndarray) -> np.ndarray:
    out = np.zeros((len(p1), len(PAGE_FEATURE_NAMES)))
    order = np.argsort(rows.page, kind="stable")
    bounds = np.flatnonzero(np.diff(rows.page[order])) + 1
    for idx in np.split(order, bounds):
        out[idx] = page_features(p1[idx], rows.x[idx])
    return out


def _weights(rows: Rows) -> np.ndarray:
    """Fitting weights: 0 for the stray rows left out of the fit (all but ``STRAY_SAMPLE`` of them);
    the two classes weigh the same in total, the legitimate half split evenly between the clean
    pages' semicolons and the spun pages' own (so that probabilities keep their resolution where
    the threshold falls)."""
    rng = np.random.default_rng(SEED)
    w = np.ones(len(rows.stray))
    stray = rows.stray > 0
    w[stray] = np.where(rng.random(int(stray.sum())) < STRAY_SAMPLE, 1.0, 0.0)
    total = w[stray].sum()
    spun_legit = ~stray & ~rows.clean
    for part in (rows.clean, spun_legit):
        if part.any():
            w[part] = total / 2 / part.sum()
    return w


def out_of_fold(rows: Rows, p1: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold stage-1 (unless given) and stage-2 probabilities for every row."""
    w = _weights(rows)
    if p1 is None:
        p1 = np.zeros(len(rows.stray))
        for f in range(FOLDS):
            tr, te = (rows.fold != f) & (w > 0), rows.fold == f
            p1[te] = fit_trees(rows.x[tr], rows.stray[tr], w[tr], FEATURE_NAMES, STAGE1, SUBSAMPLE, SEED).probabilities(rows.x[te])
    x2 = _page_rows(rows, p1)
    p2 = np.zeros(len(rows.stray))
    for f in range(FOLDS):
        tr, te = (rows.fold != f) & (w > 0), rows.fold == f
        p2[te] = fit_trees(x2[tr], rows.stray[tr], w[tr], PAGE_FEATURE_NAMES, STAGE2, SUBSAMPLE, SEED).probabilities(x2[te])
    return p1, p2


def choose_threshold(rows: Rows, p2: np.ndarray, n_pages: dict[str, int]) -> float:
    """The lowest threshold keeping every corpus within ``MAX_CLEAN_PAGES_PER_1000`` of all its pages:
    just above the first page maximum, in each corpus, past the allowed number of changed pages."""
    page_max: dict[int, float] = {}
    for pg, p in zip(rows.page[rows.clean].tolist(), p2[rows.clean].tolist()):
        page_max[pg] = max(p, page_max.get(pg, 0.0))
    threshold = 0.5
    for name, n in n_pages.items():
        allowed = int(MAX_CLEAN_PAGES_PER_1000 * n / 1000)
        maxima = sorted((p for pg, p in page_max.items() if rows.corpus[pg] == name), reverse=True)
        if len(maxima) > allowed:
            threshold = max(threshold, maxima[allowed])
    return float(np.ceil(threshold * 1e4 + 1e-9) / 1e4)


DECISION_GRID = {
    "spun_page_confident_probability": (0.7, 0.8, 0.9, 0.95),
    "spun_page_min_confident": (2, 3, 4, 6),
    "spun_page_min_confident_share": (0.3, 0.5, 0.7),
    "spun_page_min_stray_probability": (0.5, 0.6, 0.7, 0.8, 0.9),  # never below 0.5: change only when more likely stray
}


def decide(rows: Rows, p1: np.ndarray, p2: np.ndarray, pc: np.ndarray, decision: dict) -> dict:
    """Out-of-fold figures of one page-level decision (``PunctuationConfig`` keys in ``decision``)."""
    page = rows.page
    n_pg = int(page.max()) + 1
    count = np.bincount(page, minlength=n_pg)
    confident = np.bincount(page, weights=p1 >= decision["spun_page_confident_probability"], minlength=n_pg)
    spun_page = (confident >= decision["spun_page_min_confident"]) & (
        confident >= decision["spun_page_min_confident_share"] * count
    )
    threshold = np.where(spun_page[page], decision["spun_page_min_stray_probability"], decision["min_stray_probability"])
    changed = p2 >= threshold
    changed_page = np.bincount(page, weights=changed, minlength=n_pg) > 0
    stray, spun = rows.stray > 0, ~rows.clean
    clean_pages = np.asarray([g == "" for g in rows.generator])
    corpus = np.asarray(rows.corpus)
    right = changed & stray & ((pc >= 0.5) == (rows.comma > 0))
    return {
        "clean_pages_changed": {name: int((changed_page & clean_pages & (corpus == name)).sum()) for name in TRAIN_CORPORA},
        "fixed": float((changed & stray).sum() / max(stray.sum(), 1)),
        "right_replacement": float(right.sum() / max((changed & stray).sum(), 1)),
        "legit_on_spun_pages_changed": float((changed & spun & ~stray).sum() / max((spun & ~stray).sum(), 1)),
        "net_repairs": int((changed & stray).sum() - (changed & ~stray).sum()),
    }


def choose_decision(rows: Rows, p1: np.ndarray, p2: np.ndarray, pc: np.ndarray, n_pages: dict[str, int], threshold: float) -> dict:
    """The page-level decision with the most net repairs out of fold (stray semicolons fixed minus
    legitimate ones changed) among those keeping every corpus's clean pages within budget."""
    best: tuple[int, dict] | None = None
    keys = list(DECISION_GRID)
    for values in itertools.product(*DECISION_GRID.values()):
        decision = {"min_stray_probability": threshold, **dict(zip(keys, values))}
        figures = decide(rows, p1, p2, pc, decision)
        within = all(
            1000 * figures["clean_pages_changed"][name] / max(n, 1) <= MAX_CLEAN_PAGES_PER_1000 for name, n in n_pages.items()
        )
        if within and (best is None or figures["net_repairs"] > best[0]):
            best = (figures["net_repairs"], decision)
    return best[1] if best else {"min_stray_probability": threshold, **{k: v[-1] for k, v in DECISION_GRID.items()}}


def main(argv: Sequence[str]) -> int:
    cfg = PunctuationConfig()
    pages = training_pages()
    n_pages = {name: sum(p[0] == name for p in pages) for name in TRAIN_CORPORA}
    cache = data.cache("semicolons/rows.pkl")
    if "--cached" in argv and cache.exists():
        rows = Rows(**pickle.loads(cache.read_bytes()))  # features as last built (delete the file after changing them)
    else:
        rows = build_rows(pages, spinners.TRAINING_GENERATORS, cfg)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(rows._asdict()))
    print(f"pages {n_pages}; semicolons {len(rows.stray)} of which stray {int(rows.stray.sum())}", file=sys.stderr)
    w = _weights(rows)
    oof = data.cache("semicolons/out_of_fold.npz")
    stray_rows = (rows.stray > 0) & (w > 0)
    saved = dict(np.load(oof)) if "--decide-only" in argv and oof.exists() else {}
    refit_page = "--refit-page" in argv  # with --decide-only: keep stage 1, refit stages 2 and 3
    if "p2" in saved and not refit_page:  # reuse the last run's out-of-fold probabilities and models
        p1, p2 = saved["p1"], saved["p2"]
    else:
        p1, p2 = out_of_fold(rows, saved.get("p1"))
    # the comma model sees no page features: each training page is spun by one generator, so
    # they would tell the generator (and with it comma or space) instead of the local evidence
    xc = rows.x.copy()
    xc[:, [j for j, name in enumerate(FEATURE_NAMES) if name.startswith("pg_")]] = 0.0
    refit_comma = "pc" not in saved or refit_page
    if refit_comma:
        pc = np.zeros(len(rows.stray))
        for f in range(FOLDS):
            tr, te = (rows.fold != f) & stray_rows, rows.fold == f
            pc[te] = fit_trees(xc[tr], rows.comma[tr], np.ones(int(tr.sum())), FEATURE_NAMES, COMMA_TREES, SUBSAMPLE, SEED).probabilities(xc[te])
    else:
        pc = saved["pc"]
    np.savez(oof, p1=p1, p2=p2, pc=pc)
    threshold = choose_threshold(rows, p2, n_pages)
    decision = choose_decision(rows, p1, p2, pc, n_pages, threshold)
    figures = {
        "decision": decision,
        "out_of_fold_one_level": decide(rows, p1, p2, pc, {**decision, "spun_page_min_confident": 10**9}),
        "out_of_fold_two_level": decide(rows, p1, p2, pc, decision),
    }
    print(json.dumps(figures, indent=2))
    if "--no-write" in argv:
        return 0
    if "--decide-only" in argv and MODEL_PATH.exists():
        model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    else:
        fit = w > 0
        stage1 = fit_trees(rows.x[fit], rows.stray[fit], w[fit], FEATURE_NAMES, STAGE1, SUBSAMPLE, SEED)
        stage2 = fit_trees(_page_rows(rows, p1)[fit], rows.stray[fit], w[fit], PAGE_FEATURE_NAMES, STAGE2, SUBSAMPLE, SEED)  # on out-of-fold p1
        model = {"stray": _model_dict(stage1), "page": _model_dict(stage2)}
    if refit_page and "--decide-only" in argv:
        fit = w > 0
        model["page"] = _model_dict(fit_trees(_page_rows(rows, p1)[fit], rows.stray[fit], w[fit], PAGE_FEATURE_NAMES, STAGE2, SUBSAMPLE, SEED))
    if refit_comma or "comma" not in model:
        comma = fit_trees(xc[stray_rows], rows.comma[stray_rows], np.ones(int(stray_rows.sum())), FEATURE_NAMES, COMMA_TREES, SUBSAMPLE, SEED)
        model["comma"] = _model_dict(comma)
    model = {
        "about": "cleaners.punctuation stray-semicolon model, fitted by evals/fit_semicolons.py",
        "decision_out_of_fold": decision,  # the PunctuationConfig defaults
        **{k: v for k, v in model.items() if k in ("stray", "page", "comma")},
    }
    MODEL_PATH.write_text(json.dumps(model, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {MODEL_PATH}; PunctuationConfig defaults: {decision}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

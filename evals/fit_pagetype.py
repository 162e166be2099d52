"""Fit and evaluate the page-type model (``cleaners/pagetype.json``, issue 14).

Data: WCXB dev (``../shared/eval/wcxb-dev``: 793 articles and 40 pages of each of listing,
collection, product, service, forum, documentation); AEB dev (91 news articles) is never fitted
on, only counted. Features are ``cleaners.pagetype.page_features`` of the tree
``trafilatura.utils.load_html`` makes (what ``cleaners.extract.extract_html`` parses), with the
gold URL; they are cached under ``../cache/pagetype`` keyed by the source of cleaners/pagetype.py.

The model is a multinomial logistic regression (L2, L-BFGS) over standardised features: the fixed
numeric ones plus the name tokens (``cls:``, ``url:``, ``ld:``, ``meta:``, ``og:``) seen on at least
``min_sites`` sites of the training pages. The reject threshold on P(article) is chosen out of
fold: the highest one that rejects at most ``max_article_loss`` of the training articles when each
is scored by a model fitted without its site fold.

Held out by site (``evals.extract.site_fold``, 5 folds): for each fold k, vocabulary, model and
threshold are chosen on the other four folds alone (the threshold by inner cross-validation over
those four), then fold k is scored. The shipped model is fitted on all of WCXB dev with the
threshold from the 5-fold out-of-fold probabilities.

Run: ``python -m evals.fit_pagetype [--write] [--out FILE]`` (``--write`` writes cleaners/pagetype.json).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize
from trafilatura.utils import load_html

from cleaners import pagetype
from cleaners.config import PipelineConfig
from evals import data
from evals.extract import FOLDS, _read_html, aeb_pages, site_fold, site_of, wcxb_pages

TOKEN_PREFIXES = ("cls:", "url:", "ld:", "meta:", "og:")
# Non-article types that must go (the acceptance figure); forum and documentation are reported apart.
TARGET_TYPES = ("listing", "collection", "product", "service")


# (min_sites, l2) tried in turn; the pair rejecting most of the four types out of fold wins (chosen
# inside each outer fold for the held-out figures, on all of WCXB dev for the shipped model)
GRID = ((30, 1000.0), (30, 3000.0), (60, 1000.0))


class FitOptions(NamedTuple):
    l2: float = 1000.0  # penalty on the standardised weights (see _fit_softmax)
    min_sites: int = 30  # a name token needs this many training sites to become a feature
    article_weight: float = 1.0  # weight of an article page; other pages weigh total_articles / total_others
    max_article_loss: float = 0.01  # share of out-of-fold training articles the threshold may reject


class Page(NamedTuple):
    page_id: str
    site: str
    fold: int
    label: str
    features: dict[str, float]
    seconds: float


def _source_key() -> str:
    return hashlib.sha256(Path(pagetype.__file__).read_bytes()).hexdigest()[:16]


def page_rows(set_name: str, cfg: PipelineConfig) -> list[Page]:
    """Features of every page of a dev set (cached per version of cleaners/pagetype.py)."""
    cache = data.cache(f"pagetype/{set_name}-{_source_key()}.json")
    if cache.exists():
        return [Page(*row) for row in json.loads(cache.read_text(encoding="utf-8"))]
    pages = wcxb_pages(data.shared(data.WCXB_DEV)) if set_name == "wcxb" else aeb_pages(data.shared(data.EXTRACT_DEV))
    rows = []
    for page in pages:
        html = _read_html(page.path, cfg)
        tree = load_html(html) if html.strip() else None
        start = time.perf_counter()
        feats = pagetype.page_features(tree, page.url) if tree is not None else {}
        seconds = time.perf_counter() - start
        site = site_of(page.url)
        rows.append(Page(page.page_id, site, site_fold(site), page.page_type or pagetype.ARTICLE, feats, seconds))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([list(r) for r in rows]), encoding="utf-8")
    return rows


class Data(NamedTuple):
    """Every page's features as one matrix over the candidate names (tokens on >= ``min_sites``
    sites of the whole set: a superset of any training subset's vocabulary)."""

    pages: tuple[Page, ...]
    names: tuple[str, ...]
    x: np.ndarray
    site_has: np.ndarray  # sites x names: the site has a page with the name
    site_index: np.ndarray  # per page
    labels: tuple[str, ...]


def make_data(pages: Sequence[Page], min_sites: int) -> Data:
    sites: dict[str, set[str]] = {}
    for p in pages:
        for name in p.features:
            if name.startswith(TOKEN_PREFIXES):
                sites.setdefault(name, set()).add(p.site)
    tokens = sorted(n for n, s in sites.items() if len(s) >= min_sites)
    names = (*pagetype.NUMERIC_FEATURES, *tokens)
    x = pagetype.feature_matrix([p.features for p in pages], names)
    site_ids = sorted({p.site for p in pages})
    site_index = np.asarray([site_ids.index(p.site) for p in pages])
    site_has = np.zeros((len(site_ids), len(names)), dtype=bool)
    np.logical_or.at(site_has, site_index, x != 0)
    return Data(tuple(pages), names, x, site_has, site_index, tuple(p.label for p in pages))


def vocabulary(data: Data, rows: np.ndarray, min_sites: int) -> np.ndarray:
    """Columns used when fitting on ``rows``: every numeric feature, and the name tokens seen on >=
    ``min_sites`` sites of those rows."""
    counts = data.site_has[np.unique(data.site_index[rows])].sum(axis=0)
    numeric = np.arange(len(data.names)) < len(pagetype.NUMERIC_FEATURES)
    return np.nonzero(numeric | (counts >= min_sites))[0]


def _fit_softmax(x: np.ndarray, y: np.ndarray, w: np.ndarray, n_classes: int, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted L2 multinomial logistic regression (x standardised); returns (weights C x F, bias C).
    The loss is the weighted mean log-loss plus ``l2 / 2 / pages`` times the squared weights."""
    n, f = x.shape
    ws = w / w.sum()
    onehot = np.eye(n_classes)[y]
    lam = l2 / n

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        wt = theta[: n_classes * f].reshape(n_classes, f)
        b = theta[n_classes * f :]
        z = x @ wt.T + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -float((ws[:, None] * onehot * logp).sum()) + 0.5 * lam * float((wt**2).sum())
        diff = (np.exp(logp) - onehot) * ws[:, None]
        grad_w = diff.T @ x + lam * wt
        grad_b = diff.sum(axis=0)
        return value, np.concatenate([grad_w.ravel(), grad_b])

    theta0 = np.zeros(n_classes * f + n_classes)
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 300})
    return res.x[: n_classes * f].reshape(n_classes, f), res.x[n_classes * f :]


def fit_model(data: Data, rows: np.ndarray, options: FitOptions) -> pagetype.PagetypeModel:
    cols = vocabulary(data, rows, options.min_sites)
    labels = [data.labels[i] for i in rows]
    classes = tuple(c for c in pagetype.PAGE_TYPES if c in labels)
    x = data.x[np.ix_(rows, cols)]
    y = np.asarray([classes.index(lab) for lab in labels])
    is_article = y == classes.index(pagetype.ARTICLE)
    n_art, n_other = int(is_article.sum()), int((~is_article).sum())
    w = np.where(is_article, options.article_weight, n_art / max(n_other, 1))
    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scale[scale < 1e-9] = 1.0
    weights, bias = _fit_softmax((x - mean) / scale, y, w, len(classes), options.l2)
    return pagetype.PagetypeModel(
        classes,
        tuple(data.names[j] for j in cols),
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(tuple(float(v) for v in row) for row in weights),
        tuple(float(v) for v in bias),
    )


def predict_rows(model: pagetype.PagetypeModel, data: Data, rows: np.ndarray) -> np.ndarray:
    """P(article) of the pages ``rows``."""
    cols = [data.names.index(n) for n in model.features]
    probs = model.probabilities_matrix(data.x[np.ix_(rows, cols)])
    return probs[:, model.classes.index(pagetype.ARTICLE)]


def predict(model: pagetype.PagetypeModel, pages: Sequence[Page]) -> np.ndarray:
    """P(article) per page."""
    if not pages:
        return np.zeros(0)
    probs = model.probabilities_matrix(pagetype.feature_matrix([p.features for p in pages], model.features))
    return probs[:, model.classes.index(pagetype.ARTICLE)]


def folds_of(data: Data) -> np.ndarray:
    return np.asarray([p.fold for p in data.pages])


def out_of_fold(data: Data, rows: np.ndarray, options: FitOptions) -> np.ndarray:
    """P(article) of each of ``rows`` from a model fitted on the other site folds among ``rows``."""
    folds = folds_of(data)[rows]
    out = np.zeros(len(rows))
    for k in np.unique(folds):
        out[folds == k] = predict_rows(fit_model(data, rows[folds != k], options), data, rows[folds == k])
    return out


def choose_threshold(p_article: np.ndarray, labels: Sequence[str], max_loss: float) -> float:
    """The highest threshold rejecting (P < threshold) at most ``max_loss`` of the articles."""
    arts = np.sort(p_article[np.asarray([lab == pagetype.ARTICLE for lab in labels], dtype=bool)])
    k = int(np.floor(max_loss * len(arts)))
    return float(arts[min(k, len(arts) - 1)]) if len(arts) else 0.5


def rates(rejected: np.ndarray, labels: Sequence[str]) -> dict:
    """Rejected share per type and the acceptance figures."""
    by_type: dict[str, dict] = {}
    for kind in pagetype.PAGE_TYPES:
        mask = np.asarray([lab == kind for lab in labels], dtype=bool)
        if mask.any():
            by_type[kind] = {"pages": int(mask.sum()), "rejected": int(rejected[mask].sum()), "share": float(rejected[mask].mean())}
    target = np.asarray([lab in TARGET_TYPES for lab in labels], dtype=bool)
    return {
        "articles_rejected_share": by_type.get(pagetype.ARTICLE, {}).get("share", 0.0),
        "four_types_rejected_share": float(rejected[target].mean()) if target.any() else 0.0,
        "by_type": by_type,
    }


def select(data: Data, rows: np.ndarray, grid: Sequence[FitOptions]) -> tuple[FitOptions, float, dict]:
    """The options of ``grid`` whose out-of-fold threshold (at most ``max_article_loss`` of the
    articles of ``rows``) rejects most of the four target types, with that threshold; by cross-
    validation over the site folds among ``rows`` alone."""
    labels = [data.labels[i] for i in rows]
    target = np.asarray([lab in TARGET_TYPES for lab in labels], dtype=bool)
    best: tuple[float, int] | None = None
    scores = {}
    for i, options in enumerate(grid):
        oof = out_of_fold(data, rows, options)
        threshold = choose_threshold(oof, labels, options.max_article_loss)
        score = float((oof[target] < threshold).mean())
        scores[i] = (threshold, score)
        if best is None or score > best[0]:
            best = (score, i)
    assert best is not None
    chosen = best[1]
    return grid[chosen], scores[chosen][0], {"grid_scores": [s for _, s in scores.values()]}


def held_out_by_site(data: Data, grid: Sequence[FitOptions]) -> dict:
    """Each fold scored by options, vocabulary, model and threshold chosen on the other four folds alone."""
    folds = folds_of(data)
    rejected = np.zeros(len(data.pages), dtype=bool)
    per_fold = []
    for k in range(FOLDS):
        train, test = np.nonzero(folds != k)[0], np.nonzero(folds == k)[0]
        options, threshold, detail = select(data, train, grid)
        rejected[test] = predict_rows(fit_model(data, train, options), data, test) < threshold
        per_fold.append({"fold": k, "pages": len(test), "threshold": threshold, "options": options._asdict(), **detail})
        print(f"fold {k}: {per_fold[-1]}", file=sys.stderr, flush=True)
    result = rates(rejected, data.labels)
    result["folds"] = per_fold
    return result


def aeb_rejected(model: pagetype.PagetypeModel, threshold: float, pages: Sequence[Page]) -> dict:
    p = predict(model, pages)
    return {"pages": len(pages), "rejected": int((p < threshold).sum()), "rejected_ids": [pg.page_id for pg, q in zip(pages, p) if q < threshold]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fit_pagetype", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the shipped model cleaners/pagetype.json")
    parser.add_argument("--out", type=Path, help="write the report (JSON) here")
    parser.add_argument("--grid", default=",".join(f"{m}:{g:g}" for m, g in GRID), help="min_sites:l2 pairs tried (chosen out of fold)")
    parser.add_argument("--skip-held-out", action="store_true", help="only fit the shipped model")
    for name, default in FitOptions()._asdict().items():
        if name not in ("l2", "min_sites"):
            parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    args = parser.parse_args(argv)
    base = {k: getattr(args, k) for k in FitOptions._fields if k not in ("l2", "min_sites")}
    pairs = [item.split(":") for item in args.grid.split(",") if item.strip()]
    grid = [FitOptions(l2=float(l2), min_sites=int(m), **base) for m, l2 in pairs]
    cfg = PipelineConfig()
    data = make_data(page_rows("wcxb", cfg), min(o.min_sites for o in grid))
    aeb = page_rows("aeb", cfg)
    report: dict = {"grid": [o._asdict() for o in grid]}
    if not args.skip_held_out:
        report["held_out_by_site"] = held_out_by_site(data, grid)
    everything = np.arange(len(data.pages))
    options, threshold, detail = select(data, everything, grid)
    model = fit_model(data, everything, options)
    report.update(
        {
            "options": options._asdict(),
            "selection": detail,
            "min_article_probability": threshold,
            "in_sample": rates(predict_rows(model, data, everything) < threshold, data.labels),
            "features": len(model.features),
            "aeb": aeb_rejected(model, threshold, aeb),
            "feature_ms_per_page": 1000 * float(np.mean([p.seconds for p in data.pages + tuple(aeb)])),
        }
    )
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    summary = {k: report[k] for k in ("options", "min_article_probability", "features", "feature_ms_per_page")}
    for key in ("held_out_by_site", "in_sample"):
        if key in report:
            r = report[key]
            summary[key] = {"articles": round(r["articles_rejected_share"], 4), "four": round(r["four_types_rejected_share"], 4),
                            **{t: round(v["share"], 3) for t, v in r["by_type"].items() if t != pagetype.ARTICLE}}
    summary["aeb_rejected"] = report["aeb"]["rejected"]
    print(json.dumps(summary, indent=1))
    if args.write:
        body = {"fitted_by": "evals/fit_pagetype.py", "options": options._asdict(), "min_article_probability": round(threshold, 4),
                "model": pagetype.model_to_dict(model)}
        pagetype.MODEL_PATH.write_text(json.dumps(body) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

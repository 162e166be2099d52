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
from collections import Counter
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


class FitOptions(NamedTuple):
    l2: float = 1.0  # penalty on the standardised weights (per page of weight, see _fit_softmax)
    min_sites: int = 5  # a name token needs this many training sites to become a feature
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


def vocabulary(pages: Sequence[Page], min_sites: int) -> tuple[str, ...]:
    """Numeric features, then the name tokens seen on >= ``min_sites`` sites of ``pages``."""
    sites: dict[str, set[str]] = {}
    for p in pages:
        for name in p.features:
            if name.startswith(TOKEN_PREFIXES):
                sites.setdefault(name, set()).add(p.site)
    tokens = sorted(n for n, s in sites.items() if len(s) >= min_sites)
    return (*pagetype.NUMERIC_FEATURES, *tokens)


def _fit_softmax(x: np.ndarray, y: np.ndarray, w: np.ndarray, n_classes: int, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted L2 multinomial logistic regression (x standardised); returns (weights C x F, bias C)."""
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
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return res.x[: n_classes * f].reshape(n_classes, f), res.x[n_classes * f :]


def fit_model(pages: Sequence[Page], options: FitOptions) -> pagetype.PagetypeModel:
    names = vocabulary(pages, options.min_sites)
    classes = tuple(c for c in pagetype.PAGE_TYPES if any(p.label == c for p in pages))
    x = pagetype.feature_matrix([p.features for p in pages], names)
    y = np.asarray([classes.index(p.label) for p in pages])
    is_article = y == classes.index(pagetype.ARTICLE)
    n_art, n_other = int(is_article.sum()), int((~is_article).sum())
    w = np.where(is_article, options.article_weight, n_art / max(n_other, 1))
    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scale[scale < 1e-9] = 1.0
    weights, bias = _fit_softmax((x - mean) / scale, y, w, len(classes), options.l2)
    return pagetype.PagetypeModel(
        classes,
        names,
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(tuple(float(v) for v in row) for row in weights),
        tuple(float(v) for v in bias),
    )


def predict(model: pagetype.PagetypeModel, pages: Sequence[Page]) -> np.ndarray:
    """P(article) per page."""
    if not pages:
        return np.zeros(0)
    probs = model.probabilities_matrix(pagetype.feature_matrix([p.features for p in pages], model.features))
    return probs[:, model.classes.index(pagetype.ARTICLE)]


def out_of_fold(pages: Sequence[Page], options: FitOptions, folds: Sequence[int]) -> np.ndarray:
    """P(article) of each page from a model fitted without its fold (``folds`` = the folds present)."""
    out = np.zeros(len(pages))
    for k in folds:
        train = [p for p in pages if p.fold != k]
        idx = [i for i, p in enumerate(pages) if p.fold == k]
        out[idx] = predict(fit_model(train, options), [pages[i] for i in idx])
    return out


def choose_threshold(p_article: np.ndarray, labels: Sequence[str], max_loss: float) -> float:
    """The highest threshold rejecting (P < threshold) at most ``max_loss`` of the articles."""
    arts = np.sort(p_article[[lab == pagetype.ARTICLE for lab in labels]])
    k = int(np.floor(max_loss * len(arts)))
    return float(arts[min(k, len(arts) - 1)]) if len(arts) else 0.5


def _rates(p_article: np.ndarray, labels: Sequence[str], threshold: float) -> dict:
    """Rejected share per type and the acceptance figures."""
    rejected = p_article < threshold
    by_type: dict[str, dict] = {}
    for kind in pagetype.PAGE_TYPES:
        mask = np.asarray([lab == kind for lab in labels])
        if mask.any():
            by_type[kind] = {"pages": int(mask.sum()), "rejected": int(rejected[mask].sum()), "share": float(rejected[mask].mean())}
    target = np.asarray([lab in TARGET_TYPES for lab in labels])
    return {
        "articles_rejected_share": by_type.get(pagetype.ARTICLE, {}).get("share", 0.0),
        "four_types_rejected_share": float(rejected[target].mean()) if target.any() else 0.0,
        "by_type": by_type,
    }


def held_out_by_site(pages: Sequence[Page], options: FitOptions) -> dict:
    """Each fold scored by vocabulary, model and threshold chosen on the other four folds alone."""
    p_article = np.zeros(len(pages))
    thresholds = np.zeros(len(pages))
    per_fold = []
    for k in range(FOLDS):
        train = [p for p in pages if p.fold != k]
        idx = [i for i, p in enumerate(pages) if p.fold == k]
        inner = out_of_fold(train, options, [j for j in range(FOLDS) if j != k])
        threshold = choose_threshold(inner, [p.label for p in train], options.max_article_loss)
        p_article[idx] = predict(fit_model(train, options), [pages[i] for i in idx])
        thresholds[idx] = threshold
        per_fold.append({"fold": k, "pages": len(idx), "threshold": threshold})
    labels = [p.label for p in pages]
    rejected_as_threshold = np.where(p_article < thresholds, 0.0, 1.0)  # per-page threshold: compare with 0.5
    result = _rates(rejected_as_threshold, labels, 0.5)
    result["folds"] = per_fold
    return result


def aeb_rejected(model: pagetype.PagetypeModel, threshold: float, pages: Sequence[Page]) -> dict:
    p = predict(model, pages)
    return {"pages": len(pages), "rejected": int((p < threshold).sum()), "rejected_ids": [pg.page_id for pg, q in zip(pages, p) if q < threshold]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.fit_pagetype", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the shipped model cleaners/pagetype.json")
    parser.add_argument("--out", type=Path, help="write the report (JSON) here")
    for name, default in FitOptions()._asdict().items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    args = parser.parse_args(argv)
    options = FitOptions(**{k: getattr(args, k) for k in FitOptions._fields})
    cfg = PipelineConfig()
    wcxb = page_rows("wcxb", cfg)
    aeb = page_rows("aeb", cfg)
    held = held_out_by_site(wcxb, options)
    oof = out_of_fold(wcxb, options, range(FOLDS))
    labels = [p.label for p in wcxb]
    threshold = choose_threshold(oof, labels, options.max_article_loss)
    model = fit_model(wcxb, options)
    report = {
        "options": options._asdict(),
        "held_out_by_site": held,
        "out_of_fold_shipped_threshold": _rates(oof, labels, threshold),
        "in_sample": _rates(predict(model, wcxb), labels, threshold),
        "min_article_probability": threshold,
        "features": len(model.features),
        "aeb": aeb_rejected(model, threshold, aeb),
        "feature_ms_per_page": 1000 * float(np.mean([p.seconds for p in wcxb + aeb])),
    }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    summary = {k: report[k] for k in ("min_article_probability", "features", "feature_ms_per_page")}
    for key in ("held_out_by_site", "in_sample"):
        r = report[key]
        summary[key] = {"articles": round(r["articles_rejected_share"], 4), "four": round(r["four_types_rejected_share"], 4),
                        **{t: round(v["share"], 3) for t, v in r["by_type"].items() if t != pagetype.ARTICLE}}
    summary["aeb_rejected"] = report["aeb"]["rejected"]
    print(json.dumps(summary, indent=1))
    if args.write:
        body = {"fitted_by": "evals/fit_pagetype.py", "options": options._asdict(), "min_article_probability": threshold,
                "model": pagetype.model_to_dict(model)}
        pagetype.MODEL_PATH.write_text(json.dumps(body) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

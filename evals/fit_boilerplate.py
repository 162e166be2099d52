"""Fit the boilerplate line classifier on the text-mode dev set and write its weights.

Pages are read as clean_pages reads them (characters fixed, indentation kept:
``cleaners.document.text_page_chars``), and only the lines the named rules leave are labelled
(``cleaners.boilerplate.rule_kept_lines``: what the classifier scores). Labels come from the
gold bodies: a line is "body" when at least half of its word 4-grams
(all its words, for lines under four words) occur in the page's gold text. The model is an
L2-regularised logistic regression over ``cleaners.boilerplate.features.FEATURE_NAMES`` (standardised), fitted
by Newton's method with numpy; each line is weighted by its word count, normalised per page so
every page counts the same (the metric is a macro average over pages).

Held-out figures are printed before the final fit on all pages: k-fold cross-validation by page
(fold = position of the sorted id modulo k) and the two split halves (fit on even positions,
score odd, and the reverse). All are full-pipeline F1 (rules + classifier + title/date).

Each stage may instead be gradient-boosted trees (``--trees1 N`` / ``--trees2 N``, numpy-only
fitter, shipped as ``TreeModel``). The shipped model is logistic: trees score no better held
out, and it is smaller (the figures: README, "Quality figures").

    python -m evals.fit_boilerplate [DIR] [--folds 5] [--trees2 60] [--write [--out PATH]]

``--write`` writes the fitted model to ``--out`` (default: the shipped weights,
``cleaners.boilerplate.MODEL_PATH``, which ``clean_pages`` reads).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cleaners.boilerplate import MODEL_PATH, LineClassifier, LineModel, TreeModel, rule_kept_lines
from cleaners.boilerplate.features import FEATURE_NAMES, SMOOTHING_NAMES, line_features, smoothing_features
from cleaners.boilerplate.lines import split_lines
from cleaners.chars import fix_characters
from cleaners.config import BoilerplateConfig
from cleaners.document import text_page_chars
from cleaners.metrics import macro_prf, shingles
from cleaners.steps import build_steps
from cleaners.words import WORD_CHARS_RE
from evals import data
from evals.textmode import load_pages, pipeline_body, pipeline_config, score_pages

L2 = 1.0  # ridge strength on the standardised weights (per unit of total sample weight)
MIN_GOLD_SHARE = 0.5  # share of a line's 4-grams found in gold for it to count as body


INNER_FOLDS = 5  # stage 2 learns from stage-1 probabilities of pages stage 1 did not see


class Labelled(NamedTuple):
    lines: list
    feats: np.ndarray  # (lines, FEATURE_NAMES)
    labels: list[int]
    weights: list[float]


def label_lines(text: str, gold: str, cfg: BoilerplateConfig | None = None) -> Labelled:
    """Lines the named rules leave (what the classifier scores), their features, 0/1 labels and
    word-count weights, for one page."""
    lines = rule_kept_lines(split_lines(text), cfg or BoilerplateConfig())
    feats = line_features(lines)
    gold_grams = set(shingles(gold))
    gold_words = set(WORD_CHARS_RE.findall(gold.lower()))
    labels, weights = [], []
    for line in lines:
        grams = shingles(line.text)
        total = sum(grams.values())
        hit = sum(
            v for g, v in grams.items() if g in gold_grams or (len(g) < 4 and all(w in gold_words for w in g))
        )
        labels.append(int(total > 0 and hit / total >= MIN_GOLD_SHARE))
        weights.append(1.0 + len(WORD_CHARS_RE.findall(line.text)))
    page_total = sum(weights) or 1.0
    return Labelled(lines, feats, labels, [w / page_total for w in weights])


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, names: tuple[str, ...]) -> LineModel:
    """Weighted L2 logistic regression by Newton's method on standardised features."""
    mean = np.average(x, axis=0, weights=w)
    scale = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0  # no penalty on the bias
    ws = w / w.sum() * len(w) / 100.0  # keep the scale of the loss independent of page count
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -60, 60)))
        grad = z.T @ (ws * (p - y)) + reg * beta
        hess = (z * (ws * p * (1 - p))[:, None]).T @ z + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return LineModel(
        names,
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in beta[:-1]),
        float(beta[-1]),
    )


def fit_trees(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, names: tuple[str, ...], params: TreeParams
) -> TreeModel:
    """Gradient-boosted trees on the log-loss (second-order, XGBoost-style gains) over
    quantile-binned features; complete trees of ``params.depth`` (a node without a useful split
    sends everything left)."""
    n, n_feat = x.shape
    ws = w / w.mean()
    # candidate thresholds: up to ``params.bins`` quantiles per feature
    cuts = [np.unique(np.quantile(x[:, j], np.linspace(0, 1, params.bins + 1)[1:-1])) for j in range(n_feat)]
    binned = np.stack([np.searchsorted(cuts[j], x[:, j], side="left") for j in range(n_feat)], axis=1)
    p0 = float(np.clip(np.average(y, weights=ws), 1e-4, 1 - 1e-4))
    bias = float(np.log(p0 / (1 - p0)))
    z = np.full(n, bias)
    inner = 2**params.depth - 1
    feats_out, thr_out, leaf_out = [], [], []
    for _ in range(params.trees):
        p = 1.0 / (1.0 + np.exp(-z))
        g = ws * (p - y)
        h = ws * np.maximum(p * (1 - p), 1e-6)
        node = np.zeros(n, dtype=np.int64)
        t_feat = [0] * inner
        t_thr = [float("inf")] * inner
        for k in range(inner):
            rows = np.nonzero(node == k)[0]
            if len(rows) == 0:
                continue
            gk, hk = g[rows], h[rows]
            g_all, h_all = gk.sum(), hk.sum()
            best = (0.0, -1, 0)
            for j in range(n_feat):
                nb = len(cuts[j]) + 1
                if nb < 2:
                    continue
                gb = np.bincount(binned[rows, j], weights=gk, minlength=nb)
                hb = np.bincount(binned[rows, j], weights=hk, minlength=nb)
                gl, hl = np.cumsum(gb)[:-1], np.cumsum(hb)[:-1]
                gr, hr = g_all - gl, h_all - hl
                ok = (hl >= params.min_child_hessian) & (hr >= params.min_child_hessian)
                if not ok.any():
                    continue
                gain = gl**2 / (hl + params.l2) + gr**2 / (hr + params.l2) - g_all**2 / (h_all + params.l2)
                gain[~ok] = -1.0
                b = int(np.argmax(gain))
                if gain[b] > best[0] + params.min_gain:
                    best = (float(gain[b]), j, b)
            if best[1] < 0:
                node[rows] = 2 * k + 1
                continue
            j, b = best[1], best[2]
            t_feat[k], t_thr[k] = j, round(float(cuts[j][b]), 6)
            node[rows] = 2 * k + 1 + (x[rows, j] > t_thr[k])
        leaf_idx = node - inner
        gl = np.bincount(leaf_idx, weights=g, minlength=inner + 1)
        hl = np.bincount(leaf_idx, weights=h, minlength=inner + 1)
        leaf = np.round(-params.rate * gl / (hl + params.l2), 5)
        z = z + leaf[leaf_idx]
        feats_out.append(tuple(t_feat))
        thr_out.append(tuple(t if np.isfinite(t) else 1e300 for t in t_thr))
        leaf_out.append(tuple(float(v) for v in leaf))
    return TreeModel(names, params.depth, tuple(feats_out), tuple(thr_out), tuple(leaf_out), round(bias, 6))


class TreeParams(NamedTuple):
    trees: int = 60
    depth: int = 3
    rate: float = 0.15
    l2: float = 1.0
    bins: int = 32
    min_child_hessian: float = 5.0
    min_gain: float = 0.0


def _fit(rows, l2: float, names: tuple[str, ...], trees: TreeParams | None = None):
    xs, ys, ws = [], [], []
    for feats, labels, weights in rows:
        xs.append(np.asarray(feats, dtype=float).reshape(len(labels), len(names)))
        ys.extend(labels)
        ws.extend(weights)
    x = np.vstack(xs) if xs else np.zeros((0, len(names)))
    if trees is not None:
        return fit_trees(x, np.array(ys, dtype=float), np.array(ws, dtype=float), names, trees)
    return fit_logistic(x, np.array(ys, dtype=float), np.array(ws, dtype=float), l2, names)


def fit_pages(
    labelled: Sequence[Labelled],
    l2: float = L2,
    two_stage: bool = True,
    trees1: TreeParams | None = None,
    trees2: TreeParams | None = None,
) -> LineClassifier:
    """Stage 1 on all ``labelled`` pages; stage 2 on out-of-fold stage-1 probabilities.
    ``trees1``/``trees2``: boosted trees for that stage instead of logistic regression."""
    stage1 = _fit([(p.feats, p.labels, p.weights) for p in labelled], l2, FEATURE_NAMES, trees1)
    if not two_stage:
        return LineClassifier(stage1, None)
    rows = []
    for k in range(INNER_FOLDS):
        inner = _fit(
            [(p.feats, p.labels, p.weights) for i, p in enumerate(labelled) if i % INNER_FOLDS != k],
            l2,
            FEATURE_NAMES,
            trees1,
        )
        for i, p in enumerate(labelled):
            if i % INNER_FOLDS == k:
                probs = inner.probabilities(np.asarray(p.feats, dtype=float))
                rows.append((smoothing_features(p.lines, p.feats, probs), p.labels, p.weights))
    return LineClassifier(stage1, _fit(rows, l2, SMOOTHING_NAMES, trees2))


def cross_validate(pages, labelled, cfg: BoilerplateConfig, folds: int, fit) -> dict:
    """Full-pipeline F1 with every page scored by a model that never saw it."""
    pcfg = pipeline_config(cfg)
    steps = build_steps(pcfg)
    bodies_scored: list[tuple[str, str]] = []
    for k in range(folds):
        train = [lab for i, lab in enumerate(labelled) if i % folds != k]
        model = fit(train)
        for i, (_, text, gold) in enumerate(pages):
            if i % folds == k:
                bodies_scored.append((pipeline_body(text, pcfg, model, steps), gold))
    return macro_prf(bodies_scored).as_dict()


def split_half(pages, labelled, cfg: BoilerplateConfig, fit) -> dict:
    """Fit on one half (even/odd sorted positions), score the other."""
    even_model = fit(labelled[0::2])
    odd_model = fit(labelled[1::2])
    return {
        "fit_even_score_odd": score_pages(pages[1::2], cfg, even_model),
        "fit_odd_score_even": score_pages(pages[0::2], cfg, odd_model),
    }


def _model_dict(model: LineModel | TreeModel) -> dict:
    if isinstance(model, TreeModel):
        return {
            "kind": "trees",
            "features": list(model.features),
            "depth": model.depth,
            "bias": model.bias,
            "feature": [list(t) for t in model.feature],
            "threshold": [list(t) for t in model.threshold],
            "leaf": [list(t) for t in model.leaf],
        }
    return {
        "kind": "logistic",
        "features": list(model.features),
        "mean": [round(v, 6) for v in model.mean],
        "scale": [round(v, 6) for v in model.scale],
        "weights": [round(v, 6) for v in model.weights],
        "bias": round(model.bias, 6),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=data.shared(data.TEXTMODE_DEV))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--min-keep", type=float, default=None, help="override min_keep_probability")
    parser.add_argument("--one-stage", action="store_true", help="no second (smoothing) stage")
    parser.add_argument("--trees1", type=int, default=0, help="boosted trees in stage 1 (0: logistic)")
    parser.add_argument("--trees2", type=int, default=0, help="boosted trees in stage 2 (0: logistic)")
    parser.add_argument("--depth", type=int, default=TreeParams().depth)
    parser.add_argument("--rate", type=float, default=TreeParams().rate)
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation and split halves")
    parser.add_argument("--write", action="store_true", help="write the fitted model to --out")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where --write writes (default: the shipped weights, %(default)s)")
    args = parser.parse_args(argv)
    cfg = BoilerplateConfig()
    if args.min_keep is not None:
        cfg = dataclasses.replace(cfg, min_keep_probability=args.min_keep)
    chars_cfg = text_page_chars(pipeline_config(cfg))
    pages = load_pages(args.directory)
    labelled = [label_lines(fix_characters(t, chars_cfg), g, cfg) for _, t, g in pages]
    t1 = TreeParams(trees=args.trees1, depth=args.depth, rate=args.rate) if args.trees1 else None
    t2 = TreeParams(trees=args.trees2, depth=args.depth, rate=args.rate) if args.trees2 else None

    def fit(labelled_pages: Sequence[Labelled]) -> LineClassifier:
        return fit_pages(labelled_pages, args.l2, not args.one_stage, t1, t2)

    cv = {"f1": float("nan")}
    a = b = {"f1": float("nan")}
    if not args.no_cv:
        cv = cross_validate(pages, labelled, cfg, args.folds, fit)
        halves = split_half(pages, labelled, cfg, fit)
        a, b = halves["fit_even_score_odd"], halves["fit_odd_score_even"]
        print(f"{args.folds}-fold CV      P {cv['precision']:.4f} R {cv['recall']:.4f} F1 {cv['f1']:.4f}")
        print(f"fit even->odd  P {a['precision']:.4f} R {a['recall']:.4f} F1 {a['f1']:.4f}")
        print(f"fit odd->even  P {b['precision']:.4f} R {b['recall']:.4f} F1 {b['f1']:.4f}")
    model = fit(labelled)
    resub = score_pages(pages, cfg, model)
    print(f"fit all (resub) P {resub['precision']:.4f} R {resub['recall']:.4f} F1 {resub['f1']:.4f}")
    if args.write:
        payload = {
            "about": "line classifier for cleaners.boilerplate; refit with python -m evals.fit_boilerplate --write",
            "fit_args": {k: v for k, v in vars(args).items() if k not in ("directory", "write", "out")},
            "stage1": _model_dict(model.stage1),
            "stage2": _model_dict(model.stage2) if model.stage2 else None,
            "pages": len(pages),
            "cv_f1": round(cv["f1"], 4),
            "folds": args.folds,
            "split_half_f1": [round(a["f1"], 4), round(b["f1"], 4)],
        }
        args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

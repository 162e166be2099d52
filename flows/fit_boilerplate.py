"""Fit the boilerplate line classifier on the text-mode dev set and write its weights.

Labels come from the gold bodies: a line is "body" when at least half of its word 4-grams
(all its words, for lines under four words) occur in the page's gold text. The model is an
L2-regularised logistic regression over ``cleaners.lines.FEATURE_NAMES`` (standardised), fitted
by Newton's method with numpy; each line is weighted by its word count, normalised per page so
every page counts the same (the metric is a macro average over pages).

Held-out figures are printed before the final fit on all pages: k-fold cross-validation by page
(fold = position of the sorted id modulo k) and the two split halves (fit on even positions,
score odd, and the reverse). All are full-pipeline F1 (rules + classifier + title/date).

    python -m flows.fit_boilerplate [DIR] [--folds 5] [--write]
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

from cleaners.boilerplate import MODEL_RESOURCE, LineClassifier, LineModel
from cleaners.config import BoilerplateConfig
from cleaners.lines import FEATURE_NAMES, SMOOTHING_NAMES, line_features, smoothing_features, split_lines
from cleaners.metrics import WORD_RE, shingles, macro_prf
from cleaners.chars import fix_characters
from cleaners.steps import build_steps
from flows.eval_textmode import DEFAULT_DIR, load_pages, pipeline_body, pipeline_config, score_pages

L2 = 1.0  # ridge strength on the standardised weights (per unit of total sample weight)
MIN_GOLD_SHARE = 0.5  # share of a line's 4-grams found in gold for it to count as body


INNER_FOLDS = 5  # stage 2 learns from stage-1 probabilities of pages stage 1 did not see


class Labelled(NamedTuple):
    lines: list
    feats: list[tuple[float, ...]]
    labels: list[int]
    weights: list[float]


def label_lines(text: str, gold: str) -> Labelled:
    """Lines, features, 0/1 labels and word-count weights of one page."""
    lines = split_lines(text)
    feats = line_features(lines)
    gold_grams = set(shingles(gold))
    gold_words = set(WORD_RE.findall(gold.lower()))
    labels, weights = [], []
    for line in lines:
        grams = shingles(line.text)
        total = sum(grams.values())
        hit = sum(
            v for g, v in grams.items() if g in gold_grams or (len(g) < 4 and all(w in gold_words for w in g))
        )
        labels.append(int(total > 0 and hit / total >= MIN_GOLD_SHARE))
        weights.append(1.0 + len(WORD_RE.findall(line.text)))
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


def _fit(rows: Sequence[tuple[list, list[int], list[float]]], l2: float, names: tuple[str, ...]) -> LineModel:
    xs, ys, ws = [], [], []
    for feats, labels, weights in rows:
        xs.extend(feats)
        ys.extend(labels)
        ws.extend(weights)
    x = np.array(xs, dtype=float).reshape(len(ys), len(names))
    return fit_logistic(x, np.array(ys, dtype=float), np.array(ws, dtype=float), l2, names)


def fit_pages(labelled: Sequence[Labelled], l2: float = L2, two_stage: bool = True) -> LineClassifier:
    """Stage 1 on all ``labelled`` pages; stage 2 on out-of-fold stage-1 probabilities."""
    stage1 = _fit([(p.feats, p.labels, p.weights) for p in labelled], l2, FEATURE_NAMES)
    if not two_stage:
        return LineClassifier(stage1, None)
    rows = []
    for k in range(INNER_FOLDS):
        inner = _fit(
            [(p.feats, p.labels, p.weights) for i, p in enumerate(labelled) if i % INNER_FOLDS != k],
            l2,
            FEATURE_NAMES,
        )
        for i, p in enumerate(labelled):
            if i % INNER_FOLDS == k:
                probs = [inner.probability(x) for x in p.feats]
                rows.append((smoothing_features(p.lines, p.feats, probs), p.labels, p.weights))
    return LineClassifier(stage1, _fit(rows, l2, SMOOTHING_NAMES))


def cross_validate(pages, labelled, cfg: BoilerplateConfig, folds: int, l2: float, two_stage: bool) -> dict:
    """Full-pipeline F1 with every page scored by a model that never saw it."""
    pcfg = pipeline_config(cfg)
    steps = build_steps(pcfg)
    bodies_scored: list[tuple[str, str]] = []
    for k in range(folds):
        train = [lab for i, lab in enumerate(labelled) if i % folds != k]
        model = fit_pages(train, l2, two_stage)
        for i, (_, text, gold) in enumerate(pages):
            if i % folds == k:
                bodies_scored.append((pipeline_body(text, pcfg, model, steps), gold))
    return macro_prf(bodies_scored).as_dict()


def split_half(pages, labelled, cfg: BoilerplateConfig, l2: float, two_stage: bool) -> dict:
    """Fit on one half (even/odd sorted positions), score the other."""
    even_model = fit_pages(labelled[0::2], l2, two_stage)
    odd_model = fit_pages(labelled[1::2], l2, two_stage)
    return {
        "fit_even_score_odd": score_pages(pages[1::2], cfg, even_model),
        "fit_odd_score_even": score_pages(pages[0::2], cfg, odd_model),
    }


def _model_dict(model: LineModel) -> dict:
    return {
        "features": list(model.features),
        "mean": [round(v, 6) for v in model.mean],
        "scale": [round(v, 6) for v in model.scale],
        "weights": [round(v, 6) for v in model.weights],
        "bias": round(model.bias, 6),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--min-keep", type=float, default=None, help="override min_keep_probability")
    parser.add_argument("--one-stage", action="store_true", help="no second (smoothing) stage")
    parser.add_argument("--write", action="store_true", help=f"write cleaners/{MODEL_RESOURCE}")
    args = parser.parse_args(argv)
    cfg = BoilerplateConfig()
    if args.min_keep is not None:
        cfg = dataclasses.replace(cfg, min_keep_probability=args.min_keep)
    chars_cfg = pipeline_config(cfg).chars
    pages = load_pages(args.directory)
    labelled = [label_lines(fix_characters(t, chars_cfg), g) for _, t, g in pages]
    two = not args.one_stage
    cv = cross_validate(pages, labelled, cfg, args.folds, args.l2, two)
    halves = split_half(pages, labelled, cfg, args.l2, two)
    model = fit_pages(labelled, args.l2, two)
    resub = score_pages(pages, cfg, model)
    a, b = halves["fit_even_score_odd"], halves["fit_odd_score_even"]
    print(f"{args.folds}-fold CV      P {cv['precision']:.4f} R {cv['recall']:.4f} F1 {cv['f1']:.4f}")
    print(f"fit even->odd  P {a['precision']:.4f} R {a['recall']:.4f} F1 {a['f1']:.4f}")
    print(f"fit odd->even  P {b['precision']:.4f} R {b['recall']:.4f} F1 {b['f1']:.4f}")
    print(f"fit all (resub) P {resub['precision']:.4f} R {resub['recall']:.4f} F1 {resub['f1']:.4f}")
    if args.write:
        out = Path(__file__).resolve().parents[1] / "cleaners" / MODEL_RESOURCE
        payload = {
            "about": "logistic line classifier for cleaners.boilerplate; refit with python -m flows.fit_boilerplate --write",
            "stage1": _model_dict(model.stage1),
            "stage2": _model_dict(model.stage2) if model.stage2 else None,
            "l2": args.l2,
            "pages": len(pages),
            "cv_f1": round(cv["f1"], 4),
            "folds": args.folds,
            "split_half_f1": [round(a["f1"], 4), round(b["f1"], 4)],
        }
        out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

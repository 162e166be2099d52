"""Fit the boilerplate line classifier on the text-mode dev sets and write its weights.

Two sets of pages: AEB dev as plain text (``textmode-dev``, 91 pages) and the WCXB dev articles
rendered the same way (inscriptis over the whole page: ``evals.render_text``, which writes them
into the cache when they are missing). Pages are read as clean_pages reads them (characters
fixed, indentation kept: ``cleaners.document.text_page_chars``), and only the lines the named
rules leave are labelled (``cleaners.boilerplate.rule_kept_lines``: what the classifier scores).
Labels come from the gold bodies: a line is "body" when at least half of its word 4-grams (all
its words, for lines under four words) occur in the page's gold text. The model is an
L2-regularised logistic regression over ``cleaners.boilerplate.features.FEATURE_NAMES``
(standardised), fitted by Newton's method with numpy; each line is weighted by its word count,
normalised per page so every page counts the same (the metrics are averages over pages). Stage 2
learns from stage-1 probabilities of pages whose site fold stage 1 did not see.

Held out by site: every page is scored by a model fitted on the pages (of both sets) of the
other four site folds (``evals.extract.site_fold`` of the registered domain), and the
out-of-fold figures are reported per set: word F1 (bag of lower-cased words per page, averaged:
the issue's measure) and word 4-gram macro F1, both through the full pipeline path of a text
page (rules + classifier + title/date + the other fixers: ``evals.textmode.pipeline_body``).
Then the model is fitted on all pages and its in-sample figures are printed, labelled so.

``--train-sets wcxb`` fits on one set's pages only (still site folds), so a choice made on one
set can be checked on the other; ``--neutral a,b`` holds features constant (what dropping them
would do); ``--ablate stage1|stage2`` repeats the held-out run once per feature of that stage held
constant and prints what each costs per set (features.py keeps those that carry across sites).
Each stage may instead be gradient-boosted trees (``--trees1 N`` / ``--trees2 N``, numpy-only
fitter, shipped as ``TreeModel``). The shipped model is logistic in stage 1 and 60 trees of depth 3
in stage 2 (``--trees2 60``): held out by site, that scored above logistic stage 2 on both sets,
and 120 trees of depth 4 below it on WCXB (README, "Quality figures").

    python -m evals.fit_boilerplate --trees2 60 [--aeb DIR] [--wcxb DIR] [--only aeb|wcxb]
        [--train-sets aeb,wcxb] [--neutral F,...] [--ablate stage1|stage2|'a,b;c'] [--no-cv]
        [--write [--out PATH]]

``--write`` writes the model fitted on all pages to ``--out`` (default: the shipped weights,
``cleaners.boilerplate.MODEL_PATH``, which ``clean_pages`` reads), with its held-out figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cleaners.boilerplate import MODEL_PATH, LineClassifier, LineModel, TreeModel, rule_kept_lines
from cleaners.boilerplate.features import FEATURE_NAMES, SMOOTHING_NAMES, line_features, smoothing_features
from cleaners.boilerplate.lines import PageLine, split_lines
from cleaners.chars import fix_characters
from cleaners.config import BoilerplateConfig, PipelineConfig
from cleaners.document import text_page_chars
from cleaners.metrics import shingles
from cleaners.steps import build_steps
from cleaners.words import WORD_CHARS_RE
from evals.extract import FOLDS
from evals.textmode import SETS, SetPage, default_dirs, load_set, pipeline_body, pipeline_config, set_figures

L2 = 1.0  # ridge strength on the standardised weights (per unit of total sample weight)
MIN_GOLD_SHARE = 0.5  # share of a line's 4-grams found in gold for it to count as body
INNER_FOLDS = 5  # stage 2's out-of-fold probabilities: by position when the training pages span one site fold


class Labelled(NamedTuple):
    lines: list[PageLine]
    feats: np.ndarray  # (lines, FEATURE_NAMES)
    labels: list[int]
    weights: list[float]
    fold: int = 0  # the page's site fold


def label_lines(text: str, gold: str, cfg: BoilerplateConfig | None = None, fold: int = 0) -> Labelled:
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
    return Labelled(lines, feats, labels, [w / page_total for w in weights], fold)


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
    x: np.ndarray, y: np.ndarray, w: np.ndarray, names: tuple[str, ...], params: TreeParams, subsample: float = 1.0, seed: int = 0
) -> TreeModel:
    """Gradient-boosted trees on the log-loss (second-order, XGBoost-style gains) over
    quantile-binned features; complete trees of ``params.depth`` (a node without a useful split
    sends everything left). Every feature's histogram of a node comes from one ``bincount``; with
    ``subsample`` < 1 each tree is grown on that random share of the rows (stochastic gradient
    boosting, drawn from ``seed``), as the 100,000s of semicolon rows of ``evals.fit_semicolons`` are."""
    rng = np.random.default_rng(seed)
    n, n_feat = x.shape
    ws = w / w.mean()
    cuts = [np.unique(np.quantile(x[:, j], np.linspace(0, 1, params.bins + 1)[1:-1])) for j in range(n_feat)]
    width = max(len(c) for c in cuts) + 1  # bins per feature, padded to the widest
    binned = np.stack([np.searchsorted(cuts[j], x[:, j], side="left") for j in range(n_feat)], axis=1)
    flat = binned + np.arange(n_feat)[None, :] * width
    valid = np.zeros((n_feat, width - 1), dtype=bool)  # split after bin b exists for feature j
    for j in range(n_feat):
        valid[j, : len(cuts[j])] = True
    p0 = float(np.clip(np.average(y, weights=ws), 1e-4, 1 - 1e-4))
    bias = float(np.log(p0 / (1 - p0)))
    z = np.full(n, bias)
    inner = 2**params.depth - 1
    feats_out, thr_out, leaf_out = [], [], []
    for _ in range(params.trees):
        p = 1.0 / (1.0 + np.exp(-z))
        g = ws * (p - y)
        h = ws * np.maximum(p * (1 - p), 1e-6)
        in_tree = rng.random(n) < subsample if subsample < 1 else np.ones(n, dtype=bool)
        node = np.zeros(n, dtype=np.int64)
        t_feat = [0] * inner
        t_thr = [float("inf")] * inner
        for k in range(inner):
            rows = np.nonzero((node == k) & in_tree)[0]
            if len(rows) == 0:
                continue
            gk, hk = g[rows], h[rows]
            g_all, h_all = gk.sum(), hk.sum()
            fb = flat[rows].ravel()
            gb = np.bincount(fb, weights=np.repeat(gk, n_feat), minlength=n_feat * width).reshape(n_feat, width)
            hb = np.bincount(fb, weights=np.repeat(hk, n_feat), minlength=n_feat * width).reshape(n_feat, width)
            gl, hl = np.cumsum(gb, axis=1)[:, :-1], np.cumsum(hb, axis=1)[:, :-1]
            gr, hr = g_all - gl, h_all - hl
            ok = valid & (hl >= params.min_child_hessian) & (hr >= params.min_child_hessian)
            gain = gl**2 / (hl + params.l2) + gr**2 / (hr + params.l2) - g_all**2 / (h_all + params.l2)
            gain[~ok] = -1.0
            j, b = np.unravel_index(int(np.argmax(gain)), gain.shape)
            at = node == k
            if gain[j, b] <= params.min_gain:
                node[at] = 2 * k + 1
                continue
            t_feat[k], t_thr[k] = int(j), round(float(cuts[j][b]), 6)
            node[at] = 2 * k + 1 + (x[at, j] > t_thr[k])
        leaf_idx = node - inner
        gl_ = np.bincount(leaf_idx[in_tree], weights=g[in_tree], minlength=inner + 1)
        hl_ = np.bincount(leaf_idx[in_tree], weights=h[in_tree], minlength=inner + 1)
        leaf = np.round(-params.rate * gl_ / (hl_ + params.l2), 5)
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


class FitOptions(NamedTuple):
    """How a classifier is fitted: ridge strength, one or two stages, trees per stage, and the
    features held constant (``neutral``: their columns carry no information, so their weights stay 0)."""

    l2: float = L2
    two_stage: bool = True
    trees1: TreeParams | None = None
    trees2: TreeParams | None = None
    neutral: frozenset[str] = frozenset()


def _fit(rows, names: tuple[str, ...], options: FitOptions, trees: TreeParams | None):
    xs, ys, ws = [], [], []
    for feats, labels, weights in rows:
        xs.append(np.asarray(feats, dtype=float).reshape(len(labels), len(names)))
        ys.extend(labels)
        ws.extend(weights)
    x = np.vstack(xs) if xs else np.zeros((0, len(names)))
    held = [k for k, name in enumerate(names) if name in options.neutral]
    if held:
        x = x.copy()
        x[:, held] = 0.0
    if trees is not None:
        return fit_trees(x, np.array(ys, dtype=float), np.array(ws, dtype=float), names, trees)
    return fit_logistic(x, np.array(ys, dtype=float), np.array(ws, dtype=float), options.l2, names)


def _inner_folds(labelled: Sequence[Labelled]) -> list[int]:
    """The fold of each page for stage 2's out-of-fold probabilities: its site fold, or its
    position modulo INNER_FOLDS when all the pages share one site fold."""
    if len({p.fold for p in labelled}) > 1:
        return [p.fold for p in labelled]
    return [i % INNER_FOLDS for i in range(len(labelled))]


DEFAULT_OPTIONS = FitOptions()


def options_from_args(args: Mapping) -> FitOptions:
    """The ``FitOptions`` of this script's arguments (``vars(args)``, or the ``fit_args`` a
    written model records)."""
    depth, rate = args.get("depth", TreeParams().depth), args.get("rate", TreeParams().rate)
    trees1, trees2 = args.get("trees1", 0), args.get("trees2", 0)
    return FitOptions(
        args.get("l2", L2),
        not args.get("one_stage", False),
        TreeParams(trees=trees1, depth=depth, rate=rate) if trees1 else None,
        TreeParams(trees=trees2, depth=depth, rate=rate) if trees2 else None,
        frozenset(n for n in args.get("neutral", "").split(",") if n),
    )


def fit_pages(labelled: Sequence[Labelled], options: FitOptions = DEFAULT_OPTIONS) -> LineClassifier:
    """Stage 1 on all ``labelled`` pages; stage 2 on stage-1 probabilities of each page from a
    stage 1 fitted without its site fold."""
    stage1 = _fit([(p.feats, p.labels, p.weights) for p in labelled], FEATURE_NAMES, options, options.trees1)
    if not options.two_stage:
        return LineClassifier(stage1, None)
    folds = _inner_folds(labelled)
    rows = []
    for k in sorted(set(folds)):
        inner = _fit(
            [(p.feats, p.labels, p.weights) for p, f in zip(labelled, folds) if f != k], FEATURE_NAMES, options, options.trees1
        )
        for p, f in zip(labelled, folds):
            if f == k:
                probs = inner.probabilities(np.asarray(p.feats, dtype=float))
                rows.append((smoothing_features(p.lines, p.feats, probs), p.labels, p.weights))
    return LineClassifier(stage1, _fit(rows, SMOOTHING_NAMES, options, options.trees2))


class DevSets(NamedTuple):
    """The pages of each dev set and their labelled lines, in the same order."""

    pages: Mapping[str, Sequence[SetPage]]
    labelled: Mapping[str, Sequence[Labelled]]


def load_dev_sets(dirs: Mapping[str, Path], cfg: AnyConfig) -> DevSets:
    """Each set's pages (``evals.textmode.load_set``) and their labelled lines."""
    pcfg = pipeline_config(cfg)
    chars_cfg = text_page_chars(pcfg)
    pages = {name: load_set(directory) for name, directory in dirs.items()}
    labelled = {
        name: [label_lines(fix_characters(p.text, chars_cfg), p.gold, pcfg.boilerplate, p.fold) for p in set_pages]
        for name, set_pages in pages.items()
    }
    return DevSets(pages, labelled)


Fit = Callable[[Sequence[Labelled]], LineClassifier]
AnyConfig = PipelineConfig | BoilerplateConfig  # the whole config, or its boilerplate section (the rest default)


def held_out_by_site(dev: DevSets, cfg: AnyConfig, fit: Fit, train_sets: Sequence[str] | None = None) -> dict:
    """Per set, the figures of every page scored by a model fitted on the other site folds'
    pages (of ``train_sets``, default all), pooled over the folds, and the word F1 of each fold."""
    pcfg = pipeline_config(cfg)
    steps = build_steps(pcfg)
    train_sets = list(train_sets or dev.pages)
    bodies: dict[str, dict[str, str]] = {name: {} for name in dev.pages}
    for k in range(FOLDS):
        train = [lab for name in train_sets for lab in dev.labelled[name] if lab.fold != k]
        model = fit(train)
        for name, set_pages in dev.pages.items():
            for page in set_pages:
                if page.fold == k:
                    bodies[name][page.page_id] = pipeline_body(page.text, pcfg, model, steps)
    out = {}
    for name, set_pages in dev.pages.items():
        figures = set_figures([bodies[name][p.page_id] for p in set_pages], [p.gold for p in set_pages])
        figures["sites"] = len({p.site for p in set_pages})
        figures["fold_word_f1"] = [
            set_figures([bodies[name][p.page_id] for p in set_pages if p.fold == k], [p.gold for p in set_pages if p.fold == k])[
                "word_f1"
            ]
            for k in range(FOLDS)
        ]
        figures["trained_on"] = train_sets
        out[name] = figures
    return out


def in_sample(dev: DevSets, cfg: AnyConfig, model: LineClassifier) -> dict:
    """Per set, the figures of ``model`` on the pages it was fitted on."""
    pcfg = pipeline_config(cfg)
    steps = build_steps(pcfg)
    return {
        name: set_figures([pipeline_body(p.text, pcfg, model, steps) for p in set_pages], [p.gold for p in set_pages])
        for name, set_pages in dev.pages.items()
    }


def _line(label: str, figures: Mapping[str, dict]) -> str:
    cells = [f"{name} word F1 {f['word_f1']:.4f} 4-gram F1 {f['ngram4']['f1']:.4f}" for name, f in figures.items()]
    return f"{label:<22} " + "  |  ".join(cells)


def _ablation_groups(spec: str, neutral: frozenset[str]) -> list[frozenset[str]]:
    """``stage1``/``stage2``: each feature of that stage alone; else ``a,b;c``: the groups {a, b} and {c}."""
    if spec in ("stage1", "stage2"):
        names = FEATURE_NAMES if spec == "stage1" else SMOOTHING_NAMES
        return [frozenset([n]) for n in names if n not in neutral]
    return [frozenset(n for n in group.split(",") if n) for group in spec.split(";") if group]


def ablate(
    dev: DevSets, cfg: BoilerplateConfig, options: FitOptions, groups: Sequence[frozenset[str]], train_sets: Sequence[str] | None
) -> dict:
    """Held-out-by-site figures with each group of features held constant in turn (besides
    ``options.neutral``), against the run with none of them held."""

    def run(neutral: frozenset[str]) -> dict:
        opts = options._replace(neutral=neutral)
        return held_out_by_site(dev, cfg, lambda labelled: fit_pages(labelled, opts), train_sets)

    base = run(options.neutral)
    print(_line("held out (all)", base), flush=True)
    out = {"all": base}
    for group in groups:
        figures = run(options.neutral | group)
        delta = " ".join(f"{s} {figures[s]['word_f1'] - base[s]['word_f1']:+.4f}" for s in figures)
        label = ",".join(sorted(group))
        print(_line(f"without {label}", figures) + f"   delta word F1 {delta}", flush=True)
        out[label] = figures
    return out


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
    parser.add_argument("--aeb", type=Path, default=None, help="AEB dev as text (default: textmode-dev)")
    parser.add_argument("--wcxb", type=Path, default=None, help="WCXB dev articles as text (default: rendered into the cache)")
    parser.add_argument("--only", choices=SETS, default=None, help="load one set only (the other is neither fitted nor scored)")
    parser.add_argument("--train-sets", default=",".join(SETS), help="sets whose pages the held-out models are fitted on")
    parser.add_argument("--l2", type=float, default=L2)
    parser.add_argument("--min-keep", type=float, default=None, help="override min_keep_probability")
    parser.add_argument("--one-stage", action="store_true", help="no second (smoothing) stage")
    parser.add_argument("--trees1", type=int, default=0, help="boosted trees in stage 1 (0: logistic)")
    parser.add_argument("--trees2", type=int, default=0, help="boosted trees in stage 2 (0: logistic)")
    parser.add_argument("--depth", type=int, default=TreeParams().depth)
    parser.add_argument("--rate", type=float, default=TreeParams().rate)
    parser.add_argument("--neutral", default="", help="comma-separated features held constant")
    parser.add_argument(
        "--ablate", default=None, help="held-out cost of each feature of stage1 or stage2, or of groups: 'a,b;c' (a and b together, then c)"
    )
    parser.add_argument("--no-cv", action="store_true", help="skip the held-out-by-site run")
    parser.add_argument("--write", action="store_true", help="write the model fitted on all pages to --out")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where --write writes (default: the shipped weights, %(default)s)")
    args = parser.parse_args(argv)
    cfg = BoilerplateConfig()
    if args.min_keep is not None:
        cfg = dataclasses.replace(cfg, min_keep_probability=args.min_keep)
    neutral = frozenset(n for n in args.neutral.split(",") if n)
    groups = _ablation_groups(args.ablate, neutral) if args.ablate else []
    unknown = (neutral | {n for g in groups for n in g}) - set(FEATURE_NAMES) - set(SMOOTHING_NAMES)
    if unknown:
        parser.error(f"unknown features: {sorted(unknown)}")
    options = options_from_args(vars(args))
    dirs = {name: getattr(args, name) or default_dirs(name)[name] for name in ([args.only] if args.only else SETS)}
    train_sets = [s for s in args.train_sets.split(",") if s in dirs]
    dev = load_dev_sets(dirs, cfg)

    def fit(labelled: Sequence[Labelled]) -> LineClassifier:
        return fit_pages(labelled, options)

    if args.ablate:
        ablate(dev, cfg, options, groups, train_sets)
        return 0
    held_out: dict = {}
    if not args.no_cv:
        held_out = held_out_by_site(dev, cfg, fit, train_sets)
        print(_line(f"held out by site (fit on {'+'.join(train_sets)})", held_out))
        for name, f in held_out.items():
            print(f"  {name}: {f['pages']} pages, {f['sites']} sites; word F1 per site fold " + " ".join(f"{v:.4f}" for v in f["fold_word_f1"]))
    model = fit([lab for name in train_sets for lab in dev.labelled[name]])
    print(_line("in sample (fit on all)", in_sample(dev, cfg, model)))
    if args.write:
        payload = {
            "about": "line classifier for cleaners.boilerplate; refit with python -m evals.fit_boilerplate --write",
            "fit_args": {k: v for k, v in vars(args).items() if k not in ("aeb", "wcxb", "write", "out", "ablate")},
            "stage1": _model_dict(model.stage1),
            "stage2": _model_dict(model.stage2) if model.stage2 else None,
            "pages": {name: len(dev.pages[name]) for name in train_sets},
            "folds": FOLDS,
            "held_out_by_site": {
                name: {"word_f1": round(f["word_f1"], 4), "ngram4_f1": round(f["ngram4"]["f1"], 4)} for name, f in held_out.items()
            },
        }
        args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

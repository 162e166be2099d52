"""Fit the body judge's settings (``cleaners.extract.choose_body``) on AEB and WCXB dev (issue 14).

1. ``candidates``: every article page's candidate bodies, computed once and cached as JSON under
   ``<cache>/select/<set>.json`` ({page id: site, fold, visible chars, the first / recall / jusText
   texts, their lengths and word F1 against gold once finished as the pipeline finishes the chosen
   body, seconds per pass and for ``trafilatura.extract``}),
   with the shipping ``ExtractConfig`` otherwise (delete the cache when extraction changes).
2. ``fit``: a grid search over the six settings maximizing the smaller of the two sets' mean word
   F1 gains over ``trafilatura.extract`` (each set weighs the same whatever its size, and the issue
   asks to beat it on both); ties go to the cheaper setting (fewer extra passes).
3. ``main`` writes ``evals/select_fit.json``: the settings fitted on all pages (the shipped
   defaults), per site fold k the settings fitted without fold k of either set (``evals.extract``
   scores fold k with them: a real out-of-fold figure), and the cross-set check (fit on one set,
   score the other), with the pass counts and seconds per pass under the fitted settings.

Run: ``python -m evals.select_fit [--refresh]``.

Measured with ``newsclean eval extract --set all`` (issue 14, shipped settings 0.8 / 0.8 / 1.2 /
0.3 / 5000 / 2.5), word F1 newsclean vs trafilatura.extract: AEB in sample 0.9759 vs 0.9650, held
out by site 0.9759 (+0.0109, CI95 -0.0005..+0.0266); WCXB articles in sample 0.9461 vs 0.9369, held
out 0.9436 (+0.0067, CI95 +0.0008..+0.0126). Cross-set: fit on AEB scores WCXB 0.9346 (-0.0023);
fit on WCXB scores AEB 0.9727 (+0.0076). Time 1.9-2.0x trafilatura.extract (recall pass on 67-82%).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import trafilatura

from cleaners import residual
from cleaners.config import PipelineConfig
from cleaners.errors import ExtractError
from cleaners.extract import finish_body, justext_text, page_language, parse_page, trafilatura_text, visible_chars
from cleaners.metadata import page_metadata
from cleaners.steps import Stats, Step, apply_steps, build_steps
from evals import data
from evals.extract import FOLDS, JUDGE_SETTINGS, SELECT_FIT_FILE, GoldPage, _read_html, aeb_pages, site_fold, site_of, wcxb_pages, word_f1

FIT_FILE = SELECT_FIT_FILE
CACHE_DIR = data.CACHE / "select"
SETTINGS = JUDGE_SETTINGS
GRID: dict[str, tuple[float, ...]] = {
    "recall_trigger": (0.2, 0.4, 0.6, 0.8, 1.0),
    "recall_wins_below": (0.2, 0.4, 0.6, 0.8, 1.0),
    "recall_wins_ratio": (1.0, 1.1, 1.2, 1.3, 1.5, 2.0),
    "justext_trigger": (0.0, 0.1, 0.2, 0.3, 0.4),
    "justext_max_chars": (0, 2000, 5000, 10000, 10**9),
    "justext_wins_ratio": (2.0, 2.5, 3.0, 4.0),
}
READERS = {"aeb": (aeb_pages, data.EXTRACT_DEV), "wcxb": (wcxb_pages, data.WCXB_DEV)}


def page_candidates(page: GoldPage, cfg: PipelineConfig, steps: list[Step]) -> dict:
    """One page's candidates as ``choose_body`` would see them (every pass run, timed), each text
    also finished as the pipeline finishes the chosen one (``finish_body``, residual lines, fixers)
    and scored against gold."""
    html = _read_html(page.path, cfg)
    site = site_of(page.url)
    row: dict = {"site": site, "fold": site_fold(site), "visible": 0}
    start = time.perf_counter()
    baseline = trafilatura.extract(html, include_comments=False) or ""
    row["seconds_trafilatura"] = time.perf_counter() - start
    row["f1_trafilatura"] = word_f1(baseline, page.gold)
    texts = {"first": "", "recall": "", "justext": ""}
    start = time.perf_counter()
    try:
        tree = parse_page(html)
    except ExtractError:
        tree = None
    row["seconds_parse"] = time.perf_counter() - start
    title = None
    if tree is not None:
        ex = cfg.extract
        language = page_language(tree)
        title = page_metadata(tree, page.url)[0].title
        start = time.perf_counter()
        row["visible"] = visible_chars(tree)
        row["seconds_visible"] = time.perf_counter() - start
        passes = {
            "first": lambda: trafilatura_text(tree, ex, page.url, fast=ex.fast, precision=ex.favor_precision, recall=ex.favor_recall),
            "recall": lambda: trafilatura_text(tree, ex, page.url, fast=False, precision=False, recall=True),
            "justext": lambda: justext_text(tree, language),
        }
        for name, fn in passes.items():
            start = time.perf_counter()
            texts[name] = fn()
            row[f"seconds_{name}"] = time.perf_counter() - start
    for name, text in texts.items():
        body = residual.strip_residual(finish_body(text, title, cfg.extract), cfg.boilerplate)
        body = apply_steps(body, steps, Stats())[0]
        row[f"chars_{name}"] = len(text)
        row[f"f1_{name}"] = word_f1(body, page.gold)
        row[f"f1_raw_{name}"] = word_f1(text, page.gold)
        row[f"text_{name}"] = text
    return row


def candidates(set_name: str, refresh: bool = False, root: Path | None = None) -> dict[str, dict]:
    """{page id: candidates} of a set's article pages, from the cache when there is one."""
    path = CACHE_DIR / f"{set_name}.json"
    if path.exists() and not refresh:
        return json.loads(path.read_text(encoding="utf-8"))
    reader, default_root = READERS[set_name]
    cfg = PipelineConfig()
    steps = build_steps(cfg)
    pages = [p for p in reader(root or data.shared(default_root)) if p.page_type == "article"]
    rows = {}
    for i, page in enumerate(pages):
        rows[page.page_id] = page_candidates(page, cfg, steps)
        if i % 100 == 0:
            print(f"{set_name}: {i}/{len(pages)}", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows), encoding="utf-8")
    return rows


@dataclasses.dataclass
class Table:
    """A set's candidates as columns (one entry per page)."""

    fold: np.ndarray
    visible: np.ndarray
    chars: dict[str, np.ndarray]
    f1: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]

    @classmethod
    def of(cls, rows: dict[str, dict]) -> Table:
        vals = list(rows.values())
        col = lambda key: np.array([r.get(key, 0.0) for r in vals], dtype=float)  # noqa: E731
        names = ("first", "recall", "justext")
        return cls(
            fold=col("fold").astype(int),
            visible=col("visible"),
            chars={n: col(f"chars_{n}") for n in names},
            f1={n: col(f"f1_{n}") for n in (*names, "trafilatura")},
            seconds={n: col(f"seconds_{n}") for n in ("parse", "visible", *names, "trafilatura")},
        )

    def subset(self, mask: np.ndarray) -> Table:
        return Table(
            self.fold[mask], self.visible[mask], {k: v[mask] for k, v in self.chars.items()},
            {k: v[mask] for k, v in self.f1.items()}, {k: v[mask] for k, v in self.seconds.items()},
        )


def select(t: Table, s: dict[str, float]) -> dict[str, np.ndarray]:
    """``choose_body``'s decisions for every page under settings ``s`` (the same comparisons as
    ``cleaners.extract.judge_recall`` / ``judge_justext``, on arrays): passes run, winner's F1."""
    first, recall, jt, vis = t.chars["first"], t.chars["recall"], t.chars["justext"], t.visible
    run_recall = first < s["recall_trigger"] * vis
    recall_wins = run_recall & (first < s["recall_wins_below"] * vis) & (recall > s["recall_wins_ratio"] * first)
    best = np.where(recall_wins, recall, first)
    f1 = np.where(recall_wins, t.f1["recall"], t.f1["first"])
    run_jt = (best < s["justext_trigger"] * vis) & (best < s["justext_max_chars"])
    jt_wins = run_jt & (jt > s["justext_wins_ratio"] * best)
    f1 = np.where(jt_wins, t.f1["justext"], f1)
    return {"f1": f1, "run_recall": run_recall, "recall_wins": recall_wins, "run_justext": run_jt, "justext_wins": jt_wins}


def objective(tables: list[Table], s: dict[str, float]) -> tuple[float, float]:
    """(the smallest of the sets' mean word F1 gains over trafilatura, minus the mean share of pages
    running an extra pass: the tie-break). The issue asks to beat trafilatura on every set, so the
    worst set counts; on the site folds this held out better than the mean of the sets' means
    (fold-held-out gain AEB +0.012 / WCXB +0.007 vs +0.007 / +0.006 on the candidates)."""
    gains, extra = [], []
    for t in tables:
        if len(t.fold):
            d = select(t, s)
            gains.append(float(d["f1"].mean() - t.f1["trafilatura"].mean()))
            extra.append(float(d["run_recall"].mean() + d["run_justext"].mean()))
    return (min(gains), -sum(extra) / len(extra)) if gains else (0.0, 0.0)


def fit(tables: list[Table]) -> dict[str, float]:
    """The grid point with the best objective (F1 gain rounded so that cost breaks near-ties)."""
    best_key, best = None, {}
    for values in itertools.product(*(GRID[k] for k in SETTINGS)):
        s = dict(zip(SETTINGS, values))
        gain, cost = objective(tables, s)
        key = (round(gain, 6), cost)
        if best_key is None or key > best_key:
            best_key, best = key, s
    return {k: (int(v) if k == "justext_max_chars" else float(v)) for k, v in best.items()}


def report(t: Table, s: dict[str, float]) -> dict:
    """Mean F1 beside trafilatura's, how often each extra pass runs / wins, seconds per page per pass."""
    d = select(t, s)
    n = max(len(t.fold), 1)
    sec = t.seconds
    judge_seconds = sec["parse"] + sec["visible"] + sec["first"] + d["run_recall"] * sec["recall"] + d["run_justext"] * sec["justext"]
    return {
        "pages": int(len(t.fold)),
        "judge_f1": float(d["f1"].mean()) if len(t.fold) else 0.0,
        "first_pass_f1": float(t.f1["first"].mean()) if len(t.fold) else 0.0,
        "trafilatura_f1": float(t.f1["trafilatura"].mean()) if len(t.fold) else 0.0,
        "recall_runs": float(d["run_recall"].sum() / n),
        "recall_wins": float(d["recall_wins"].sum() / n),
        "justext_runs": float(d["run_justext"].sum() / n),
        "justext_wins": float(d["justext_wins"].sum() / n),
        "seconds_per_page": {
            "first": float(sec["first"].sum() / n),
            "recall": float((d["run_recall"] * sec["recall"]).sum() / n),
            "justext": float((d["run_justext"] * sec["justext"]).sum() / n),
            "parse_and_visible": float((sec["parse"] + sec["visible"]).sum() / n),
            "trafilatura_extract": float(sec["trafilatura"].sum() / n),
        },
        "judge_over_trafilatura_time": float(judge_seconds.sum() / max(sec["trafilatura"].sum(), 1e-9)),
    }


def fit_all(rows: dict[str, dict[str, dict]]) -> dict:
    """The content of ``select_fit.json`` (module docstring)."""
    tables = {name: Table.of(r) for name, r in rows.items()}
    shipped = fit(list(tables.values()))
    folds = {}
    for k in range(FOLDS):
        settings = fit([t.subset(t.fold != k) for t in tables.values()])
        folds[str(k)] = {
            "settings": settings,
            **{name: report(t.subset(t.fold == k), settings) for name, t in tables.items()},
        }
    cross = {}
    for train, t in tables.items():
        settings = fit([t])
        cross[f"fit_{train}"] = {
            "settings": settings,
            **{f"score_{name}": report(other, settings) for name, other in tables.items() if name != train},
        }
    return {
        "objective": "min over sets of the mean word F1 gain over trafilatura.extract on article pages (ties: fewer extra passes)",
        "grid": {k: list(v) for k, v in GRID.items()},
        "settings": shipped,
        "in_sample": {name: report(t, shipped) for name, t in tables.items()},
        "held_out_folds": folds,
        "cross_set": cross,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    refresh = "--refresh" in argv
    rows = {name: candidates(name, refresh) for name in READERS}
    result = fit_all(rows)
    FIT_FILE.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"settings": result["settings"], "in_sample": result["in_sample"]}, indent=2))
    for k, f in result["held_out_folds"].items():
        print(k, f["settings"], {n: round(f[n]["judge_f1"] - f[n]["trafilatura_f1"], 4) for n in READERS})
    for k, c in result["cross_set"].items():
        print(k, c["settings"], {n: (round(v["judge_f1"], 4), round(v["trafilatura_f1"], 4)) for n, v in c.items() if n != "settings"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

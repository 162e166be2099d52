"""Extraction evaluation on a labelled page set (the I/O side of cleaners.extract).

``evaluate_extract(gold_json, pages_dir, cfg)`` scores, in the same run,
  (a) ``trafilatura``: ``trafilatura.extract(html)`` with its default settings, and
  (b) ``newsclean``: the real pipeline path for an HTML page, ``cleaners.document.clean_pages``
      (extraction, residual boilerplate lines, characters, artifacts, punctuation, names), whose
      ``text`` is scored whatever its ``drop_reason``,
against ``ground-truth.json`` ({id: {articleBody, url}}) with pages at ``<pages_dir>/<id>.html.gz`` (or ``.html``).
Scores are macro precision/recall/F1 of word 4-gram bags (cleaners.metrics.macro_prf), for all
pages and for the two halves of the sorted ids (even / odd positions), so a rule fitted on one
half can be checked on the other. Both systems get the same text from ``decode_bytes``.

``evaluate_sets(sets, ...)`` is the per-set report of ``newsclean eval extract`` (issue 14): on AEB
dev (``ground-truth.json``) and WCXB dev (``gold.jsonl.gz``, article pages scored) it gives the word
F1 (``word_f1``: bag of lower-cased ``\\w+`` words per page, averaged over pages) of newsclean's
shipping defaults (``pipeline_text``) and of trafilatura's defaults (``trafilatura_defaults``), the
paired mean difference with a bootstrap 95% interval, the same figures per site fold (site =
registered domain, ``site_fold``), the time ratio, and for WCXB's other page types how many pages
newsclean accepts (no ``drop_reason``). Figures are labelled ``in_sample`` (the shipping defaults,
fitted on all pages of both sets) and ``held_out_by_site``: each page of site fold k is extracted
again with the body judge's settings fitted without fold k of either set (``evals/select_fit.json``,
``evals.select_fit``), so ``held_out_by_site.all`` is an out-of-fold figure; without a fit file the
two are equal.

Run: ``python -m evals.extract [extract-dev dir]`` (default: ``evals.data.EXTRACT_DEV``).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura
from courlan import extract_domain

from cleaners.config import ExtractConfig, PipelineConfig
from cleaners.decode import DecodeError, decode_bytes
from cleaners.document import RawPage, clean_pages
from cleaners.metrics import macro_prf
from cleaners.schema import DROP_REASON, TEXT
from evals import data

SPLITS = ("all", "even", "odd")
FOLDS = 5  # site folds: later tuning fits on four and scores the fifth
BOOTSTRAP = 2000  # paired resamples of pages for the 95% interval of the mean difference
SETS = ("aeb", "wcxb")
# The body judge's settings (cleaners.extract.choose_body), fitted by evals.select_fit into SELECT_FIT_FILE
JUDGE_SETTINGS = (
    "recall_trigger", "recall_wins_below", "recall_wins_ratio", "justext_trigger", "justext_max_chars", "justext_wins_ratio",
)
SELECT_FIT_FILE = Path(__file__).with_name("select_fit.json")
# The metric's words, as the issue defines them: "Don't stop" -> don, t, stop; "---" -> none
WORD_RE = re.compile(r"\w+")


def baseline_text(html: str, url: str | None, cfg: PipelineConfig) -> str:
    """trafilatura alone, default settings."""
    return trafilatura.extract(html, url=url) or ""


def pipeline_text(html: str, url: str | None, cfg: PipelineConfig) -> str:
    """What ``newsclean run`` writes for this page (scored even when a filter drops it)."""
    page = RawPage(source=url or "page", data=html.encode("utf-8"), name="page.html", url=url, format="html")
    frame, _ = clean_pages([page], cfg)
    return frame[TEXT][0] or ""


SYSTEMS: dict[str, Callable[[str, str | None, PipelineConfig], str]] = {
    "trafilatura": baseline_text,
    "newsclean": pipeline_text,
}


def load_pages(gold_json: Path, pages_dir: Path, cfg: PipelineConfig) -> list[tuple[str, str, str | None, str]]:
    """(id, html, url, gold text) for every labelled page whose HTML decodes, sorted by id."""
    gold = json.loads(gold_json.read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(gold):
        path = next((p for p in (pages_dir / f"{page_id}.html.gz", pages_dir / f"{page_id}.html") if p.exists()), None)
        if path is None:
            continue
        try:
            html = decode_bytes(path.read_bytes(), cfg.load).text
        except DecodeError:
            html = ""
        pages.append((page_id, html, gold[page_id].get("url"), gold[page_id].get("articleBody") or ""))
    return pages


def evaluate_extract(
    gold_json: Path, pages_dir: Path, cfg: PipelineConfig | None = None, systems: dict | None = None
) -> dict:
    """{system: {split: PRF dict}}, the page count under ``"pages"``, per-page scores under ``"pages_detail"``."""
    cfg = cfg or PipelineConfig()
    systems = systems or SYSTEMS
    pages = load_pages(gold_json, pages_dir, cfg)
    predictions = {name: [fn(html, url, cfg) for _, html, url, _ in pages] for name, fn in systems.items()}
    golds = [gold for *_, gold in pages]
    result: dict = {"pages": len(pages)}
    for name, preds in predictions.items():
        pairs = list(zip(preds, golds))
        result[name] = {
            "all": macro_prf(pairs).as_dict(),
            "even": macro_prf(pairs[0::2]).as_dict(),
            "odd": macro_prf(pairs[1::2]).as_dict(),
        }
    result["pages_detail"] = {
        page_id: {name: macro_prf([(predictions[name][i], golds[i])]).as_dict() for name in systems}
        for i, (page_id, *_rest) in enumerate(pages)
    }
    return result


def word_f1(predicted: str, gold: str) -> float:
    """F1 of the bags of lower-cased words of one page; 1.0 when both are empty, 0.0 when one is."""
    p, g = Counter(WORD_RE.findall(predicted.lower())), Counter(WORD_RE.findall(gold.lower()))
    n_p, n_g = sum(p.values()), sum(g.values())
    if not n_p or not n_g:
        return 1.0 if n_p == n_g else 0.0
    overlap = sum((p & g).values())
    return 2 * overlap / (n_p + n_g)


def trafilatura_defaults(html: str) -> str:
    """The issue's baseline: trafilatura's defaults without comments (and without the URL)."""
    return trafilatura.extract(html, include_comments=False) or ""


def newsclean_page(html: str, url: str | None, cfg: PipelineConfig) -> tuple[str, bool]:
    """(text, accepted): what ``newsclean run`` writes for the page, and whether no filter dropped it."""
    page = RawPage(source=url or "page", data=html.encode("utf-8"), name="page.html", url=url, format="html")
    frame, _ = clean_pages([page], cfg)
    return frame[TEXT][0] or "", frame[DROP_REASON][0] is None


def site_of(url: str | None) -> str:
    """Registered domain of the page URL (the unit of held-out folds); ``""`` without one."""
    return (extract_domain(url) or "") if url else ""


def site_fold(site: str, folds: int = FOLDS) -> int:
    """Fold of a site: a stable hash, so a site's pages always share one fold across runs and machines."""
    return int(hashlib.sha256(site.encode("utf-8")).hexdigest(), 16) % folds


@dataclass(frozen=True)
class GoldPage:
    page_id: str
    url: str | None
    page_type: str
    gold: str
    path: Path


def aeb_pages(root: Path) -> list[GoldPage]:
    """AEB dev: ``ground-truth.json`` {id: {articleBody, url}}, every page an article."""
    gold = json.loads((root / data.GOLD_FILE).read_text(encoding="utf-8"))
    return _with_html(root / data.PAGES_DIR, ((k, v.get("url"), "article", v.get("articleBody") or "") for k, v in gold.items()))


def wcxb_pages(root: Path) -> list[GoldPage]:
    """WCXB dev: ``gold.jsonl.gz``, one JSON page a line with ``page_type`` and ``main_content``."""
    with gzip.open(root / data.WCXB_GOLD_FILE, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return _with_html(
        root / data.PAGES_DIR, ((r["id"], r.get("url"), r.get("page_type") or "", r.get("main_content") or "") for r in rows)
    )


def _with_html(pages_dir: Path, rows) -> list[GoldPage]:
    out = []
    for page_id, url, page_type, gold in sorted(rows):
        path = next((p for p in (pages_dir / f"{page_id}.html.gz", pages_dir / f"{page_id}.html") if p.exists()), None)
        if path is not None:
            out.append(GoldPage(page_id, url, page_type, gold, path))
    return out


def _read_html(path: Path, cfg: PipelineConfig) -> str:
    try:
        return decode_bytes(path.read_bytes(), cfg.load).text  # inflates .gz within the load caps
    except DecodeError:
        return ""


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def bootstrap_ci(diffs: list[float], resamples: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of paired per-page differences (fixed seed: same run, same interval)."""
    if not diffs:
        return (0.0, 0.0)
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return (means[int(0.025 * resamples)], means[min(resamples - 1, int(0.975 * resamples))])


def _compare(scored: list[dict]) -> dict:
    """newsclean and trafilatura mean word F1 on the same pages, their difference and its interval."""
    ours, theirs = [s["newsclean"] for s in scored], [s["trafilatura"] for s in scored]
    diffs = [a - b for a, b in zip(ours, theirs)]
    low, high = bootstrap_ci(diffs)
    return {
        "pages": len(scored),
        "sites": len({s["site"] for s in scored}),
        "newsclean_f1": _mean(ours),
        "trafilatura_f1": _mean(theirs),
        "diff": _mean(diffs),
        "diff_ci95": [low, high],
    }


def _judge_settings(cfg: ExtractConfig) -> dict[str, float]:
    return {k: getattr(cfg, k) for k in JUDGE_SETTINGS}


def held_out_config(cfg: PipelineConfig, fold: int, fit_file: Path | None = None) -> PipelineConfig:
    """``cfg`` with the body judge's settings fitted without site ``fold`` (``evals/select_fit.json``);
    ``cfg`` itself when there is no fit file."""
    path = fit_file or SELECT_FIT_FILE
    if not path.exists():
        return cfg
    settings = json.loads(path.read_text(encoding="utf-8"))["held_out_folds"][str(fold)]["settings"]
    extract = dataclasses.replace(cfg.extract, **{k: settings[k] for k in JUDGE_SETTINGS})
    return cfg if extract == cfg.extract else dataclasses.replace(cfg, extract=extract)


def evaluate_set(pages: list[GoldPage], cfg: PipelineConfig, fit_file: Path | None = None) -> dict:
    """The report of one dev set (see the module docstring); per-page rows under ``pages_detail``."""
    scored, other_types = [], {}
    times = {"newsclean": 0.0, "trafilatura": 0.0}
    fold_cfgs = [held_out_config(cfg, k, fit_file) for k in range(FOLDS)]
    for page in pages:
        html = _read_html(page.path, cfg)
        start = time.perf_counter()
        text, accepted = newsclean_page(html, page.url, cfg)
        middle = time.perf_counter()
        baseline = trafilatura_defaults(html)
        times["newsclean"] += middle - start
        times["trafilatura"] += time.perf_counter() - middle
        if page.page_type != "article":
            counts = other_types.setdefault(page.page_type, {"pages": 0, "accepted_as_article": 0})
            counts["pages"] += 1
            counts["accepted_as_article"] += accepted
            continue
        site = site_of(page.url)
        fold = site_fold(site)
        # held out: the body judge's settings fitted without this page's site fold (evals.select_fit)
        fold_text = text if fold_cfgs[fold] == cfg else newsclean_page(html, page.url, fold_cfgs[fold])[0]
        scored.append(
            {
                "id": page.page_id,
                "site": site,
                "fold": fold,
                "accepted": accepted,
                "newsclean": word_f1(text, page.gold),
                "trafilatura": word_f1(baseline, page.gold),
                "newsclean_held_out": word_f1(fold_text, page.gold),
            }
        )
    in_sample = _compare(scored)
    folds = [_compare([{**s, "newsclean": s["newsclean_held_out"]} for s in scored if s["fold"] == k]) for k in range(FOLDS)]
    held_out = {
        "all": _compare([{**s, "newsclean": s["newsclean_held_out"]} for s in scored]),
        "folds": folds,
        "mean": {key: _mean([f[key] for f in folds if f["pages"]]) for key in ("newsclean_f1", "trafilatura_f1", "diff")},
        "fitted": [_judge_settings(c.extract) for c in fold_cfgs],
    }
    result: dict = {
        "pages": len(pages),
        "articles": len(scored),
        "articles_rejected_by_newsclean": sum(not s["accepted"] for s in scored),
        "in_sample": in_sample,
        "held_out_by_site": held_out,
        "seconds": times,
        "time_ratio_newsclean_over_trafilatura": times["newsclean"] / times["trafilatura"] if times["trafilatura"] else None,
    }
    if other_types:
        result["non_articles_accepted_as_article"] = dict(sorted(other_types.items()))
    result["pages_detail"] = scored
    return result


def evaluate_sets(roots: dict[str, Path], cfg: PipelineConfig | None = None, fit_file: Path | None = None) -> dict:
    """{set name: report} for ``aeb`` and/or ``wcxb`` roots (each a folder of gold file + ``html/``);
    held-out folds use the judge settings of ``fit_file`` (default ``SELECT_FIT_FILE``)."""
    cfg = cfg or PipelineConfig()
    readers = {"aeb": aeb_pages, "wcxb": wcxb_pages}
    return {
        "metric": "word_f1",
        "folds": FOLDS,
        **{name: evaluate_set(readers[name](root), cfg, fit_file) for name, root in roots.items()},
    }


def format_table(result: dict) -> str:
    lines = [f"{'system':<12} {'split':<5} {'precision':>9} {'recall':>7} {'f1':>7} {'pages':>5}"]
    for name in (k for k in result if k not in ("pages", "pages_detail")):
        for split in SPLITS:
            s = result[name][split]
            lines.append(
                f"{name:<12} {split:<5} {s['precision']:>9.4f} {s['recall']:>7.4f} {s['f1']:>7.4f} {s['pages']:>5}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else data.shared(data.EXTRACT_DEV)
    if not (root / data.GOLD_FILE).exists():
        print(f"no {data.GOLD_FILE} under {root}", file=sys.stderr)
        return 2
    result = evaluate_extract(root / data.GOLD_FILE, root / data.PAGES_DIR)
    print(format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

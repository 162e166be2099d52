"""Metadata evaluation: title, publication date and author of HTML pages against WCXB dev gold.

``evaluate_metadata(roots)`` scores, on WCXB dev article pages (``gold.jsonl.gz``: ``title``,
``publish_date``, ``author``), in the same run:
  (a) ``trafilatura``: ``trafilatura.metadata.extract_metadata(tree, default_url=url)`` with its
      defaults (what ``bare_extraction(..., with_metadata=True)`` returns), and
  (b) ``newsclean``: ``cleaners.metadata`` as ``cleaners.extract.extract_html`` runs it (the
      shipped rules, the author element search only where the cheap sources found none).
Both get the page URL and a tree parsed as ``extract_html`` parses it. Measures:
  - title: normalized exact match (``normalize_text``: NFKC, quotes and dashes unified,
    casefolded, whitespace collapsed) over all pages; coverage (a title given); mean word F1;
  - date: same calendar day as ``publish_date`` (a month-only gold date: same month), over the
    pages gold dates: coverage (a date given), precision (right among given), accuracy (right
    among all dated pages); and how many pages gold leaves undated get a date anyway;
  - author: the set of names (``author_names``: split at ``; , & | and``, a leading "by" and
    credentials such as "PhD" dropped, normalized as titles) equal to gold's, over the pages
    gold names an author: coverage, precision, accuracy, mean name-set F1; and authors given on
    pages without one;
  - CPU seconds of each system's metadata pass (``time.process_time``; the two alternate which
    goes first page by page, so neither gets the other's warm caches more often).
Every figure comes for all pages (``in_sample``) and per site fold (``evals.extract.site_fold``).
The rules of ``cleaners.metadata`` (heading similarity threshold, title / date / author source
order) are chosen from a small grid (``TITLE_GRID``, ``DATE_ORDERS``, ``AUTHOR_ORDERS``): for
each site fold k they are fitted on the other four folds and scored on fold k;
``held_out_by_site`` pools those out-of-fold predictions. ``in_sample`` is the shipped rules
(``cleaners/metadata_rules.json``, fitted on all five folds by ``--write``) scored on all pages.
On AEB dev (no gold metadata) the report counts how many ``published`` dates and titles differ
from trafilatura's and lists them (``pages_detail``) for a spot check.

    newsclean eval metadata [--set wcxb|aeb|all] [--out FILE]
    python -m evals.metadata [--set wcxb|aeb|all] [--write] [--out FILE]

``--write`` ships the rules fitted on all WCXB folds to ``cleaners/metadata_rules.json``.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import logging
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from cleaners import metadata as md
from cleaners.config import PipelineConfig
from cleaners.extract import flatten_wrappers, hit_depth_limit
from evals import data
from evals.extract import FOLDS, GoldPage, _read_html, aeb_pages, site_fold, site_of, wcxb_pages

# Unify what differs between two spellings of one title: curly quotes, primes, dashes.
QUOTES_DASHES = str.maketrans(
    {**{c: "'" for c in "‘’‚‛′`´"}, **{c: '"' for c in "“”„‟″«»"}, **{c: "-" for c in "‐‑‒–—―−"}}
)
WORD_RE = re.compile(r"\w+")  # title words: "Don't stop" -> don, t, stop
# AUTHOR_SPLIT_RE: where a list of names splits. matches ", ", " & ", " and ", "; "; does not match "Anderson"
AUTHOR_SPLIT_RE = re.compile(r"\s*(?:[;,&|/]|\band\b)\s*")
# AUTHOR_PREFIX_RE: a byline's lead-in. matches "by ", "written by: "; does not match "bybee"
AUTHOR_PREFIX_RE = re.compile(r"^(?:(?:written|posted|words|article)\s+)?by:?\s+")
NAME_TOKEN_RE = re.compile(r"[\w'.-]+")  # name tokens: "o'neil", "jean-luc", "jr."
# Credentials and honorifics that gold writes and systems drop (or the reverse): not names.
CREDENTIALS = frozenset(
    "ms rd md phd mph rn bsn fand mba ma ba bsc msc cfa cpa cfp esq dr mr mrs jr sr ii iii lcsw cscs".split()
)
TITLE_GRID = [
    (threshold, order)
    for threshold in (0.5, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8)
    for order in itertools.permutations(md.TITLE_SOURCES)
]
DATE_ORDERS = [
    ("url", "meta", "htmldate"),  # htmldate's own order: trafilatura's date
    ("url", "meta", "byline", "byline_updated", "htmldate"),
    ("url", "meta", "byline", "byline_updated", "time", "htmldate"),
    ("url", "byline", "meta", "byline_updated", "htmldate"),
    ("url", "byline", "meta", "byline_updated", "time", "htmldate"),
]  # a date labelled as an update never goes before a declared publication date (``meta``)
AUTHOR_ORDERS = list(itertools.permutations(md.AUTHOR_SOURCES))
SETS = ("wcxb", "aeb")


def normalize_text(text: str | None) -> str:
    """A title as compared: NFKC, quotes and dashes unified, casefolded, whitespace collapsed."""
    if not text:
        return ""
    return " ".join(unicodedata.normalize("NFKC", text).translate(QUOTES_DASHES).casefold().split())


def title_f1(predicted: str | None, gold: str | None) -> float:
    """F1 of the two titles' word bags (1.0 when both are empty)."""
    p, g = WORD_RE.findall(normalize_text(predicted)), WORD_RE.findall(normalize_text(gold))
    if not p or not g:
        return float(p == g)
    common = sum(min(p.count(w), g.count(w)) for w in set(p))
    return 2 * common / (len(p) + len(g))


def author_names(author: str | None) -> frozenset[str]:
    """The set of names in an author field, each normalized (see the module docstring)."""
    text = AUTHOR_PREFIX_RE.sub("", normalize_text(author))
    names = set()
    for part in AUTHOR_SPLIT_RE.split(text):
        tokens = [t.strip(".") for t in NAME_TOKEN_RE.findall(part)]
        tokens = [t for t in tokens if t and t not in CREDENTIALS]
        if tokens:
            names.add(" ".join(tokens))
    return frozenset(names)


def names_f1(predicted: frozenset[str], gold: frozenset[str]) -> float:
    if not predicted or not gold:
        return float(predicted == gold)
    return 2 * len(predicted & gold) / (len(predicted) + len(gold))


def same_day(predicted: str | None, gold: str) -> bool:
    """``predicted`` (YYYY-MM-DD) is gold's day; gold may give only YYYY-MM (then: its month)."""
    return bool(predicted) and predicted[: len(gold)] == gold


@dataclass(frozen=True)
class Meta:
    title: str | None
    date: str | None
    author: str | None


@dataclass(frozen=True)
class GoldMeta:
    title: str | None
    date: str | None
    author: str | None


def parse_page(html: str) -> HtmlElement | None:
    """The tree ``cleaners.extract.extract_html`` works on (wrappers flattened when too deep)."""
    tree = load_html(html) if html.strip() else None
    if tree is not None and hit_depth_limit(tree):
        tree = load_html(flatten_wrappers(html))
    return tree


def trafilatura_meta(tree: HtmlElement, url: str | None) -> Meta:
    m = extract_metadata(tree, default_url=url)
    return Meta(m.title, m.date, m.author)


def newsclean_meta(tree: HtmlElement, url: str | None, rules: md.MetadataRules | None = None) -> Meta:
    """What ``extract_html`` keeps (title, date, author): the cheap pass, then the author search
    where it is needed."""
    meta, need_author = md.page_metadata(tree, url, rules)
    if need_author:
        md.add_page_author(tree, meta)
    return Meta(meta.title, meta.date, meta.author)


def score_page(pred: Meta, gold: GoldMeta) -> dict:
    """Per-page outcomes; a field gold leaves empty gets ``None`` for its right/wrong."""
    names, gold_names = author_names(pred.author), author_names(gold.author)
    return {
        "title_given": bool(pred.title),
        "title_ok": normalize_text(pred.title) == normalize_text(gold.title) if gold.title else None,
        "title_f1": title_f1(pred.title, gold.title) if gold.title else None,
        "date_given": bool(pred.date),
        "date_ok": same_day(pred.date, gold.date) if gold.date else None,
        "author_given": bool(names),
        "author_ok": names == gold_names if gold_names else None,
        "author_f1": names_f1(names, gold_names) if gold_names else None,
    }


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def summarize(scores: Sequence[dict]) -> dict:
    """Coverage, precision and accuracy of each field over the pages gold gives it."""
    out: dict = {"pages": len(scores)}
    for name in ("title", "date", "author"):
        judged = [s for s in scores if s[f"{name}_ok"] is not None]
        given = [s for s in judged if s[f"{name}_given"]]
        right = sum(bool(s[f"{name}_ok"]) for s in judged)
        field = {
            "gold_pages": len(judged),
            "coverage": len(given) / len(judged) if judged else 0.0,
            "precision": right / len(given) if given else 0.0,
            "accuracy": right / len(judged) if judged else 0.0,
        }
        if name != "date":
            field["mean_f1"] = _mean([s[f"{name}_f1"] for s in judged])
        if name != "title":
            unjudged = [s for s in scores if s[f"{name}_ok"] is None]
            field["pages_without_gold"] = len(unjudged)
            field["given_without_gold"] = sum(s[f"{name}_given"] for s in unjudged)
        out[name] = field
    return out


def wcxb_gold(root: Path) -> dict[str, GoldMeta]:
    with gzip.open(root / data.WCXB_GOLD_FILE, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return {r["id"]: GoldMeta(r.get("title"), r.get("publish_date"), r.get("author")) for r in rows}


@dataclass
class PageRun:
    """One page of a run: its site fold, gold, both systems' metadata and the grid's choices."""

    page_id: str
    url: str | None
    site: str
    fold: int
    gold: GoldMeta
    trafilatura: Meta
    newsclean: Meta
    titles: dict  # (threshold, title_order) -> title
    dates: dict  # (threshold, date_order) -> date
    authors: dict  # (threshold, author_order) -> author


def run_page(page: GoldPage, gold: GoldMeta, cfg: PipelineConfig, times: dict, trafilatura_first: bool) -> PageRun | None:
    tree = parse_page(_read_html(page.path, cfg))  # both systems leave it as it is
    if tree is None:
        return None
    results: dict[str, Meta] = {}
    runs: list[tuple[str, Callable[[], Meta]]] = [
        ("trafilatura", lambda: trafilatura_meta(tree, page.url)),
        ("newsclean", lambda: newsclean_meta(tree, page.url)),
    ]
    for name, run in runs if trafilatura_first else runs[::-1]:
        start = time.process_time()
        results[name] = run()
        times[name] += time.process_time() - start
    sources = md.read_sources(tree, page.url)
    page_author: list[str | None] = []  # the element search, run at most once and last

    def author(rules: md.MetadataRules) -> str | None:
        found = md.choose_author(sources, rules)
        if found is None:
            if not page_author:
                page_author.append(md.page_author(tree))
            return page_author[0]
        return found

    thresholds = sorted({t for t, _ in TITLE_GRID})
    titles = {(t, o): sources.title(md.MetadataRules(t, o), sources.heading(md.MetadataRules(t, o))) for t, o in TITLE_GRID}
    dates = {(t, o): md.choose_date(sources, md.MetadataRules(t, date_order=o)) for t in thresholds for o in DATE_ORDERS}
    authors = {(t, o): author(md.MetadataRules(t, author_order=o)) for t in thresholds for o in AUTHOR_ORDERS}
    site = site_of(page.url)
    return PageRun(page.page_id, page.url, site, site_fold(site), gold, results["trafilatura"], results["newsclean"], titles, dates, authors)


def fit_rules(runs: Sequence[PageRun]) -> md.MetadataRules:
    """The grid's best rules on ``runs``: title (threshold and order) by title accuracy then word
    F1, then with that threshold the date order by date accuracy and the author order by author
    accuracy; ties go to the earlier grid entry (``MetadataRules``' defaults come first, and for
    dates htmldate's own order)."""

    def title_key(key) -> tuple[float, float]:
        scored = [(normalize_text(r.titles[key]) == normalize_text(r.gold.title), title_f1(r.titles[key], r.gold.title)) for r in runs]
        return (sum(ok for ok, _ in scored), sum(f for _, f in scored))

    threshold, title_order = max(TITLE_GRID, key=title_key)
    date_order = max(DATE_ORDERS, key=lambda o: sum(same_day(r.dates[threshold, o], r.gold.date) for r in runs if r.gold.date))
    author_order = max(
        AUTHOR_ORDERS,
        key=lambda o: sum(author_names(r.authors[threshold, o]) == author_names(r.gold.author) for r in runs if r.gold.author),
    )
    return md.MetadataRules(threshold, tuple(title_order), tuple(date_order), tuple(author_order))


def predicted_under(run: PageRun, rules: md.MetadataRules) -> Meta:
    t = rules.min_heading_similarity
    return Meta(run.titles[t, rules.title_order], run.dates[t, rules.date_order], run.authors[t, rules.author_order])


def rules_dict(rules: md.MetadataRules) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(rules).items()}


def evaluate_wcxb(root: Path, cfg: PipelineConfig | None = None) -> dict:
    """The WCXB report (module docstring), the rules fitted on all folds under ``fitted_rules``."""
    cfg = cfg or PipelineConfig()
    gold = wcxb_gold(root)
    times = {"trafilatura": 0.0, "newsclean": 0.0}
    runs = []
    for i, page in enumerate(p for p in wcxb_pages(root) if p.page_type == "article"):
        run = run_page(page, gold[page.page_id], cfg, times, trafilatura_first=i % 2 == 0)
        if run is not None:
            runs.append(run)
    folds = [[r for r in runs if r.fold == k] for k in range(FOLDS)]

    def report(pairs: list[tuple[PageRun, Meta]]) -> dict:
        return summarize([score_page(meta, run.gold) for run, meta in pairs])

    held_out_pairs, fitted = [], []
    for k in range(FOLDS):
        rules = fit_rules([r for r in runs if r.fold != k])
        fitted.append(rules_dict(rules))
        held_out_pairs += [(r, predicted_under(r, rules)) for r in folds[k]]
    held_out_by_fold = [report([(r, m) for r, m in held_out_pairs if r.fold == k]) for k in range(FOLDS)]
    held_out_meta = {r.page_id: m for r, m in held_out_pairs}
    return {
        "pages": len(runs),
        "sites": len({r.site for r in runs}),
        "in_sample": {
            "newsclean": report([(r, r.newsclean) for r in runs]),
            "trafilatura": report([(r, r.trafilatura) for r in runs]),
            "newsclean_by_fold": [report([(r, r.newsclean) for r in f]) for f in folds],
            "trafilatura_by_fold": [report([(r, r.trafilatura) for r in f]) for f in folds],
        },
        "held_out_by_site": {
            "newsclean": report(held_out_pairs),
            "newsclean_by_fold": held_out_by_fold,
            "fitted": fitted,
        },
        "shipped_rules": rules_dict(md.shipped_rules()),
        "fitted_rules": rules_dict(fit_rules(runs)),
        "cpu_seconds": times,
        "cpu_ratio_newsclean_over_trafilatura": times["newsclean"] / times["trafilatura"] if times["trafilatura"] else None,
        "pages_detail": [
            {
                "id": r.page_id,
                "url": r.url,
                "fold": r.fold,
                "gold": asdict(r.gold),
                "newsclean": asdict(r.newsclean),
                "newsclean_held_out": asdict(held_out_meta[r.page_id]),
                "trafilatura": asdict(r.trafilatura),
            }
            for r in runs
        ],
    }


def evaluate_aeb(root: Path, cfg: PipelineConfig | None = None) -> dict:
    """AEB dev has no gold metadata: how many dates and titles differ from trafilatura's, listed."""
    cfg = cfg or PipelineConfig()
    rows = []
    times = {"trafilatura": 0.0, "newsclean": 0.0}
    for i, page in enumerate(aeb_pages(root)):
        html = _read_html(page.path, cfg)
        tree = parse_page(html)
        if tree is None:
            continue
        order = [("trafilatura", trafilatura_meta), ("newsclean", newsclean_meta)]
        got = {}
        for name, fn in order if i % 2 == 0 else order[::-1]:
            start = time.process_time()
            got[name] = fn(tree, page.url)
            times[name] += time.process_time() - start
        rows.append({"id": page.page_id, "url": page.url, "newsclean": asdict(got["newsclean"]), "trafilatura": asdict(got["trafilatura"])})

    def differ(field: str) -> list[dict]:
        return [r for r in rows if r["newsclean"][field] != r["trafilatura"][field]]

    return {
        "pages": len(rows),
        "dates_given": {name: sum(bool(r[name]["date"]) for r in rows) for name in ("newsclean", "trafilatura")},
        "dates_differing": len(differ("date")),
        "titles_differing": len(differ("title")),
        "authors_differing": len(differ("author")),
        "cpu_seconds": times,
        "cpu_ratio_newsclean_over_trafilatura": times["newsclean"] / times["trafilatura"] if times["trafilatura"] else None,
        "pages_detail": [r for r in rows if any(r["newsclean"][f] != r["trafilatura"][f] for f in ("date", "title", "author"))],
    }


def evaluate_metadata(roots: dict[str, Path], cfg: PipelineConfig | None = None) -> dict:
    """{set name: report} for ``wcxb`` and/or ``aeb`` roots."""
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    readers = {"wcxb": evaluate_wcxb, "aeb": evaluate_aeb}
    return {name: readers[name](root, cfg) for name, root in roots.items()}


def write_rules(result: dict, path: Path = md.RULES_PATH) -> None:
    """Ship the rules fitted on all WCXB folds, with the figures that chose and checked them."""
    wcxb = result["wcxb"]
    payload = {
        "about": "rules of cleaners.metadata; refit with python -m evals.metadata --write",
        "fitted_on": f"WCXB dev articles, {wcxb['pages']} pages of {wcxb['sites']} sites, all {FOLDS} site folds",
        "rules": wcxb["fitted_rules"],
        "held_out_by_site": {
            "fitted_per_fold": wcxb["held_out_by_site"]["fitted"],
            "newsclean": wcxb["held_out_by_site"]["newsclean"],
        },
    }
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def _figures(result: dict) -> dict:
    return {k: _figures(v) if isinstance(v, dict) else v for k, v in result.items() if k != "pages_detail"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="set_", default="wcxb", choices=("wcxb", "aeb", "all"))
    parser.add_argument("--write", action="store_true", help=f"write the rules fitted on WCXB dev to {md.RULES_PATH}")
    parser.add_argument("--out", type=Path, help="also write the figures with per-page rows to this JSON file")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    roots = {"wcxb": data.shared(data.WCXB_DEV), "aeb": data.shared(data.EXTRACT_DEV)}
    roots = {k: v for k, v in roots.items() if args.set_ in (k, "all") or (args.write and k == "wcxb")}
    missing = [str(p) for p in roots.values() if not p.exists()]
    if missing:
        print(f"evaluation data not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    result = evaluate_metadata(roots)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    if args.write:
        write_rules(result)
    print(json.dumps(_figures(result), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Text-mode evaluation: boilerplate removal on full plain-text pages against gold bodies, per dev set.

A set's folder holds ``<id>.txt`` (a page rendered to plain text, navigation included) and
``<id>.gold.txt`` (the article body), and optionally ``urls.json`` (``{id: url}``: the page's
site). Two sets: AEB dev as text (``textmode-dev``, whose page ids are ``extract-dev``'s, so its
sites come from ``extract-dev/ground-truth.json``) and the WCXB dev articles rendered the same
way (``evals.render_text``, into the cache). Every page goes through the REAL pipeline path for
text pages, ``cleaners.document.clean_pages([RawPage(..., format="text")], cfg)`` (characters,
boilerplate, the other fixers, filters), and the row's ``text`` is scored against gold whatever
its ``drop_reason`` (filters may drop short pages; the score is about what the cleaner produced),
with two measures (``set_figures``): word F1 (bag of lower-cased ``\\w+`` words per page,
averaged over pages: ``evals.extract.word_f1``, the issue's measure) and the word 4-gram macro
P/R/F1 (``cleaners.metrics.macro_prf``).

``evaluate_sets`` is the report of ``newsclean eval text``: per set, the shipped classifier in
sample (it was fitted on these very pages: ``in_sample``) and held out by site
(``held_out_by_site``: every page scored by a classifier refitted, with the shipped model's fit
settings, on the pages of both sets in the other four site folds: ``evals.fit_boilerplate``).

``pipeline_body(text, cfg, model, steps)`` is the same path with an explicit boilerplate
classifier (``cleaners.document.clean_text_page_with_model``), used by ``evals.fit_boilerplate``
to score models it has just fitted.

    python -m evals.textmode [--aeb DIR] [--wcxb DIR] [--only aeb|wcxb] [--rows] [--rules-only] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from cleaners import schema
from cleaners.boilerplate import LineClassifier
from cleaners.config import BoilerplateConfig, PipelineConfig
from cleaners.document import RawPage, clean_pages, clean_text_page_with_model
from cleaners.metrics import macro_prf, page_precision_recall
from cleaners.steps import Stats, build_steps
from evals import data
from evals.extract import FOLDS, site_fold, site_of, word_f1

SETS = ("aeb", "wcxb")
METRICS = {
    "word_f1": "bag of lower-cased \\w+ words per page, F1, averaged over pages",
    "ngram4": "bags of word 4-grams per page: precision and recall averaged over pages, F1 of the averages",
}
URLS_FILE = "urls.json"  # {id: url} beside a rendered set's pages (evals.render_text writes it)


def load_pages(directory: Path) -> list[tuple[str, str, str]]:
    """``(id, page text, gold body)`` for every ``<id>.gold.txt`` with its page, sorted by id."""
    out = []
    for gold_path in sorted(Path(directory).glob("*.gold.txt")):
        page_id = gold_path.name[: -len(".gold.txt")]
        page_path = gold_path.with_name(f"{page_id}.txt")
        if page_path.exists():
            out.append(
                (page_id, page_path.read_text(encoding="utf-8"), gold_path.read_text(encoding="utf-8"))
            )
    return out


class SetPage(NamedTuple):
    """One page of a text-mode dev set, with the site its fold is drawn from."""

    page_id: str
    text: str
    gold: str
    site: str

    @property
    def fold(self) -> int:
        return site_fold(self.site)


def page_urls(directory: Path) -> dict[str, str]:
    """``{id: url}`` of a set's pages: its ``urls.json`` when it has one, else (``textmode-dev``,
    whose page ids are ``extract-dev``'s) the URLs of ``extract-dev/ground-truth.json``; ``{}``
    when neither is there (every page then counts as one site)."""
    own = Path(directory) / URLS_FILE
    if own.exists():
        return json.loads(own.read_text(encoding="utf-8"))
    gold = data.shared(data.EXTRACT_GOLD)
    if not gold.exists():
        return {}
    return {k: v.get("url") or "" for k, v in json.loads(gold.read_text(encoding="utf-8")).items()}


def load_set(directory: Path) -> list[SetPage]:
    """``load_pages`` with each page's site (``evals.extract.site_of`` of its URL)."""
    urls = page_urls(directory)
    return [SetPage(page_id, text, gold, site_of(urls.get(page_id))) for page_id, text, gold in load_pages(directory)]


def set_figures(bodies: Sequence[str], golds: Sequence[str]) -> dict:
    """The two measures of bodies against gold: ``word_f1`` (the issue's: bag of lower-cased
    ``\\w+`` words per page, averaged over pages) and ``ngram4`` (word 4-gram bags, macro P/R
    and the F1 of the averages)."""
    pairs = list(zip(bodies, golds))
    return {
        "pages": len(pairs),
        "word_f1": sum(word_f1(b, g) for b, g in pairs) / len(pairs) if pairs else 0.0,
        "ngram4": {k: v for k, v in macro_prf(pairs).as_dict().items() if k != "pages"},
    }


def pipeline_config(cfg: PipelineConfig | BoilerplateConfig | None) -> PipelineConfig:
    """A PipelineConfig from either a whole config or just its boilerplate section."""
    if cfg is None:
        return PipelineConfig()
    if isinstance(cfg, BoilerplateConfig):
        return dataclasses.replace(PipelineConfig(), boilerplate=cfg)
    return cfg


def pipeline_body(text: str, cfg: PipelineConfig, model: LineClassifier | None, steps=None) -> str:
    """The body ``clean_pages`` gives a text page (no site repeats), with ``model`` as the
    boilerplate classifier (None: named rules only)."""
    steps = build_steps(cfg) if steps is None else steps
    return clean_text_page_with_model(text, cfg, steps, Stats(), model=model).body


def evaluate_textmode(directory: Path, cfg: PipelineConfig | BoilerplateConfig | None = None) -> dict:
    """``set_figures`` of ``clean_pages`` on one text-mode set, its pages per second, and
    per-page rows (``pages_detail``: id, word F1, 4-gram precision and recall, title, drop_reason)."""
    pcfg = pipeline_config(cfg)
    pages = load_pages(Path(directory))
    raw = [
        RawPage(source=f"{Path(directory).name}/{page_id}.txt", data=text.encode("utf-8"), name="x.txt", format="text")
        for page_id, text, _ in pages
    ]
    t0 = time.perf_counter()
    df, _ = clean_pages(raw, pcfg)
    seconds = time.perf_counter() - t0
    by_source = {row[schema.SOURCE]: row for row in df.iter_rows(named=True)}
    bodies, rows = [], []
    for page, (page_id, _, gold) in zip(raw, pages):
        row = by_source.get(page.source, {})
        body = row.get(schema.TEXT) or ""
        p, r = page_precision_recall(body, gold)
        bodies.append(body)
        rows.append(
            {"id": page_id, "word_f1": word_f1(body, gold), "precision": p, "recall": r, "title": row.get(schema.TITLE), "drop_reason": row.get(schema.DROP_REASON)}
        )
    result = set_figures(bodies, [p[2] for p in pages])
    result["pages_per_second"] = len(pages) / seconds if seconds else 0.0
    result["pages_detail"] = rows
    return result


def fitted_options():
    """The fit settings of the shipped classifier (its ``fit_args``), for refitting it inside site folds."""
    from cleaners.boilerplate import MODEL_PATH
    from evals.fit_boilerplate import options_from_args

    return options_from_args(json.loads(MODEL_PATH.read_text(encoding="utf-8")).get("fit_args", {}))


def evaluate_sets(dirs: Mapping[str, Path], cfg: PipelineConfig | BoilerplateConfig | None = None) -> dict:
    """``{set: report}`` for text-mode dev sets (see the module docstring). Without a classifier
    (``use_classifier`` off) nothing is fitted and ``held_out_by_site`` equals ``in_sample``."""
    from evals import fit_boilerplate

    pcfg = pipeline_config(cfg)
    dev = fit_boilerplate.load_dev_sets(dirs, pcfg)
    fitted = pcfg.boilerplate.enabled and pcfg.boilerplate.use_classifier
    if fitted:
        options = fitted_options()
        held_out = fit_boilerplate.held_out_by_site(dev, pcfg, lambda labelled: fit_boilerplate.fit_pages(labelled, options))
    result: dict = {"metrics": METRICS, "folds": FOLDS, "classifier_refitted_per_fold": fitted}
    for name, directory in dirs.items():
        in_sample = evaluate_textmode(directory, pcfg)
        pages = dev.pages[name]
        result[name] = {
            "pages": len(pages),
            "sites": len({p.site for p in pages}),
            "in_sample": {k: in_sample[k] for k in ("word_f1", "ngram4")},
            "held_out_by_site": {k: held_out[name][k] for k in ("word_f1", "ngram4", "fold_word_f1")}
            if fitted
            else {k: in_sample[k] for k in ("word_f1", "ngram4")},
            "pages_per_second": in_sample["pages_per_second"],
            "pages_detail": in_sample["pages_detail"],
        }
    return result


def default_dirs(only: str | None = None) -> dict[str, Path]:
    """The text-mode dev sets (``only`` one of them): ``textmode-dev``, and the WCXB dev articles
    rendered into the cache when they are not there yet."""
    dirs: dict[str, Path] = {}
    if only in (None, "aeb"):
        dirs["aeb"] = data.shared(data.TEXTMODE_DEV)
    if only in (None, "wcxb"):
        from evals.render_text import ensure_rendered

        dirs["wcxb"] = ensure_rendered("wcxb")
    return dirs


def _fmt(label: str, d: dict) -> str:
    g = d["ngram4"]
    return f"{label:<22} word F1 {d['word_f1']:.4f}  4-gram P {g['precision']:.4f} R {g['recall']:.4f} F1 {g['f1']:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aeb", type=Path, default=None, help="AEB dev as text (default: textmode-dev)")
    parser.add_argument("--wcxb", type=Path, default=None, help="WCXB dev articles as text (default: rendered into the cache)")
    parser.add_argument("--only", choices=SETS, default=None, help="score one set")
    parser.add_argument("--rows", action="store_true", help="print per-page rows, worst first")
    parser.add_argument("--rules-only", action="store_true", help="named rules without the classifier")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    dirs = {name: getattr(args, name) or default_dirs(name)[name] for name in ([args.only] if args.only else SETS)}
    result = evaluate_sets(dirs, BoilerplateConfig(use_classifier=not args.rules_only))
    if args.json:
        print(json.dumps(result, indent=1, default=str))
        return 0
    for name in dirs:
        report = result[name]
        print(f"{name}: {report['pages']} pages, {report['sites']} sites, clean_pages {report['pages_per_second']:.1f} pages/s")
        print(_fmt("  in sample", report["in_sample"]))
        print(_fmt("  held out by site", report["held_out_by_site"]))
        if args.rows:
            for row in sorted(report["pages_detail"], key=lambda r: r["word_f1"]):
                print(f"  {row['word_f1']:.3f} {row['precision']:.3f} {row['recall']:.3f} {row['id'][:16]} {row['drop_reason'] or '-':>10} {row['title']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

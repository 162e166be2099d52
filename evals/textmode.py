"""Text-mode evaluation: boilerplate removal on full plain-text pages against gold bodies.

The benchmark folder holds ``<id>.txt`` (a news page rendered to plain text, navigation
included) and ``<id>.gold.txt`` (the article body). Every page goes through the REAL pipeline
path for text pages, ``cleaners.document.clean_pages([RawPage(..., format="text")], cfg)``
(characters, boilerplate, the other fixers, filters), and the row's ``text`` is scored against
gold with ``cleaners.metrics.macro_prf`` (word 4-gram bags, macro P/R, F1 of the averages),
whatever its ``drop_reason`` (filters may drop short pages; the score is about what the cleaner
produced). Besides the whole set, the split halves (even and odd positions of the sorted ids)
are scored separately, so a figure on one half can be compared with a held-out half.

``pipeline_body(text, cfg, model, steps)`` is the same path with an explicit boilerplate
classifier (``cleaners.document.clean_text_page_with_model``), used by ``evals.fit_boilerplate``
to score models it has just fitted.

    python -m evals.textmode [DIR] [--rows] [--rules-only] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cleaners import schema
from cleaners.boilerplate import LineClassifier
from cleaners.config import BoilerplateConfig, PipelineConfig
from cleaners.document import RawPage, clean_pages, clean_text_page_with_model
from cleaners.metrics import macro_prf, page_precision_recall
from cleaners.steps import Stats, build_steps
from evals import data


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


def _summary(page_ids: Sequence[str], bodies: Sequence[str], golds: Sequence[str], extra: Sequence[dict]) -> dict:
    rows = []
    for page_id, body, gold, more in zip(page_ids, bodies, golds, extra):
        p, r = page_precision_recall(body, gold)
        rows.append({"id": page_id, "precision": p, "recall": r, **more})
    pairs = list(zip(bodies, golds))
    result = macro_prf(pairs).as_dict()
    result["split_even"] = macro_prf(pairs[0::2]).as_dict()
    result["split_odd"] = macro_prf(pairs[1::2]).as_dict()
    result["pages_detail"] = rows
    return result


def score_pages(
    pages: Sequence[tuple[str, str, str]],
    cfg: PipelineConfig | BoilerplateConfig,
    model: LineClassifier | None,
) -> dict:
    """Figures for ``pages`` under an explicit ``model`` (``pipeline_body``): overall, split
    halves, and one row per page."""
    pcfg = pipeline_config(cfg)
    steps = build_steps(pcfg)
    bodies = [pipeline_body(text, pcfg, model, steps) for _, text, _ in pages]
    return _summary([p[0] for p in pages], bodies, [p[2] for p in pages], [{} for _ in pages])


def evaluate_textmode(directory: Path, cfg: PipelineConfig | BoilerplateConfig | None = None) -> dict:
    """precision / recall / f1 / pages of ``clean_pages`` on the text-mode set, split halves,
    pages per second, and per-page rows (``pages_detail``: id, precision, recall, title,
    drop_reason)."""
    pcfg = pipeline_config(cfg)
    pages = load_pages(Path(directory))
    raw = [
        RawPage(source=f"textmode-dev/{page_id}.txt", data=text.encode("utf-8"), name="x.txt", format="text")
        for page_id, text, _ in pages
    ]
    t0 = time.perf_counter()
    df, _ = clean_pages(raw, pcfg)
    seconds = time.perf_counter() - t0
    by_source = {row[schema.SOURCE]: row for row in df.iter_rows(named=True)}
    bodies, extra = [], []
    for page in raw:
        row = by_source.get(page.source, {})
        bodies.append(row.get(schema.TEXT) or "")
        extra.append({"title": row.get(schema.TITLE), "drop_reason": row.get(schema.DROP_REASON)})
    result = _summary([p[0] for p in pages], bodies, [p[2] for p in pages], extra)
    result["pages_per_second"] = len(pages) / seconds if seconds else 0.0
    return result


def _fmt(d: dict) -> str:
    return f"P {d['precision']:.4f}  R {d['recall']:.4f}  F1 {d['f1']:.4f}  pages {d['pages']}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=data.shared(data.TEXTMODE_DEV))
    parser.add_argument("--rows", action="store_true", help="print per-page rows, worst first")
    parser.add_argument("--rules-only", action="store_true", help="named rules without the classifier")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    cfg = BoilerplateConfig(use_classifier=not args.rules_only)
    result = evaluate_textmode(args.directory, cfg)
    if args.json:
        print(json.dumps(result, indent=1, default=str))
        return 0
    print(f"all        {_fmt(result)}")
    print(f"split even {_fmt(result['split_even'])}")
    print(f"split odd  {_fmt(result['split_odd'])}")
    print(f"clean_pages: {result['pages_per_second']:.1f} pages/s")
    if args.rows:
        for row in sorted(result["pages_detail"], key=lambda r: r["precision"] + r["recall"]):
            print(f"{row['precision']:.3f} {row['recall']:.3f} {row['id'][:16]} {row['drop_reason'] or '-':>10} {row['title']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

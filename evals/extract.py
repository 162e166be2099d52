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

Run: ``python -m evals.extract [extract-dev dir]`` (default: ``evals.data.EXTRACT_DEV``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import trafilatura

from cleaners.config import PipelineConfig
from cleaners.decode import DecodeError, decode_bytes
from cleaners.document import RawPage, clean_pages
from cleaners.metrics import macro_prf
from cleaners.schema import TEXT
from evals import data

SPLITS = ("all", "even", "odd")


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

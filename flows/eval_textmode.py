"""Text-mode evaluation: boilerplate removal on full plain-text pages against gold bodies.

The benchmark folder holds ``<id>.txt`` (a news page rendered to plain text, navigation
included) and ``<id>.gold.txt`` (the article body). Each page goes through
``cleaners.chars.fix_characters`` when that module exists, then ``parse_text_page``; its body is
scored against gold with ``cleaners.metrics.macro_prf`` (word 4-gram bags, macro P/R, F1 of the
averages). Besides the whole set, the split halves (even and odd positions of the sorted ids)
are scored separately, so a figure on one half can be compared with a held-out half.

    python -m flows.eval_textmode [DIR] [--rows]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from cleaners.boilerplate import LineClassifier, default_model, parse_text_page_with_model
from cleaners.config import BoilerplateConfig, CharsConfig
from cleaners.metrics import macro_prf, page_precision_recall

DEFAULT_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "textmode-dev"


def load_pages(directory: Path) -> list[tuple[str, str, str]]:
    """``(id, page text, gold body)`` for every ``<id>.gold.txt`` with its page, sorted by id."""
    out = []
    for gold_path in sorted(directory.glob("*.gold.txt")):
        page_id = gold_path.name[: -len(".gold.txt")]
        page_path = directory / f"{page_id}.txt"
        if page_path.exists():
            out.append(
                (page_id, page_path.read_text(encoding="utf-8"), gold_path.read_text(encoding="utf-8"))
            )
    return out


def _char_fixer():
    """``cleaners.chars.fix_characters`` with default config, or None when not built yet."""
    try:
        chars = importlib.import_module("cleaners.chars")
        fix = chars.fix_characters
    except (ImportError, AttributeError):
        return None
    cfg = CharsConfig()
    return lambda text: fix(text, cfg)


def score_pages(
    pages: Sequence[tuple[str, str, str]],
    cfg: BoilerplateConfig,
    model: LineClassifier | None,
    fix_chars=None,
) -> dict:
    """Figures for ``pages`` under ``model``: overall, split halves, and one row per page."""
    rows = []
    pairs = []
    for page_id, text, gold in pages:
        if fix_chars is not None:
            text = fix_chars(text)
        page = parse_text_page_with_model(text, cfg, frozenset(), model)
        p, r = page_precision_recall(page.body, gold)
        rows.append({"id": page_id, "precision": p, "recall": r, "title": page.title})
        pairs.append((page.body, gold))
    result = macro_prf(pairs).as_dict()
    result["split_even"] = macro_prf(pairs[0::2]).as_dict()
    result["split_odd"] = macro_prf(pairs[1::2]).as_dict()
    result["rows"] = rows
    return result


def evaluate_textmode(directory: Path, cfg: BoilerplateConfig) -> dict:
    """precision / recall / f1 / pages on the text-mode set, split halves, and per-page rows."""
    pages = load_pages(Path(directory))
    model = default_model() if cfg.use_classifier else None
    result = score_pages(pages, cfg, model, _char_fixer())
    result["chars_fixed"] = _char_fixer() is not None
    return result


def _fmt(d: dict) -> str:
    return f"P {d['precision']:.4f}  R {d['recall']:.4f}  F1 {d['f1']:.4f}  pages {d['pages']}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
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
    print(f"cleaners.chars applied: {result['chars_fixed']}")
    if args.rows:
        for row in sorted(result["rows"], key=lambda r: r["precision"] + r["recall"]):
            print(f"{row['precision']:.3f} {row['recall']:.3f} {row['id'][:16]} {row['title']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

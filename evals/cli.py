"""``newsclean eval text | extract | metadata | dedup | repairs``: the evaluation commands (``flows.cli`` mounts
this app as ``eval``). Defaults are the sets of ``evals.data``; each command exits 2 naming the
data it needs and cannot find, and prints its figures as JSON (``repairs``: one line a figure).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from evals import data

if TYPE_CHECKING:
    from cleaners.config import PipelineConfig

app = typer.Typer(no_args_is_help=True, help="Measure quality on labelled sets.")

# The defaults, shown by --help: the labelled sets of evals.data
TEXT_PAGES = data.shared(data.TEXTMODE_DEV)
AEB = data.shared(data.EXTRACT_DEV)
WCXB = data.shared(data.WCXB_DEV)
SYNDICATION = data.shared(data.SYNDICATION_DEV)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML config file (tables mirror cleaners/config.py).")]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _config(config: Path | None) -> PipelineConfig:
    """The checked config of ``--config`` (the defaults without one); exit 2 with the reason if it is bad."""
    from cleaners.config import ConfigError, parse_config  # here: ``newsclean`` imports this module at start-up

    try:
        return parse_config(config.read_text(encoding="utf-8") if config else None, {})
    except ConfigError as exc:
        _fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read config file {config}: {exc}")


def _require_eval_data(**paths: Path) -> None:
    """Exit 2 naming every labelled-data path an eval command needs and cannot find."""
    missing = [f"{name} ({path})" for name, path in paths.items() if not Path(path).exists()]
    if missing:
        _fail(f"evaluation data not found: {'; '.join(missing)}")


def _figures(result: dict) -> dict:
    """``result`` without its per-page rows (``pages_detail``), at any depth."""
    return {k: _figures(v) if isinstance(v, dict) else v for k, v in result.items() if k != "pages_detail"}


def _print_figures(result: dict) -> None:
    typer.echo(json.dumps(_figures(result), indent=2, default=str))


@app.command("text")
def eval_text(
    set_: Annotated[str, typer.Option("--set", help="Dev set(s) to score: aeb, wcxb or all.")] = "all",
    aeb: Annotated[Path, typer.Option(help="AEB dev as text: <id>.txt pages with <id>.gold.txt bodies.")] = TEXT_PAGES,
    wcxb: Annotated[
        Path | None, typer.Option(help="WCXB dev articles as text (default: rendered from the WCXB dev set into the cache).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the figures (with per-page rows) to this JSON file.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Word F1 and 4-gram F1 of plain-text page cleaning per dev set, in sample and held out by site."""
    from evals import textmode

    if set_ not in (*textmode.SETS, "all"):
        _fail(f"--set must be one of aeb, wcxb, all (got {set_!r})")
    names = list(textmode.SETS) if set_ == "all" else [set_]
    dirs: dict[str, Path] = {}
    if "aeb" in names:
        dirs["aeb"] = aeb
    if "wcxb" in names:
        if wcxb is None:
            _require_eval_data(**{"wcxb gold": WCXB / data.WCXB_GOLD_FILE})
            wcxb = textmode.default_dirs("wcxb")["wcxb"]
        dirs["wcxb"] = wcxb
    _require_eval_data(**dirs)
    for name, folder in dirs.items():
        if not any(Path(folder).glob("*.gold.txt")):
            _fail(f"evaluation data not found: no <id>.gold.txt pages in {folder} ({name})")
    result = textmode.evaluate_sets(dirs, _config(config))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    _print_figures(result)


@app.command("extract")
def eval_extract(
    set_: Annotated[str, typer.Option("--set", help="Dev set(s) to score: aeb, wcxb or all.")] = "all",
    aeb: Annotated[Path, typer.Option(help="AEB dev folder: ground-truth.json and html/.")] = AEB,
    wcxb: Annotated[Path, typer.Option(help="WCXB dev folder: gold.jsonl.gz and html/.")] = WCXB,
    out: Annotated[Path | None, typer.Option(help="Also write the figures (with per-page rows) to this JSON file.")] = None,
    gold: Annotated[Path | None, typer.Option(help="One ground-truth.json {id: {articleBody, url}} (4-gram report).")] = None,
    pages: Annotated[Path | None, typer.Option(help="Its folder of <id>.html(.gz) pages (with --gold).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Word F1 of HTML extraction per dev set beside trafilatura's defaults, in sample and held out by site.

    With ``--gold``/``--pages`` it scores that one set the older way (word 4-gram macro P/R/F1 beside
    trafilatura with the page URL, halves even/odd).
    """
    from evals import extract

    if gold is not None or pages is not None:
        gold = gold or AEB / data.GOLD_FILE
        pages = pages or gold.parent / data.PAGES_DIR
        _require_eval_data(gold=gold, pages=pages)
        _print_figures(extract.evaluate_extract(gold, pages, _config(config)))
        return
    if set_ not in (*extract.SETS, "all"):
        _fail(f"--set must be one of aeb, wcxb, all (got {set_!r})")
    roots = {"aeb": aeb, "wcxb": wcxb}
    roots = {name: root for name, root in roots.items() if set_ in (name, "all")}
    gold_files = {"aeb": data.GOLD_FILE, "wcxb": data.WCXB_GOLD_FILE}
    _require_eval_data(**{f"{name} gold": root / gold_files[name] for name, root in roots.items()})
    result = extract.evaluate_sets(roots, _config(config))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    _print_figures(result)


@app.command("metadata")
def eval_metadata(
    set_: Annotated[str, typer.Option("--set", help="Dev set(s) to score: wcxb (gold metadata), aeb (differences only) or all.")] = "all",
    aeb: Annotated[Path, typer.Option(help="AEB dev folder: ground-truth.json and html/.")] = AEB,
    wcxb: Annotated[Path, typer.Option(help="WCXB dev folder: gold.jsonl.gz and html/.")] = WCXB,
    out: Annotated[Path | None, typer.Option(help="Also write the figures (with per-page rows) to this JSON file.")] = None,
) -> None:
    """Title, date and author of HTML pages beside trafilatura's metadata, in sample and held out by site."""
    from evals import metadata

    if set_ not in (*metadata.SETS, "all"):
        _fail(f"--set must be one of wcxb, aeb, all (got {set_!r})")
    roots = {name: root for name, root in {"wcxb": wcxb, "aeb": aeb}.items() if set_ in (name, "all")}
    gold_files = {"aeb": data.GOLD_FILE, "wcxb": data.WCXB_GOLD_FILE}
    _require_eval_data(**{f"{name} gold": root / gold_files[name] for name, root in roots.items()})
    result = metadata.evaluate_metadata(roots)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    _print_figures(result)


@app.command("dedup")
def eval_dedup(
    input: Annotated[Path, typer.Option("--input", "-i", help="Labelled Parquet with doc_id, text, cluster_id.")] = SYNDICATION,
    config: ConfigOpt = None,
) -> None:
    """Adjusted Rand index, pairwise precision/recall and docs/s of the dedup stage."""
    from evals import dedup

    _require_eval_data(input=input)
    result = dedup.evaluate_dedup(input, _config(config).dedup)
    typer.echo(json.dumps(result, indent=2, default=str))


@app.command("repairs")
def eval_repairs() -> None:
    """Semicolon and name-typo repair figures (seed precision, false corrections on clean prose)."""
    from evals import repairs

    _require_eval_data(**repairs.required_data())
    sys.exit(repairs.main([]) or 0)

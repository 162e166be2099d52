"""The evaluation package: no Prefect and no flows in it, the text-page path it scores is the one
``clean_pages`` runs, the boilerplate fitter holds out by site and writes its model where ``--out``
says, and WCXB pages are rendered to text the way ``textmode-dev`` was made."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cleaners import boilerplate, pagetype, schema
from cleaners.config import BoilerplateConfig, PipelineConfig
from cleaners.document import RawPage, clean_pages
from evals import fit_boilerplate, fit_pagetype, render_text, textmode
from evals.extract import FOLDS, site_fold
from evals.textmode import pipeline_body

from shared_data import SHARED, need

STORY = (
    "The harbour authority said on Friday that the old lighthouse would be restored next year with money "
    "from the regional government, after engineers found cracks in the tower during a winter survey.\n\n"
    "Repairs will start in March and should take about eight months, the authority added in a statement.\n"
)
MENU = "Home\n  News\n  Sport\n  Weather\nFollow us on Twitter\nSign up for our newsletter\n"
# registered domains in three different site folds (evals.extract.site_fold): 0, 1 and 4
SITES = ("example.org", "example.net", "example.it")


def text_set(folder: Path, sites=SITES, pages_per_site: int = 2) -> Path:
    """A text-mode set: rendered-looking pages (indented menu, story, footer), gold bodies, urls.json."""
    folder.mkdir(parents=True, exist_ok=True)
    urls = {}
    for s, site in enumerate(sites):
        for i in range(pages_per_site):
            page_id = f"{folder.name}{s}{i}"
            (folder / f"{page_id}.txt").write_text(f"  {MENU}\n    Headline {page_id}\n\n    {STORY}\n  * About\n  * Careers\n", encoding="utf-8")
            (folder / f"{page_id}.gold.txt").write_text(STORY, encoding="utf-8")
            urls[page_id] = f"https://www.{site}/story/{page_id}"
    (folder / textmode.URLS_FILE).write_text(json.dumps(urls), encoding="utf-8")
    return folder


def test_evals_and_reports_import_neither_prefect_nor_flows():
    code = (
        "import sys\n"
        "import evals.cli, evals.data, evals.dedup, evals.extract, evals.fit_boilerplate, evals.fit_pagetype, evals.metadata, evals.render_text, evals.repairs, evals.spinners, evals.fit_semicolons, evals.textmode\n"
        "import reports.model, reports.page, reports.queries, reports.summary, reports.svg\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'flows')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("use_classifier", [True, False], ids=["classifier", "rules-only"])
def test_pipeline_body_is_what_clean_pages_writes_for_a_text_page(use_classifier):
    cfg = PipelineConfig(boilerplate=BoilerplateConfig(use_classifier=use_classifier))
    model = boilerplate.default_model() if use_classifier else None
    pages = [f"Lighthouse to be restored\n\n{MENU}{STORY}", f"{MENU}\n{STORY}\nRelated stories\n  Storm damage\n", STORY]
    frame, _ = clean_pages([RawPage(source=f"p{i}.txt", data=t.encode(), name="p.txt", format="text") for i, t in enumerate(pages)], cfg)
    assert [pipeline_body(t, cfg, model) for t in pages] == frame[schema.TEXT].to_list()


def test_fit_boilerplate_writes_the_model_to_out(tmp_path, capsys):
    aeb, wcxb = text_set(tmp_path / "aeb"), text_set(tmp_path / "wcxb")
    shipped = boilerplate.MODEL_PATH.read_bytes()
    out = tmp_path / "fitted" / "model.json"
    out.parent.mkdir()
    assert fit_boilerplate.main(["--aeb", str(aeb), "--wcxb", str(wcxb), "--write", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "held out by site" in printed and "in sample" in printed
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["pages"] == {"aeb": 6, "wcxb": 6} and "out" not in payload["fit_args"]
    assert set(payload["held_out_by_site"]) == {"aeb", "wcxb"}
    assert {"word_f1", "ngram4_f1"} <= set(payload["held_out_by_site"]["wcxb"])
    assert boilerplate.classifier_from_dict(payload).stage2 is not None
    assert boilerplate.MODEL_PATH.read_bytes() == shipped  # the shipped weights are untouched


def test_held_out_by_site_never_scores_a_page_with_a_model_that_saw_its_site(tmp_path):
    dev = fit_boilerplate.load_dev_sets({"aeb": text_set(tmp_path / "aeb"), "wcxb": text_set(tmp_path / "wcxb")}, BoilerplateConfig())
    assert {p.fold for pages in dev.pages.values() for p in pages} == {site_fold(s) for s in SITES}
    seen: list[set[int]] = []

    def fit(labelled):
        seen.append({lab.fold for lab in labelled})
        return fit_boilerplate.fit_pages(labelled)

    result = fit_boilerplate.held_out_by_site(dev, BoilerplateConfig(), fit)
    assert len(seen) == FOLDS and all(k not in folds for k, folds in enumerate(seen))
    assert seen[site_fold("example.org")] == {site_fold("example.net"), site_fold("example.it")}
    for name in ("aeb", "wcxb"):
        assert result[name]["pages"] == 6 and result[name]["sites"] == 3
        assert 0.0 < result[name]["word_f1"] <= 1.0 and 0.0 < result[name]["ngram4"]["f1"] <= 1.0


def test_stage_two_learns_from_probabilities_of_unseen_site_folds(tmp_path):
    dev = fit_boilerplate.load_dev_sets({"aeb": text_set(tmp_path / "aeb")}, BoilerplateConfig())
    labelled = dev.labelled["aeb"]
    assert fit_boilerplate._inner_folds(labelled) == [lab.fold for lab in labelled]
    one_fold = [lab._replace(fold=3) for lab in labelled]
    assert fit_boilerplate._inner_folds(one_fold) == [i % fit_boilerplate.INNER_FOLDS for i in range(len(one_fold))]


def test_a_neutral_feature_gets_no_weight(tmp_path):
    dev = fit_boilerplate.load_dev_sets({"aeb": text_set(tmp_path / "aeb")}, BoilerplateConfig())
    options = fit_boilerplate.FitOptions(neutral=frozenset({"stop_density"}))
    model = fit_boilerplate.fit_pages(dev.labelled["aeb"], options)
    assert model.stage1.weights[model.stage1.features.index("stop_density")] == 0.0
    assert fit_boilerplate.options_from_args({"neutral": "stop_density", "trees2": 5}).trees2.trees == 5


HELD_OUT_WORD_F1_FLOOR = {"aeb": 0.93, "wcxb": 0.925}


def test_the_shipped_model_records_its_fit_and_held_out_figures():
    payload = json.loads(boilerplate.MODEL_PATH.read_text(encoding="utf-8"))
    assert set(payload["pages"]) == set(textmode.SETS) and payload["folds"] == FOLDS
    assert set(payload["held_out_by_site"]) == set(textmode.SETS)
    assert boilerplate.classifier_from_dict(payload) == boilerplate.default_model()
    assert textmode.fitted_options() == fit_boilerplate.options_from_args(payload["fit_args"])
    # the figures it was shipped with (python -m evals.fit_boilerplate --trees2 60 --write)
    assert payload["held_out_by_site"]["aeb"]["word_f1"] >= HELD_OUT_WORD_F1_FLOOR["aeb"]
    assert payload["held_out_by_site"]["wcxb"]["word_f1"] >= HELD_OUT_WORD_F1_FLOOR["wcxb"]


def _wcxb_set(root: Path, pages) -> Path:
    (root / "html").mkdir(parents=True)
    rows = []
    for page_id, url, page_type, html, gold in pages:
        (root / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
        rows.append({"id": page_id, "url": url, "page_type": page_type, "main_content": gold})
    (root / "gold.jsonl.gz").write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    return root


def test_render_text_writes_whole_pages_gold_and_sites_of_the_articles(tmp_path):
    from inscriptis import get_text

    html = f"<html><body><nav><ul><li>Home</li><li>News</li></ul></nav><article><h1>Lighthouse</h1><p>{STORY}</p></article></body></html>"
    root = _wcxb_set(
        tmp_path / "wcxb",
        [("0001", "https://www.example.org/a", "article", html, STORY), ("0002", "https://shop.example.net/", "listing", html, "")],
    )
    out = render_text.ensure_rendered("wcxb", tmp_path / "out", root)
    assert (out / "0001.txt").read_text(encoding="utf-8") == get_text(html)
    assert "Home" in (out / "0001.txt").read_text(encoding="utf-8")  # the whole page, navigation included
    assert (out / "0001.gold.txt").read_text(encoding="utf-8") == STORY
    assert not (out / "0002.txt").exists()  # articles only
    assert [p.site for p in textmode.load_set(out)] == ["example.org"]
    assert render_text.is_current(out, render_text.articles("wcxb", root))
    (out / "0001.txt").write_text("edited", encoding="utf-8")
    render_text.ensure_rendered("wcxb", out, root)
    assert (out / "0001.txt").read_text(encoding="utf-8") == "edited"  # current: not rendered again
    (out / render_text.MANIFEST).write_text("{}", encoding="utf-8")
    render_text.ensure_rendered("wcxb", out, root)
    assert (out / "0001.txt").read_text(encoding="utf-8") == get_text(html)  # stale: rendered again


def test_rendering_extract_dev_gives_textmode_dev_byte_for_byte(tmp_path):
    need(SHARED / "eval" / "extract-dev" / "ground-truth.json", "extract-dev")
    textmode_dev = need(SHARED / "eval" / "textmode-dev", "textmode-dev")
    pages = render_text.articles("aeb", SHARED / "eval" / "extract-dev")[:12]
    out = render_text.render_set(pages, tmp_path / "aeb")
    for page in pages:
        assert (out / f"{page.page_id}.txt").read_bytes() == (textmode_dev / f"{page.page_id}.txt").read_bytes()
        assert (out / f"{page.page_id}.gold.txt").read_bytes() == (textmode_dev / f"{page.page_id}.gold.txt").read_bytes()


def test_the_fit_selects_as_the_body_judge_decides():
    """evals.select_fit.select (arrays) takes the decisions of cleaners.extract.judge_recall / judge_justext."""
    import random
    from dataclasses import replace

    import numpy as np

    from cleaners.config import ExtractConfig
    from cleaners.extract import judge_justext, judge_recall
    from evals import select_fit

    rng = random.Random(3)
    n = 400
    visible = [rng.choice([0, 100, 1000, 5000, 20000]) for _ in range(n)]
    chars = {name: [rng.randrange(0, v + 2) for v in visible] for name in ("first", "recall", "justext")}
    f1 = {"first": np.zeros(n), "recall": np.ones(n), "justext": np.full(n, 2.0), "trafilatura": np.zeros(n)}
    table = select_fit.Table(
        fold=np.zeros(n, dtype=int), visible=np.array(visible, float), chars={k: np.array(v, float) for k, v in chars.items()},
        f1=f1, seconds={},
    )
    for settings in ({"recall_trigger": 0.6, "recall_wins_below": 0.8, "recall_wins_ratio": 1.0, "justext_trigger": 0.3,
                      "justext_max_chars": 5000, "justext_wins_ratio": 2.5},
                     {"recall_trigger": 0.9, "recall_wins_below": 0.4, "recall_wins_ratio": 1.5, "justext_trigger": 0.6,
                      "justext_max_chars": 10**9, "justext_wins_ratio": 1.5}):
        cfg = replace(ExtractConfig(), **settings)
        got = select_fit.select(table, settings)
        for i in range(n):
            first, recall, jt, vis = chars["first"][i], chars["recall"][i], chars["justext"][i], visible[i]
            run_r, wins_r = judge_recall(first, recall, vis, cfg)
            best = recall if wins_r else first
            run_j, wins_j = judge_justext(best, jt, vis, cfg)
            assert (bool(got["run_recall"][i]), bool(got["recall_wins"][i]), bool(got["run_justext"][i]), bool(got["justext_wins"][i])) == (run_r, wins_r, run_j, wins_j)
            assert got["f1"][i] == (2.0 if wins_j else 1.0 if wins_r else 0.0)


def test_the_shipped_judge_settings_are_the_ones_fitted_on_all_folds():
    """ExtractConfig's defaults are select_fit.json's settings, and each fold's were fitted without it."""
    from cleaners.config import ExtractConfig
    from evals.extract import JUDGE_SETTINGS, SELECT_FIT_FILE

    payload = json.loads(SELECT_FIT_FILE.read_text(encoding="utf-8"))
    assert {k: getattr(ExtractConfig(), k) for k in JUDGE_SETTINGS} == payload["settings"]
    assert set(payload["held_out_folds"]) == {str(k) for k in range(FOLDS)}
    assert set(payload["cross_set"]) == {"fit_aeb", "fit_wcxb"}


def test_select_fit_never_fits_a_fold_on_its_own_pages(monkeypatch):
    """Each site fold's settings come from the other folds of both sets; the cross-set fits see one set."""
    from evals import select_fit

    def row(fold: int) -> dict:
        return {"fold": fold, "visible": 1000, **{f"chars_{n}": 100 for n in ("first", "recall", "justext")},
                **{f"f1_{n}": 0.5 for n in ("first", "recall", "justext", "trafilatura")},
                **{f"seconds_{n}": 0.01 for n in ("parse", "visible", "first", "recall", "justext", "trafilatura")}}

    rows = {"aeb": {f"a{k}": row(k) for k in range(FOLDS)}, "wcxb": {f"w{k}{i}": row(k) for k in range(FOLDS) for i in range(2)}}
    seen: list[list[set[int]]] = []
    fitted = {k: float(v) for k, v in zip(select_fit.SETTINGS, (0.5, 0.5, 1.5, 0.2, 5000, 2.5))}

    def fit(tables):
        seen.append([set(t.fold.tolist()) for t in tables])
        return fitted

    monkeypatch.setattr(select_fit, "fit", fit)
    result = select_fit.fit_all(rows)
    assert seen[0] == [set(range(FOLDS))] * 2  # the shipped settings: everything
    for k in range(FOLDS):
        assert seen[1 + k] == [set(range(FOLDS)) - {k}] * 2
        assert result["held_out_folds"][str(k)]["aeb"]["pages"] == 1 and result["held_out_folds"][str(k)]["wcxb"]["pages"] == 2
    assert seen[1 + FOLDS:] == [[set(range(FOLDS))], [set(range(FOLDS))]] and len(seen) == FOLDS + 3
    assert set(result["cross_set"]["fit_aeb"]) == {"settings", "score_wcxb"}


def _pagetype_pages() -> list[fit_pagetype.Page]:
    """Articles with long paragraphs, listings with linked headlines; a token seen on few sites."""
    pages = []
    for i in range(60):
        label = "article" if i % 3 else "listing"
        site = f"site{i % 20}.com"
        feats = {"n_long_p": 3.0 if label == "article" else 0.2, "heading_links": 0.1 if label == "article" else 2.5}
        feats["cls:rare"] = 1.0 if i % 20 == 0 else 0.0
        feats["cls:common"] = 1.0
        pages.append(fit_pagetype.Page(str(i), site, site_fold(site), label, feats, 0.001))
    return pages


def test_fit_pagetype_vocabulary_counts_training_sites():
    data = fit_pagetype.make_data(_pagetype_pages(), min_sites=1)
    everything = np.arange(len(data.pages))
    names = {data.names[j] for j in fit_pagetype.vocabulary(data, everything, min_sites=2)}
    assert "cls:common" in names and "cls:rare" not in names  # one site only
    assert set(pagetype.NUMERIC_FEATURES) <= names


def test_fit_pagetype_threshold_and_held_out():
    assert fit_pagetype.choose_threshold(np.array([0.1, 0.5, 0.9, 0.2]), ["article", "article", "article", "listing"], 0.0) == 0.1  # rejects none
    # 1 of 3 articles may go: the threshold is the second lowest article probability
    assert fit_pagetype.choose_threshold(np.array([0.1, 0.5, 0.9]), ["article"] * 3, 0.34) == 0.5
    data = fit_pagetype.make_data(_pagetype_pages(), min_sites=2)
    result = fit_pagetype.held_out_by_site(data, [fit_pagetype.FitOptions(l2=1.0, min_sites=2, max_article_loss=0.0)])
    assert result["articles_rejected_share"] == 0.0
    assert result["by_type"]["listing"]["share"] == 1.0
    assert len(result["folds"]) == FOLDS

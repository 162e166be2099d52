"""The evaluation package: no Prefect and no flows in it, the text-page path it scores is the one
``clean_pages`` runs, and the boilerplate fitter writes its model where ``--out`` says."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cleaners import boilerplate, schema
from cleaners.config import BoilerplateConfig, PipelineConfig
from cleaners.document import RawPage, clean_pages
from evals import fit_boilerplate
from evals.textmode import pipeline_body

STORY = (
    "The harbour authority said on Friday that the old lighthouse would be restored next year with money "
    "from the regional government, after engineers found cracks in the tower during a winter survey.\n\n"
    "Repairs will start in March and should take about eight months, the authority added in a statement.\n"
)
MENU = "Home\n  News\n  Sport\n  Weather\nFollow us on Twitter\nSign up for our newsletter\n"


def test_evals_and_reports_import_neither_prefect_nor_flows():
    code = (
        "import sys\n"
        "import evals.cli, evals.data, evals.dedup, evals.extract, evals.fit_boilerplate, evals.metadata, evals.repairs, evals.textmode\n"
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
    for i in range(4):
        (tmp_path / f"p{i}.txt").write_text(f"Headline {i}\n\n{MENU}{STORY}", encoding="utf-8")
        (tmp_path / f"p{i}.gold.txt").write_text(STORY, encoding="utf-8")
    shipped = boilerplate.MODEL_PATH.read_bytes()
    out = tmp_path / "fitted" / "model.json"
    out.parent.mkdir()
    assert fit_boilerplate.main([str(tmp_path), "--no-cv", "--write", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    payload = json.loads(out.read_text(encoding="utf-8"))
    assert payload["pages"] == 4 and "out" not in payload["fit_args"]
    assert boilerplate.classifier_from_dict(payload).stage2 is not None
    assert boilerplate.MODEL_PATH.read_bytes() == shipped  # the shipped weights are untouched

import pytest

from cleaners.config import BoilerplateConfig
from cleaners.residual import strip_residual, strip_residual_with_edits

CFG = BoilerplateConfig()
P1 = "The regional council approved the budget on Monday after a long debate about roads."
P2 = "Opponents said the plan relied on optimistic forecasts of revenue from the harbour."


@pytest.mark.parametrize(
    "before, after",
    [
        (f"{P1}\n\nSEE MORE: Hong Kong protests: 800 students under siege\n\n{P2}", f"{P1}\n\n{P2}"),
        (f"{P1}\n\n{P2}\n\nFollow Newsbeat on Instagram, Facebook, Twitter and YouTube.", f"{P1}\n\n{P2}"),
        (f"{P1}\n\n{P2}\n\nOriginally published on Live Science.", f"{P1}\n\n{P2}"),
        (f"{P1}\n\nGoogle Ads | Google Ads | Google Ads\n\n{P2}", f"{P1}\n\n{P2}"),
    ],
    ids=["teaser", "follow", "attribution", "ad_banner"],
)
def test_residual_lines_removed(before, after):
    assert strip_residual(before, CFG) == after


@pytest.mark.parametrize(
    "text",
    [
        f"{P1}\n\n{P2}",
        "Council approves budget\n\n" + P1,  # a heading stays: no title pass on extracted text
        f"{P1}\n{P1}\n\n{P2}",  # repeated lines stay: no duplicate pass either
        "Related reading is encouraged by the council, which follows the budget closely.",
        "",
    ],
    ids=["prose", "heading", "repeated", "prose-with-keywords", "empty"],
)
def test_residual_leaves_article_text(text):
    assert strip_residual(text, CFG) == text


def test_residual_records_edits_and_can_be_switched_off():
    text = f"{P1}\n\nSEE MORE: another story here\n\n{P2}"
    out, edits = strip_residual_with_edits(text, CFG)
    assert [e.kind for e in edits] == ["boilerplate_teaser"] and edits[0].count == 1
    off = BoilerplateConfig(html_residual_rules=())
    assert strip_residual(text, off) == text

"""cleaners.boilerplate: named rules, headline/date, comment cuts, site repeats, the classifier."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
from pathlib import Path

import pytest

from cleaners.boilerplate import (
    MODEL_PATH,
    LineClassifier,
    LineModel,
    TextPage,
    TreeModel,
    classifier_from_dict,
    default_model,
    find_date,
    line_signature,
    parse_text_page,
    parse_text_page_with_model,
    repeated_lines,
    rule_kept_lines,
    strip_boilerplate,
    strip_boilerplate_with_edits,
)
from cleaners.boilerplate.features import FEATURE_NAMES, SMOOTHING_NAMES
from cleaners.boilerplate.lines import split_lines
from cleaners.chars import fix_characters
from cleaners.config import BoilerplateConfig, PipelineConfig
from cleaners.document import text_page_chars

from shared_data import need

CFG = BoilerplateConfig()
RULES_ONLY = BoilerplateConfig(use_classifier=False)
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "boilerplate"

LONG_A = "The Russian government is planning to pull out of the International Space Station after 2024, officials said."
LONG_B = "Russian officials have repeatedly hinted at ending the partnership with the station in recent months."


def _golden(name: str) -> list[dict]:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


# --- (before, after) tables --------------------------------------------------------------------

RULE_CASES = [
    ("clean_text_no_op", f"{LONG_A}\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("ad_banner", f"{LONG_A}\n\nGoogle Ads | Google Ads | Google Ads\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("advertisement_label", f"{LONG_A}\n\nADVERTISEMENT\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("bullet_only", f"{LONG_A}\n  •  \n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("navigation", f"Navigation\n\n{LONG_A}\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("share_bar", f"{LONG_A}\n\nFacebook | Twitter | Email\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("menu_bar", f"Menu | Home | News | World | Politics\n\n{LONG_A}\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("breadcrumb", f"Home » World » Europe\n\n{LONG_A}\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("pipes_in_prose_stay", f"{LONG_A}\n\nStocks rose | bonds fell\n\n{LONG_B}", f"{LONG_A}\n\nStocks rose | bonds fell\n\n{LONG_B}"),
    ("score_line_stays", f"{LONG_A}\n\nHome: 3 | Away: 1\n\n{LONG_B}", f"{LONG_A}\n\nHome: 3 | Away: 1\n\n{LONG_B}"),
    (
        "telegram_call",
        f"{LONG_A}\n\nJoin our brand new verified AMN Telegram channel and get important news uncensored!\n\n{LONG_B}",
        f"{LONG_A}\n\n{LONG_B}",
    ),
    ("recent_posts_follow_us", f"{LONG_A}\n\n{LONG_B}\n\nRecent Posts\n\nFollow Us", f"{LONG_A}\n\n{LONG_B}"),
    (
        "originally_published",
        f"{LONG_A}\n\n{LONG_B}\n\nOriginally published as Russia will leave the station",
        f"{LONG_A}\n\n{LONG_B}",
    ),
    ("px_label_and_credit", f"{LONG_A}\n\n1024px ISS Zvezda module\nISS Zvezda module by NASA\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("featured_image_credit", f"{LONG_A}\n\n{LONG_B}\n\nFeatured image credit: Station by NASA", f"{LONG_A}\n\n{LONG_B}"),
    ("shortcode_line", f"{LONG_A}\n\n[embedpost slug=\"x-y\"]\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    (
        "cookie_notice",
        f"{LONG_A}\n\nThis website uses cookies to improve your experience. Accept Read More\n\n{LONG_B}",
        f"{LONG_A}\n\n{LONG_B}",
    ),
    ("cookie_banner_heading", f"{LONG_A}\n\nPrivacy Overview\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("advert_label", f"{LONG_A}\n\nAdvert\n\n{LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    (
        "cookies_in_prose_stay",
        f"{LONG_A}\n\nCookies baked on the station were the first made in space, NASA said.",
        f"{LONG_A}\n\nCookies baked on the station were the first made in space, NASA said.",
    ),
    ("indent_and_markers_normalised", f"    {LONG_A}\n\n  * {LONG_B}", f"{LONG_A}\n\n{LONG_B}"),
    ("lines_of_a_paragraph_stay_together", f"{LONG_A}\n{LONG_B}", f"{LONG_A}\n{LONG_B}"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("before", "after"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_named_rules(before: str, after: str) -> None:
    assert strip_boilerplate(before, RULES_ONLY) == after


@pytest.mark.parametrize(("before", "after"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_named_rules_with_classifier(before: str, after: str) -> None:
    assert strip_boilerplate(before, CFG) == after


EDIT_CASES = [
    ("ad_banner", f"{LONG_A}\n\nGoogle Ads | Google Ads\n\n{LONG_B}", {"boilerplate_ad_banner"}),
    ("crawl_date", f"Tue, 21-Oct-2025\n\n{LONG_A}\n\n{LONG_B}", {"boilerplate_crawl_date"}),
    ("caption", f"{LONG_A}\n\n1024px ISS Zvezda module\n\n{LONG_B}", {"boilerplate_caption"}),
    ("menu", f"Menu | Home | News\n\n{LONG_A}\n\n{LONG_B}", {"boilerplate_menu"}),
    ("nav_and_share", f"Navigation\n\n{LONG_A}\n\nShare\n\n{LONG_B}", {"boilerplate_nav", "boilerplate_share"}),
    (
        "comments",
        f"{LONG_A}\n\n{LONG_B}\n\ntaurus the judge | July 27, 2022 at 8:06 am\n\nNice one.",
        {"boilerplate_comments"},
    ),
    ("no_op", f"{LONG_A}\n\n{LONG_B}", set()),
]


@pytest.mark.parametrize(("before", "kinds"), [c[1:] for c in EDIT_CASES], ids=[c[0] for c in EDIT_CASES])
def test_edit_kinds(before: str, kinds: set[str]) -> None:
    text, edits = strip_boilerplate_with_edits(before, RULES_ONLY)
    assert {e.kind for e in edits} == kinds
    assert all(e.count >= 1 and e.detail for e in edits)
    assert text == strip_boilerplate(before, RULES_ONLY)


def test_edit_counts_lines_and_clips_detail() -> None:
    page = parse_text_page(f"{LONG_A}\n\nShare\n\n{LONG_B}\n\nEmail\n\nPrint", RULES_ONLY)
    (share,) = [e for e in page.edits if e.kind == "boilerplate_share"]
    assert share.count == 3 and share.detail == "Share"


def test_comment_cut_needs_article_above() -> None:
    # a comment-looking line at the very top is not a comment thread; nothing after it is cut
    text = f"taurus | July 27, 2022 at 8:06 am\n\n{LONG_A}\n\n{LONG_B}"
    assert LONG_B in strip_boilerplate(text, RULES_ONLY)


def test_an_article_byline_with_a_date_but_no_time_is_no_comment_thread() -> None:
    # WCXB pages put "author | date" above the article (or a teaser above it); a reader comment's
    # byline carries the time of day as well
    text = f"{LONG_A}\n\nSubharun Mukherjee | July 15, 2025\n\n{LONG_B}"
    assert LONG_B in strip_boilerplate(text, RULES_ONLY)
    assert LONG_B not in strip_boilerplate(f"{LONG_A}\n\ntaurus | July 15, 2025 at 8:06 am\n\n{LONG_B}", RULES_ONLY)


def test_disabled_returns_input() -> None:
    text = "Navigation\n\nGoogle Ads | Google Ads"
    assert strip_boilerplate(text, dataclasses.replace(CFG, enabled=False)) == text


# --- headline and date -------------------------------------------------------------------------

TITLE_CASES = [
    (
        "headline_then_date",
        f"Russia says it is quitting the station\n\nJuly 26, 2022\n\n{LONG_A}\n\n{LONG_B}",
        "Russia says it is quitting the station",
        datetime.date(2022, 7, 26),
    ),
    (
        "crawl_date_is_not_published",
        f"Tue, 21-Oct-2025\n\nRussia claims it will leave the station\n\n{LONG_A}\n\n{LONG_B}",
        "Russia claims it will leave the station",
        None,
    ),
    ("question_headline", f"Are the threats real this time?\n\n{LONG_A}\n\n{LONG_B}", "Are the threats real this time?", None),
    ("no_headline", f"{LONG_A}\n\n{LONG_B}", None, None),
]


@pytest.mark.parametrize(
    ("text", "title", "published"), [c[1:] for c in TITLE_CASES], ids=[c[0] for c in TITLE_CASES]
)
def test_title_and_published(text: str, title: str | None, published: datetime.date | None) -> None:
    page = parse_text_page(text, CFG)
    assert isinstance(page, TextPage)
    assert page.title == title
    assert page.published == published
    if title:
        assert title not in page.body
    assert LONG_A in page.body


def test_repeated_headline_dropped() -> None:
    text = f"Russia claims it will leave the station\n\n{LONG_A}\n\nRussia claims it will leave the station\n\n{LONG_B}"
    page = parse_text_page(text, CFG)
    assert page.title == "Russia claims it will leave the station"
    assert "Russia claims" not in page.body
    assert "boilerplate_title_repeat" in {e.kind for e in page.edits}


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("July 26, 2022", datetime.date(2022, 7, 26)),
        ("Nov. 19, 2019 8:03 am ET", datetime.date(2019, 11, 19)),
        ("20 November 2019", datetime.date(2019, 11, 20)),
        ("2018-08-16", datetime.date(2018, 8, 16)),
        ("February 30, 2020", None),
        ("in 2024", None),
    ],
    ids=["mdy", "abbrev", "dmy", "iso", "invalid_day", "year_only"],
)
def test_find_date(text: str, date: datetime.date | None) -> None:
    assert find_date(text) == date


# --- site repeats ------------------------------------------------------------------------------


def test_repeated_lines_and_site_repeat_rule() -> None:
    footer = "Copyright Example News Group, all rights reserved worldwide and forever"
    pages = [f"{LONG_A} {i}\n\n{footer}" for i in range(3)] + [LONG_B]
    repeated = repeated_lines(pages, min_pages=3)
    assert line_signature(footer) in repeated
    assert line_signature(LONG_B) not in repeated
    assert repeated_lines(pages, min_pages=4) == frozenset()
    page = parse_text_page(f"{LONG_A}\n\n{footer}\n\n{LONG_B}", RULES_ONLY, repeated)
    assert footer not in page.body and LONG_B in page.body
    assert "boilerplate_site_repeat" in {e.kind for e in page.edits}


def test_line_signature_normalises() -> None:
    assert line_signature("  Recent   POSTS »") == line_signature("recent posts")


# --- golden files ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _golden("positive"), ids=lambda c: c["id"])
def test_golden_positive(case: dict) -> None:
    body = strip_boilerplate(case["before"], CFG)
    for snippet in case["with"]:
        assert snippet in body
    for snippet in case["without"]:
        assert snippet not in body


@pytest.mark.parametrize("case", _golden("negative"), ids=lambda c: c["id"])
def test_golden_negative(case: dict) -> None:
    assert strip_boilerplate(case["text"], CFG) == case["text"]


@pytest.mark.parametrize("case", _golden("known_failures"), ids=lambda c: c["id"])
@pytest.mark.xfail(strict=True, reason="known failure (tests/golden/boilerplate/known_failures.json)")
def test_golden_known_failures(case: dict) -> None:
    body = strip_boilerplate(case["before"], CFG)
    assert all(s in body for s in case["with"]) and not any(s in body for s in case["without"])


# --- the shipped model -------------------------------------------------------------------------


def test_shipped_model_is_small_and_matches_features() -> None:
    assert MODEL_PATH.stat().st_size < 20_000
    model = default_model()
    assert model is not None
    assert model.stage1.features == FEATURE_NAMES
    assert model.stage2 is None or model.stage2.features == SMOOTHING_NAMES


@pytest.mark.parametrize(
    ("row", "expected_logit"),
    [
        pytest.param((0.0, 5.0), 0.5 - 1.0 + 0.0, id="left_then_left"),
        pytest.param((2.0, 5.0), 0.5 + 1.0 + 0.25, id="right_then_left"),
        pytest.param((2.0, 9.0), 0.5 + 1.0 + 0.75, id="right_then_right"),
    ],
)
def test_tree_model_walks_complete_trees(row: tuple[float, float], expected_logit: float) -> None:
    # tree 1 splits on feature 0 at 1.0; tree 2 splits feature 1 at 6.0 under the right branch only
    model = TreeModel(
        ("a", "b"),
        2,
        ((0, 0, 0), (0, 1, 1)),
        ((1.0, 1e300, 1e300), (1.0, 1e300, 6.0)),
        ((-1.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.25, 0.75)),
        0.5,
    )
    p = model.probability(row)
    assert p == pytest.approx(1 / (1 + math.exp(-expected_logit)))


def test_classifier_from_dict_reads_trees_and_refuses_other_features() -> None:
    tree = {"kind": "trees", "features": list(FEATURE_NAMES), "depth": 1, "bias": 0.0,
            "feature": [[0]], "threshold": [[1.0]], "leaf": [[-1.0, 1.0]]}
    model = classifier_from_dict({"stage1": tree, "stage2": None})
    assert isinstance(model.stage1, TreeModel)
    with pytest.raises(ValueError):
        classifier_from_dict({"stage1": {**tree, "features": ["x"]}, "stage2": None})


# --- the five seed pages -----------------------------------------------------------------------

SEED_EXPECTATIONS = {
    "000_": {
        "title": "Russia Wants to Leave the International Space Station After 2024 and Make Its Own",
        "published": None,
        "with": [
            "Will we one day in the future say, “That’s no moon. That’s a space station.”",
            "So Russia wants its own space station. Strong Star Wars vibe, you guys.",
            "Americans are not surprised but glad Russia will give them time to adjust schedules:",
            "suspend its cooperation with Roscosmos for the remainder of their joint ExoMars mission.”",
        ],
        "without": ["taurus the judge", "in reply to", "Sputnik propaganda", "Good riddance", "Because Bush"],
    },
    "001_": {
        "title": "Russia says it’s quitting the International Space Station after 2024",
        "published": datetime.date(2022, 7, 26),
        "with": [
            "The Russian government is planning to pull out of the International Space Station (ISS)",
            "Russian officials have repeatedly hinted at ending the partnership with ISS.",
            "In May, Rogozin said the decision had already been made to pull Russia out of the ISS partnership.",
            "“Nothing official yet,” Gatens said at an ISS conference in Washington.",
        ],
        "without": ["Navigation", "Telegram", "•", "(NASA/Released)", "July 26, 2022"],
    },
    "002_": {
        "title": "After 2024, Russia claims it will leave the International Space Station",
        "published": None,
        "with": [
            "Russia will pull out of the International Space Station partnership after 2024.",
            "Russian President Vladimir Putin reportedly told the news in a meeting on Tuesday.",
            "During the conference, NASA astronaut Kjell Lindgren said they had only learned the news",
            "and maintaining the crew and the vehicle’s safety.”",
        ],
        "without": ["Tue, 21-Oct-2025", "Google Ads", "embedpost", "After 2024, Russia claims"],
    },
    "003_": {
        "title": "Are Russia’s Threats to Withdraw From the International Space Station Actually Real This Time?",
        "published": None,
        "with": [
            "The International Space Station agreement with Russia is due to end by 2024",
            "Much press has been made recently about Russia’s announcements",
            "Mutual scientific goals are a driving force for cooperation between nations",
            "Yury Borisov is an interesting choice of successor",
            "as NASA and Musk figure out how to run things in space without Russia’s support.",
        ],
        "without": [
            "1024px",
            "module by NASA",
            "by NASA/Crew-2",
            "flyaround ISS066",
            "Featured image credit",
            "Recent Posts",
            "Follow Us",
            "2030 plan?\nInternational Space Station",
        ],
    },
    "004_": {
        "title": "International Space Station: Russia will leave the ISS after 2024",
        "published": None,
        "with": [
            "“Good,” Putin replied in comments released by the Kremlin.",
            "Mr. Borisov said the new space program is Roscosmos’ top priority.",
            "The Russians on board the ISS were embroiled in the Ukrainian conflict.",
            "known for his pompous statements and eccentric behavior.",
        ],
        "without": ["Originally published"],
    },
}


def _seed(seeds_dir: Path, prefix: str) -> str:
    matches = sorted(seeds_dir.glob(f"{prefix}*.txt"))
    assert matches, f"seed {prefix} not in {seeds_dir}"
    return matches[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("prefix", sorted(SEED_EXPECTATIONS), ids=lambda p: p.rstrip("_"))
def test_seed_pages(seeds_dir: Path, prefix: str) -> None:
    expected = SEED_EXPECTATIONS[prefix]
    page = parse_text_page(_seed(seeds_dir, prefix), CFG)
    assert page.title == expected["title"]
    assert page.published == expected["published"]
    for snippet in expected["with"]:
        assert snippet in page.body, snippet
    for snippet in expected["without"]:
        assert snippet not in page.body, snippet
    assert expected["title"] not in page.body


@pytest.mark.parametrize("prefix", sorted(SEED_EXPECTATIONS), ids=lambda p: p.rstrip("_"))
def test_seed_article_sentences_all_kept(seeds_dir: Path, prefix: str) -> None:
    """Every prose line above the comment thread (and not a caption/footer) survives."""
    text = _seed(seeds_dir, prefix)
    page = parse_text_page(text, CFG)
    dropped_kinds = {e.kind for e in page.edits}
    assert "boilerplate_classifier" not in dropped_kinds
    body_lines = [" ".join(line.split()) for line in page.body.split("\n") if line.strip()]
    assert len(body_lines) >= 5


# --- text-mode benchmark floor ---------------------------------------------------------------

# In sample (the shipped classifier was fitted on these pages): word F1 0.941, 4-gram F1 0.9385 on
# textmode-dev; held out by site (python -m evals.fit_boilerplate --trees2 60): 0.9364 / 0.9341.
TEXTMODE_F1_FLOOR = 0.93


def test_textmode_dev_floor_in_sample(shared_dir: Path) -> None:
    from evals.textmode import evaluate_textmode

    directory = need(shared_dir / "eval" / "textmode-dev", "textmode-dev")
    result = evaluate_textmode(directory, CFG)
    assert result["pages"] >= 90
    assert result["word_f1"] >= TEXTMODE_F1_FLOOR
    assert result["ngram4"]["f1"] >= TEXTMODE_F1_FLOOR


# --- the text-page path: indentation, the lines the classifier sees, the empty-body guard -------


def test_text_pages_keep_indentation_until_boilerplate_removal() -> None:
    cfg = PipelineConfig()
    chars_cfg = text_page_chars(cfg)
    assert chars_cfg.keep_leading_indent and not cfg.chars.keep_leading_indent
    assert not text_page_chars(dataclasses.replace(cfg, boilerplate=dataclasses.replace(CFG, enabled=False))).keep_leading_indent
    page = "  * Home\n  * World\n\n      Lead  paragraph  here.  \n\t\tTabbed line"
    fixed = fix_characters(page, chars_cfg)
    assert fixed == "  * Home\n  * World\n\n      Lead paragraph here.\n\t\tTabbed line"
    assert [line.indent for line in split_lines(fixed)] == [2, 2, 6, 8]
    assert fix_characters(page, cfg.chars) == "* Home\n* World\n\nLead paragraph here.\nTabbed line"


def test_text_page_body_is_already_chars_clean() -> None:
    """The body of an indented text page needs no second chars pass (clean_pages skips it)."""
    cfg = PipelineConfig()
    text = fix_characters(f"  * Home\n  * News\n\n    {LONG_A}\n\n    {LONG_B}\n\n  * About", text_page_chars(cfg))
    body = parse_text_page(text, CFG).body
    assert LONG_A in body
    assert fix_characters(body, cfg.chars) == body


def test_classifier_scores_the_lines_the_rules_leave() -> None:
    lines = split_lines(f"Navigation\n\n{LONG_A}\n\nShare\n\n{LONG_B}\n\ntaurus | July 27, 2022 at 8:06 am\n\nNice one.")
    kept = [line.text for line in rule_kept_lines(lines, CFG)]
    assert kept == [LONG_A, LONG_B]


def _flat_model(bias: float) -> LineClassifier:
    """A classifier giving every line the same probability sigmoid(bias)."""
    zeros = (0.0,) * len(FEATURE_NAMES)
    return LineClassifier(LineModel(FEATURE_NAMES, zeros, (1.0,) * len(FEATURE_NAMES), zeros, bias), None)


def test_classifier_alone_never_empties_a_page() -> None:
    page = f"  * Home\n  * World\n  * Sport\n  * Money\n\n    {LONG_A}\n\n    {LONG_B}"
    doubtful = parse_text_page_with_model(page, CFG, frozenset(), _flat_model(-2.0))
    assert LONG_A in doubtful.body and LONG_B in doubtful.body
    sure = parse_text_page_with_model(page, CFG, frozenset(), _flat_model(2.0))
    assert LONG_A in sure.body and "World" in sure.body

"""Hypothesis properties of cleaners.boilerplate (strip_boilerplate, parse_text_page)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.boilerplate import parse_text_page, repeated_lines, strip_boilerplate
from cleaners.config import BoilerplateConfig

CFG = BoilerplateConfig()
RULES_ONLY = BoilerplateConfig(use_classifier=False)

LINES = st.sampled_from(
    [
        "Navigation",
        "  •  ",
        "Google Ads | Google Ads | Google Ads",
        "Tue, 21-Oct-2025",
        "July 26, 2022",
        "Russia says it is quitting the station",
        "The Russian government is planning to pull out of the station after 2024, officials said on Tuesday.",
        "“Good,” Putin replied in comments released by the Kremlin.",
        "He was clear.",
        "1024px ISS Zvezda module",
        "ISS Zvezda module by NASA",
        "taurus the judge | July 27, 2022 at 8:06 am",
        "    DSHornet in reply to taurus. | July 27, 2022 at 9:33 am",
        "  * Home",
        "      * Sections",
        "Recent Posts",
        "Originally published as Something",
        "",
        "   ",
    ]
)
PAGES = st.lists(LINES, max_size=25).map("\n".join)
TEXT = st.one_of(st.text(), PAGES)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_total_never_longer(text: str) -> None:
    for cfg in (CFG, RULES_ONLY):
        page = parse_text_page(text, cfg)
        assert len(page.body) <= len(text)
        assert all(e.kind.startswith("boilerplate_") and e.count >= 1 for e in page.edits)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_idempotent(text: str) -> None:
    """Idempotent up to the headline: the body of a page is its own body, and a page rebuilt
    from its headline and body parses back to the same headline and body."""
    for cfg in (CFG, RULES_ONLY):
        page = parse_text_page(text, cfg)
        if page.title is None:
            assert strip_boilerplate(page.body, cfg) == page.body
        else:
            again = parse_text_page(f"{page.title}\n\n{page.body}", cfg)
            assert (again.title, again.body) == (page.title, page.body)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abc \n", max_size=40), max_size=6), st.integers(min_value=1, max_value=4))
def test_repeated_lines_thresholds(pages: list[str], min_pages: int) -> None:
    strict = repeated_lines(pages, min_pages + 1)
    loose = repeated_lines(pages, min_pages)
    assert strict <= loose
    assert all(sig for sig in loose)


RULE_LINES = st.one_of(
    st.text(max_size=60),
    LINES,
    st.sampled_from(["Skip to main content", "Subscribe now", "Related Stories", "Follow us on Twitter", "Sun, 3-Dec-1999"]),
)


@settings(max_examples=300, deadline=None)
@given(RULE_LINES)
def test_rule_word_bounds_skip_only_rules_that_cannot_match(text: str) -> None:
    """The word-count tiers of the named rules give the same first matching rule as trying
    every rule (the bounds are exact, not a heuristic)."""
    from cleaners.boilerplate.lines import split_lines
    from cleaners.boilerplate.rules import LINE_RULES, rules_for

    for line in split_lines(text):
        every = next((kind for kind, rule in LINE_RULES if rule(line, CFG)), None)
        tiered = next((kind for kind, rule in rules_for(line.n_words) if rule(line, CFG)), None)
        assert tiered == every

import pytest

from cleaners.config import FilterConfig
from cleaners.filters import FILTERS, check_alpha_ratio, check_empty, check_max_words, check_min_words
from cleaners.words import count_words

CFG = FilterConfig(min_words=5, max_words=20, min_alpha_ratio=0.5)
PROSE = "The station has been operating since 1998 with partners."


@pytest.mark.parametrize(
    "fn, text, expected",
    [
        (check_empty, "  \n\t ", "empty_text"),
        (check_empty, PROSE, None),
        (check_min_words, "Too short here.", "too_short"),
        (check_min_words, PROSE, None),
        (check_max_words, "word " * 21, "too_long"),
        (check_max_words, PROSE, None),
        (check_alpha_ratio, "12 34 56 78 90 | 11 22 33 $$ %%", "not_prose"),
        (check_alpha_ratio, PROSE, None),
    ],
    ids=["empty", "empty-neg", "short", "short-neg", "long", "long-neg", "alpha", "alpha-neg"],
)
def test_filters(fn, text, expected):
    assert fn(text, CFG) == expected


def test_count_words_keeps_apostrophes():
    assert count_words("Russia’s station isn't new") == 4


def test_every_filter_is_named_check():
    assert all(f.__name__.startswith("check_") for f in FILTERS)

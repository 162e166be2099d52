"""The shipped stoplists (cleaners/boilerplate/stoplists.json) are wordfreq's, word for word."""

from __future__ import annotations

from wordfreq import top_n_list

from cleaners.boilerplate import features


def test_shipped_stoplists_equal_wordfreq():
    shipped = features.shipped_stoplists()
    assert set(shipped) == set(features.STOPWORD_LANGUAGES)
    for lang in features.STOPWORD_LANGUAGES:
        # regenerate with `python -m evals.stoplists` after upgrading wordfreq
        assert list(shipped[lang]) == top_n_list(lang, features.STOPWORD_TOP_N), lang


def test_stopwords_for_uses_them_and_falls_back_to_wordfreq():
    assert features.stopwords_for("de") == frozenset(top_n_list("de", features.STOPWORD_TOP_N))
    assert features.stopwords_for("en") >= features.STOPWORDS
    assert "ja" not in features.shipped_stoplists()
    assert features.stopwords_for("ja") == frozenset(top_n_list("ja", features.STOPWORD_TOP_N))

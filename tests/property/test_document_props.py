"""Property checks for cleaners.document helpers."""

from __future__ import annotations

import xxhash
from hypothesis import given
from hypothesis import strategies as st

from cleaners.derived import NORM_SPACE_RE, make_content_hash

SPACED = st.text(alphabet=st.sampled_from(list("aB \t\n\r\x0b\x1c") + ["\u00a0", "\u2028", "\u3000", "İ", "ß"]))


@given(st.one_of(st.text(), SPACED))
def test_content_hash_is_regex_normalised(text: str) -> None:
    norm = NORM_SPACE_RE.sub(" ", text.casefold()).strip()
    assert make_content_hash(text) == xxhash.xxh3_128_hexdigest(norm.encode("utf-8", "surrogatepass"))


# Markup made of the pieces that matter to HIDDEN_BLOCK_RE: opening and closing hidden tags in
# any case, near misses ("</scripts>", "</script x>"), other tags, stray "<" and text.
MARKUP = st.lists(
    st.sampled_from(
        ["<script>", "</script>", "<SCRIPT type='x'>", "</Script >", "</scripts>", "</script x>", "<style>", "</style>",
         "<noscript>", "</noscript>", "<template>", "</template>", "<p>", "</p>", "<", ">", "/", "a b", "\n", "ſcript", "script"]
    )
).map("".join)


@given(st.one_of(MARKUP, st.text()))
def test_visible_text_is_the_lazy_regex_definition(html: str) -> None:
    """The unrolled hidden-block regex removes what ``<(tag)\\b.*?</\\1\\s*>`` removes."""
    import re

    from cleaners.document import HIDDEN_TAGS, TAG_RE, visible_text

    lazy = re.compile(r"<(" + "|".join(HIDDEN_TAGS) + r")\b.*?</\1\s*>", re.S | re.I)
    assert visible_text(html) == TAG_RE.sub(" ", lazy.sub(" ", html))


COPYRIGHT_TEXT = st.lists(
    st.sampled_from(["©", "(c)", "(C)", "Copyright", "xcopyright", "all rights reserved", "ALL RIGHTS RESERVED",
                     "Tous droits réservés", "word", " ", "\n\n", "AP", "2019"])
).map("".join)


@given(st.one_of(COPYRIGHT_TEXT, st.text()), st.integers(min_value=0, max_value=30))
def test_drop_copyright_lines_prefilter_changes_nothing(text: str, max_words: int) -> None:
    """Texts without a copyright token anywhere come back as they are (the prefilter's claim)."""
    from cleaners.extract import COPYRIGHT_RE, COPYRIGHT_TOKEN_RE, drop_copyright_lines

    paras = text.split("\n\n")
    kept = [p for p in paras if not (COPYRIGHT_RE.search(p) and len(p.split()) < max_words)]
    want = text if max_words <= 0 or len(kept) == len(paras) else "\n\n".join(kept)
    assert drop_copyright_lines(text, max_words) == want
    if any(COPYRIGHT_RE.search(p) for p in paras):
        assert COPYRIGHT_TOKEN_RE.search(text)

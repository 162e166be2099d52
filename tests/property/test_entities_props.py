"""Property checks for cleaners.entities."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.config import EntitiesConfig
from cleaners.entities import LETTER_RUN_RE, fix_entity_typos, letter_runs

CFG = EntitiesConfig()
NAMES = st.sampled_from(["Rogozin", "Rogzonin", "Rogozni", "Borisov", "Borisova", "Taiwan", "Taiwain", "Reagan", "Raegan"])
PROSE = st.lists(st.one_of(NAMES, st.sampled_from(["said", "the", "plan", "."])), max_size=40).map(" ".join)


@given(st.text())
def test_never_raises(text: str) -> None:
    assert isinstance(fix_entity_typos(text, CFG), str)


@settings(max_examples=300)
@given(st.one_of(st.text(), PROSE))
def test_idempotent(text: str) -> None:
    once = fix_entity_typos(text, CFG)
    assert fix_entity_typos(once, CFG) == once


@given(st.text().map(str.lower))
def test_identity_without_capitalised_tokens(text: str) -> None:
    assert fix_entity_typos(text, CFG) == text


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=st.sampled_from(list("aBz09_ ’-") + ["²", "½", "é", "٣", "ǅ"]))))
def test_letter_runs_is_letter_run_re(text: str) -> None:
    assert letter_runs(text) == LETTER_RUN_RE.findall(text)

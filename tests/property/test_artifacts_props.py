"""Hypothesis properties of cleaners.artifacts.strip_artifacts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaners.artifacts import strip_artifacts
from cleaners.config import ArtifactsConfig

CFG = ArtifactsConfig()
PIECES = st.sampled_from(
    ["said", " ", "\n", "(opens in new tab)", "[gallery]", "[/caption]", "[caption id=1]", "[sic]", "[1]",
     "[the president]", "[embedpost slug=”a-b”]", "video", "[", "]", "=", "”", "x", "(", ")"]
)
ARTIFACT_SOUP = st.lists(PIECES, max_size=30).map("".join)
# text with no square brackets or parentheses cannot hold an artifact
NO_BRACKETS = st.text(alphabet=st.characters(exclude_characters="[]()"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), ARTIFACT_SOUP))
def test_total_idempotent_never_longer(text: str) -> None:
    once = strip_artifacts(text, CFG)
    assert len(once) <= len(text)
    assert strip_artifacts(once, CFG) == once


@settings(max_examples=200, deadline=None)
@given(NO_BRACKETS)
def test_identity_without_brackets(text: str) -> None:
    assert strip_artifacts(text, CFG) == text

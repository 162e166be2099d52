"""cleaners.artifacts: link notices and shortcodes, never bracketed editorial text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaners.artifacts import strip_artifacts, strip_artifacts_with_edits
from cleaners.config import ArtifactsConfig

CFG = ArtifactsConfig()
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "artifacts"


def _golden(name: str) -> list[dict]:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


CASES = [
    pytest.param("said(opens in new tab), according", "said, according", id="glued_notice"),
    pytest.param("the site (opens in a new window).", "the site.", id="spaced_notice"),
    pytest.param("NASA [external link] says", "NASA says", id="bracket_notice"),
    pytest.param("A\n\n[embedpost slug=”x-y”]\n\nB", "A\n\nB", id="embedpost_line_dropped"),
    pytest.param("A [caption id='1']img caption[/caption] B", "A B", id="caption_with_content"),
    pytest.param("[gallery] [/gallery]", "", id="bare_and_closing"),
    pytest.param("[vi[video]deo] x", " x".strip(), id="nested_reveals_second"),
    pytest.param("[the president] said", "[the president] said", id="noop_editorial"),
    pytest.param("wrote [sic] and [1]", "wrote [sic] and [1]", id="noop_sic_footnote"),
    pytest.param("Clean text.\n\nMore.", "Clean text.\n\nMore.", id="noop_clean"),
    pytest.param("A\n\n\nB", "A\n\n\nB", id="noop_blank_lines_untouched"),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_strip_artifacts(before: str, after: str) -> None:
    assert strip_artifacts(before, CFG) == after


@pytest.mark.parametrize(
    ("before", "kinds"),
    [
        pytest.param("said(opens in new tab)", {"link_artifact"}, id="link"),
        pytest.param("[gallery]", {"shortcode"}, id="shortcode"),
        pytest.param("x(link is external) [video src=a]", {"link_artifact", "shortcode"}, id="both"),
        pytest.param("[sic]", set(), id="none"),
    ],
)
def test_edit_kinds(before: str, kinds: set[str]) -> None:
    text, edits = strip_artifacts_with_edits(before, CFG)
    assert {e.kind for e in edits} == kinds
    assert text == strip_artifacts(before, CFG)


def test_switches() -> None:
    text = "said(opens in new tab) [gallery]"
    assert strip_artifacts(text, ArtifactsConfig(strip_link_artifacts=False)) == "said(opens in new tab)"
    assert strip_artifacts(text, ArtifactsConfig(strip_shortcodes=False)) == "said [gallery]"
    assert strip_artifacts(text, ArtifactsConfig(False, False)) == text


@pytest.mark.parametrize("case", _golden("positive"), ids=lambda c: c["id"])
def test_golden_positive(case: dict) -> None:
    assert strip_artifacts(case["before"], CFG) == case["after"]


@pytest.mark.parametrize("case", _golden("negative"), ids=lambda c: c["id"])
def test_golden_negative(case: dict) -> None:
    assert strip_artifacts(case["text"], CFG) == case["text"]


@pytest.mark.parametrize("case", _golden("known_failures"), ids=lambda c: c["id"])
@pytest.mark.xfail(strict=True, reason="known failure (tests/golden/artifacts/known_failures.json)")
def test_golden_known_failures(case: dict) -> None:
    assert strip_artifacts(case["before"], CFG) == case["after"]


def test_seed_artifacts_removed(seeds_dir: Path) -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(seeds_dir.glob("*.txt"))}
    cleaned = {name: strip_artifacts(t, CFG) for name, t in texts.items()}
    joined = "\n".join(cleaned.values())
    assert "opens in new tab" not in joined
    assert "[embedpost" not in joined
    if "(ISSRDC(opens in new tab))" in "\n".join(texts.values()):
        assert "(ISSRDC)" in joined

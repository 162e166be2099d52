"""evals.spinners: every generator's semicolons sit where its labels say and undo to the original."""

from __future__ import annotations

import random

import pytest

from cleaners.punctuation import COMMA, DROP, KEEP
from evals import spinners

DOC = (
    "President Vladimir Putin received the news from Yuri Borisov, the new head of the agency, at a meeting on "
    "Tuesday. We will uphold our commitments to our partners, but the choice has been made; it is final. "
    "Apples, pears, plums and figs were sold in the market during the summer, which pleased the farmers."
)


def _undo(spun: spinners.SpunDoc) -> str:
    text = spun.text
    for at, label in sorted(spun.labels, reverse=True):
        if label == COMMA:
            text = text[:at] + "," + text[at + 1 :]
        elif label == DROP:
            text = text[:at] + text[at + 1 :]
    return text


@pytest.mark.parametrize("generator", sorted(spinners.GENERATORS))
@pytest.mark.parametrize("density", [5.0, 40.0])
def test_spin_labels_point_at_semicolons_and_undo(generator: str, density: float) -> None:
    spun = spinners.spin(DOC, generator, random.Random(3), density)
    assert all(spun.text[at] == ";" for at, _ in spun.labels)
    assert spun.text.count(";") == len(spun.labels)
    assert sum(label != KEEP for _, label in spun.labels) >= 1
    assert [label for _, label in spun.labels].count(KEEP) == DOC.count(";")
    assert _undo(spun) == DOC


def test_density_scales_the_stray_count() -> None:
    doc = " ".join([DOC] * 10)
    low = spinners.spin(doc, "seed_style", random.Random(1), 5.0)
    high = spinners.spin(doc, "seed_style", random.Random(1), 30.0)
    assert sum(lab != KEEP for _, lab in high.labels) > 3 * sum(lab != KEEP for _, lab in low.labels)


def test_seed_style_spins_before_lower_case_words_only() -> None:
    spun = spinners.spin(" ".join([DOC] * 5), "seed_style", random.Random(2), 40.0)
    for at, label in spun.labels:
        if label != KEEP:
            assert spun.text[at + 2].islower()


def test_held_out_generator_is_not_a_training_one() -> None:
    assert spinners.HELD_OUT in spinners.GENERATORS
    assert spinners.HELD_OUT not in spinners.TRAINING_GENERATORS
    assert len(spinners.TRAINING_GENERATORS) >= 3

"""The demo corpus in data/raw is the five seed pages of ../shared, byte for byte."""

from __future__ import annotations

from shared_data import SEEDS, SHARED, need


def test_demo_seeds_are_present() -> None:
    assert len(sorted(SEEDS.glob("*.txt"))) == 5


def test_demo_seeds_match_shared() -> None:
    shared = need(SHARED / "seeds", "../shared/seeds")
    names = sorted(p.name for p in shared.glob("*.txt"))
    assert names == sorted(p.name for p in SEEDS.glob("*.txt"))
    for name in names:
        assert (SEEDS / name).read_bytes() == (shared / name).read_bytes(), name

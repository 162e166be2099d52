"""evals.fit_boilerplate.fit_trees: the one tree fitter of the line classifier and the semicolon model."""

from __future__ import annotations

import numpy as np

from evals.fit_boilerplate import TreeParams, fit_trees

NAMES = ("signal", "noise", "constant")


def _data(n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    x = np.column_stack([rng.normal(size=n), rng.normal(size=n), np.zeros(n)])
    y = (x[:, 0] + 0.3 * rng.normal(size=n) > 0.2).astype(float)
    return x, y, np.ones(n)


def test_learns_the_signal_and_never_splits_on_a_constant() -> None:
    x, y, w = _data()
    model = fit_trees(x, y, w, NAMES, TreeParams(trees=20, depth=2))
    p = model.probabilities(x)
    assert ((p > 0.5) == (y > 0)).mean() > 0.9
    used = {f for tree, thr in zip(model.feature, model.threshold) for f, t in zip(tree, thr) if t < 1e300}
    assert 0 in used and 2 not in used


def test_full_sample_ignores_the_seed_and_subsampling_uses_it() -> None:
    x, y, w = _data()
    params = TreeParams(trees=10, depth=3)
    assert fit_trees(x, y, w, NAMES, params, 1.0, seed=1) == fit_trees(x, y, w, NAMES, params, 1.0, seed=2)
    a = fit_trees(x, y, w, NAMES, params, 0.5, seed=1)
    assert a == fit_trees(x, y, w, NAMES, params, 0.5, seed=1)
    assert a != fit_trees(x, y, w, NAMES, params, 0.5, seed=2)

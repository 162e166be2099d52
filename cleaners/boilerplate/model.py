"""The boilerplate line classifier and its shipped weights (``model.json``).

``LineClassifier`` scores the lines the named rules leave on a rendered page in two stages:
stage 1 from each line's own and window features (``features.FEATURE_NAMES``), stage 2 from
its stage-1 probability beside its neighbours' and its place relative to the page's main text
(``features.SMOOTHING_NAMES``). Either stage is a standardised logistic regression
(``LineModel``) or gradient-boosted trees (``TreeModel``), fitted with numpy by
``evals/fit_boilerplate.py``, which writes ``MODEL_PATH``; ``default_model()`` reads it once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cleaners.boilerplate.features import FEATURE_NAMES, SMOOTHING_NAMES, line_features, smoothing_features
from cleaners.boilerplate.lines import PageLine
from cleaners.shipped import read_json

MODEL_RESOURCE = "model.json"  # package data beside this module (pyproject: [tool.setuptools.package-data])
MODEL_PATH = Path(__file__).with_name(MODEL_RESOURCE)


class LineModel(NamedTuple):
    """Standardised logistic regression over named features."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """One probability per row of ``x`` (rows in ``features`` order)."""
        z = self.bias + ((x - np.asarray(self.mean)) / np.asarray(self.scale)) @ np.asarray(self.weights)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))

    def probability(self, x: Sequence[float]) -> float:
        return float(self.probabilities(np.asarray([x], dtype=float))[0])


class TreeModel(NamedTuple):
    """Gradient-boosted regression trees on the log-odds (complete binary trees of ``depth``:
    node k's children are 2k+1 (value <= threshold) and 2k+2; ``leaf`` holds 2**depth values
    per tree). Inference walks every tree at once with numpy: ``depth`` gathers per page."""

    features: tuple[str, ...]
    depth: int
    feature: tuple[tuple[int, ...], ...]  # per tree, per inner node: feature index
    threshold: tuple[tuple[float, ...], ...]  # per tree, per inner node
    leaf: tuple[tuple[float, ...], ...]  # per tree, 2**depth leaf values (shrinkage applied)
    bias: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        feature, threshold, leaf = _tree_arrays(self)
        rows = np.arange(len(x))[:, None]
        trees = np.arange(feature.shape[0])[None, :]
        node = np.zeros((len(x), feature.shape[0]), dtype=np.int64)
        for _ in range(self.depth):
            f = feature[trees, node]
            node = 2 * node + 1 + (x[rows, f] > threshold[trees, node])
        z = self.bias + leaf[trees, node - (2**self.depth - 1)].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))

    def probability(self, x: Sequence[float]) -> float:
        return float(self.probabilities(np.asarray([x], dtype=float))[0])


@functools.lru_cache(maxsize=8)
def _tree_arrays(model: TreeModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's trees as arrays (an immutable model's cached view)."""
    arrays = (
        np.asarray(model.feature, dtype=np.int64),
        np.asarray(model.threshold, dtype=float),
        np.asarray(model.leaf, dtype=float),
    )
    for arr in arrays:
        arr.setflags(write=False)
    return arrays


class LineClassifier(NamedTuple):
    """Stage 1 scores each line from its own and window features (``FEATURE_NAMES``); stage 2
    rescores it from its stage-1 probability beside its neighbours' and its place relative to
    the page's main text (``SMOOTHING_NAMES``)."""

    stage1: LineModel | TreeModel
    stage2: LineModel | TreeModel | None

    def probabilities(self, lines: Sequence[PageLine]) -> list[float]:
        if not lines:
            return []
        feats = line_features(lines)
        probs = self.stage1.probabilities(feats)
        if self.stage2 is None:
            return probs.tolist()
        return self.stage2.probabilities(smoothing_features(lines, feats, probs)).tolist()


def model_from_dict(data: dict, expected: tuple[str, ...]) -> LineModel | TreeModel:
    """A ``LineModel`` or ``TreeModel`` from its JSON form; refuses weights fitted on other
    features."""
    features = tuple(data["features"])
    if features != expected:
        raise ValueError("boilerplate model was fitted on different features; refit it")
    if data.get("kind") == "trees":
        return TreeModel(
            features,
            int(data["depth"]),
            tuple(tuple(int(v) for v in t) for t in data["feature"]),
            tuple(tuple(float(v) for v in t) for t in data["threshold"]),
            tuple(tuple(float(v) for v in t) for t in data["leaf"]),
            float(data["bias"]),
        )
    return LineModel(
        features,
        tuple(float(v) for v in data["mean"]),
        tuple(float(v) or 1.0 for v in data["scale"]),
        tuple(float(v) for v in data["weights"]),
        float(data["bias"]),
    )


def classifier_from_dict(data: dict) -> LineClassifier:
    stage2 = data.get("stage2")
    return LineClassifier(
        model_from_dict(data["stage1"], FEATURE_NAMES),
        model_from_dict(stage2, SMOOTHING_NAMES) if stage2 else None,
    )


@functools.cache
def default_model() -> LineClassifier | None:
    """The shipped classifier weights (read once; immutable), or None if not shipped."""
    data = read_json(MODEL_PATH)
    return None if data is None else classifier_from_dict(data)

"""Evaluation metrics (pure): shingle-bag precision/recall/F1 and clustering agreement.

Extraction metric (DEVELOPERS.md): word 4-gram shingle bags per page; precision and recall are
macro-averaged over pages, and F1 is the harmonic mean of the two averages.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cleaners.words import WORD_CHARS_RE


def shingles(text: str, n: int = 4) -> Counter:
    """Bag (multiset) of lower-cased word n-grams; texts shorter than n give one short gram."""
    words = WORD_CHARS_RE.findall(text.lower())
    if len(words) < n:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def page_precision_recall(predicted: str, gold: str, n: int = 4) -> tuple[float, float]:
    """Bag precision and recall of predicted against gold shingles for one page.

    An empty prediction has precision 1 only when gold is empty too (nothing claimed, nothing
    wrong), else 0 recall; an empty gold with a non-empty prediction has precision 0.
    """
    p, g = shingles(predicted, n), shingles(gold, n)
    overlap = sum((p & g).values())
    n_p, n_g = sum(p.values()), sum(g.values())
    precision = overlap / n_p if n_p else (1.0 if not n_g else 0.0)
    recall = overlap / n_g if n_g else 1.0
    return precision, recall


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1, "pages": self.n}


def macro_prf(pairs: Iterable[tuple[str, str]], n: int = 4) -> PRF:
    """Macro-averaged precision and recall over (predicted, gold) pages; F1 of the averages."""
    ps, rs = [], []
    for predicted, gold in pairs:
        p, r = page_precision_recall(predicted, gold, n)
        ps.append(p)
        rs.append(r)
    if not ps:
        return PRF(0.0, 0.0, 0.0, 0)
    mp, mr = sum(ps) / len(ps), sum(rs) / len(rs)
    f1 = 2 * mp * mr / (mp + mr) if mp + mr else 0.0
    return PRF(mp, mr, f1, len(ps))


def _comb2(x: int) -> int:
    return x * (x - 1) // 2


@dataclass(frozen=True)
class ClusterScores:
    ari: float
    pair_precision: float
    pair_recall: float
    n: int


def cluster_scores(labels_true: Sequence, labels_pred: Sequence) -> ClusterScores:
    """Adjusted Rand index and pairwise precision/recall of a predicted clustering."""
    if len(labels_true) != len(labels_pred):
        raise ValueError("label sequences differ in length")
    n = len(labels_true)
    contingency = Counter(zip(labels_true, labels_pred))
    a = Counter(labels_true)
    b = Counter(labels_pred)
    sum_ij = sum(_comb2(v) for v in contingency.values())  # pairs together in both
    sum_a = sum(_comb2(v) for v in a.values())  # pairs together in truth
    sum_b = sum(_comb2(v) for v in b.values())  # pairs together in prediction
    total = _comb2(n)
    expected = sum_a * sum_b / total if total else 0.0
    max_index = (sum_a + sum_b) / 2
    if math.isclose(max_index, expected):
        ari = 1.0
    else:
        ari = (sum_ij - expected) / (max_index - expected)
    precision = sum_ij / sum_b if sum_b else 1.0
    recall = sum_ij / sum_a if sum_a else 1.0
    return ClusterScores(ari, precision, recall, n)

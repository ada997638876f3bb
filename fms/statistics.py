"""Agreement statistics of two raters' scores of the same trials.

Pure functions of (N,) score sequences:

* :func:`confusion_matrix`: rows are the first rater (the automatic score),
  columns the second (the coach), in the order of ``categories``.
* :func:`exact_agreement`: the fraction of trials scored alike.
* :func:`weighted_kappa`: Cohen's kappa, unweighted or with linear or
  quadratic disagreement weights.  It is NaN when undefined: no trials, or
  no disagreement expected by chance (both raters gave one and the same
  category to every trial, so agreement cannot be told from chance).
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import numpy as np

from fms import FmsError
from fms.protocol import SCORES

#: Disagreement weights understood by :func:`weighted_kappa`.
WEIGHTS: Tuple[Optional[str], ...] = ('quadratic', 'linear', None)

#: Below this, the expected disagreement counts as zero (kappa undefined).
ZERO_DISAGREEMENT = 1e-12

#: Why a kappa is undefined, for the reports.
KAPPA_UNDEFINED_REASON = ('kappa is undefined when both raters gave one and '
                          'the same score to every trial (no disagreement '
                          'is expected by chance)')


def _category_indices(values: Sequence, categories: Sequence,
                      name: str) -> np.ndarray:
    """(N,) int64 index into ``categories`` of each of ``values`` (N,)."""
    values = np.asarray(values)
    if values.ndim != 1:
        raise FmsError(f'{name} must be a flat sequence of scores')
    hits = values[:, None] == np.asarray(categories)[None, :]    # (N, K)
    unknown = ~hits.any(axis=1)
    if unknown.any():
        raise FmsError(f'{name} has value {values[unknown][0]!r} outside '
                       f'the categories {tuple(categories)}')
    return hits.argmax(axis=1).astype(np.int64)


def _check_pair(a: Sequence, b: Sequence) -> None:
    if len(a) != len(b):
        raise FmsError(f'the two raters have {len(a)} and {len(b)} scores: '
                       f'give one score of each per trial')


def confusion_matrix(a: Sequence, b: Sequence,
                     categories: Sequence = SCORES) -> np.ndarray:
    """(K, K) int64 counts: ``[i, j]`` = trials rated ``categories[i]`` by
    ``a`` (rows: the automatic score) and ``categories[j]`` by ``b``
    (columns: the coach).  K = len(categories), 4 for the FMS scores.

    Args:
        a, b: (N,) scores of the same N trials by each rater.
    """
    _check_pair(a, b)
    k = len(categories)
    rows = _category_indices(a, categories, 'first rater')
    cols = _category_indices(b, categories, 'second rater')
    counts = np.bincount(rows * k + cols, minlength=k * k)
    return counts.reshape(k, k).astype(np.int64)


def exact_agreement(a: Sequence, b: Sequence) -> float:
    """Fraction of trials (N,) given the same score by both; NaN if N = 0."""
    _check_pair(a, b)
    if len(a) == 0:
        return math.nan
    return float(np.mean(np.asarray(a) == np.asarray(b)))


def disagreement_weights(k: int, weights: Optional[str] = 'quadratic'
                         ) -> np.ndarray:
    """(k, k) float64 weights of a disagreement between categories i and j:
    ``((i - j) / (k - 1)) ** 2`` (quadratic), ``|i - j| / (k - 1)``
    (linear) or ``1`` for any disagreement (None: unweighted)."""
    if weights not in WEIGHTS:
        raise FmsError(f'unknown kappa weights {weights!r}: use quadratic, '
                       f'linear or None')
    if k < 2:
        raise FmsError('kappa needs at least two categories')
    index = np.arange(k)
    distance = np.abs(index[:, None] - index[None, :]) / (k - 1)
    if weights == 'quadratic':
        return distance ** 2
    if weights == 'linear':
        return distance
    return (distance > 0).astype(np.float64)


def weighted_kappa(a: Sequence, b: Sequence, categories: Sequence = SCORES,
                   weights: Optional[str] = 'quadratic') -> float:
    """Cohen's kappa of two raters' scores (N,) of the same trials.

    ``kappa = 1 - sum(w * O) / sum(w * E)``, with O the confusion matrix as
    proportions, E the outer product of its row and column sums (the table
    expected by chance) and w :func:`disagreement_weights`.  With
    ``weights=None`` it is the unweighted kappa ``(po - pe) / (1 - pe)``.

    Returns:
        float in [-1, 1]; NaN when there are no trials or the expected
        disagreement ``sum(w * E)`` is 0 (both raters gave one and the same
        category to every trial).
    """
    observed = confusion_matrix(a, b, categories).astype(np.float64)
    n = observed.sum()
    w = disagreement_weights(len(categories), weights)
    if n == 0:
        return math.nan
    observed /= n
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    expected_disagreement = float((w * expected).sum())
    if expected_disagreement <= ZERO_DISAGREEMENT:
        return math.nan
    return float(1.0 - (w * observed).sum() / expected_disagreement)


"""Ranking metrics of a performance predictor: how well predicted accuracies order architectures.

All functions take the true accuracies ``y_true`` and the predicted ones ``y_pred`` (1-D, same
length, at least 2 items, finite) and higher is better for both. Correlations use
``scipy.stats``; they are ``nan`` when either input is constant (the coefficient is undefined
then; scipy may warn).

Ties in ``y_pred`` are broken by position (a stable sort), so the "predicted top-k" is always
exactly ``k`` architectures.
"""
from __future__ import annotations

import numbers

import numpy as np
from scipy import stats

from archgraph.utils.validation import check_finite, check_int

__all__ = ["kendall_tau", "spearman_rho", "pearson_r", "precision_at_k", "regret_at_k",
           "kendall_tau_within_bins", "improvement_curve", "evaluate_ranking"]


def _check_pair(y_true, y_pred, owner: str) -> tuple[np.ndarray, np.ndarray]:
    y_true = check_finite(y_true, "y_true", owner)
    y_pred = check_finite(y_pred, "y_pred", owner)
    if len(y_true) != len(y_pred):
        raise ValueError(f"The 'y_true' and 'y_pred' parameters of {owner} must have the same "
                         f"length. Got {len(y_true)} and {len(y_pred)} instead.")
    if len(y_true) < 2:
        raise ValueError(f"The 'y_true' parameter of {owner} must hold at least 2 items. "
                         f"Got {len(y_true)} instead.")
    return y_true, y_pred


def _resolve_k(k, n: int, owner: str) -> int:
    """``k`` as a count: an int in [1, n], or a fraction in (0, 1) of ``n`` (at least 1)."""
    if isinstance(k, numbers.Real) and not isinstance(k, (bool, numbers.Integral)):
        if not 0 < float(k) < 1:
            raise ValueError(f"The 'k' parameter of {owner} must be an int in [1, {n}] or a "
                             f"float in (0, 1). Got {k!r} instead.")
        return max(1, int(round(float(k) * n)))
    return check_int(k, "k", owner, low=1, high=n)


def _top(y: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values of ``y`` (ties: earlier position first)."""
    return np.argsort(-y, kind="stable")[:k]


def kendall_tau(y_true, y_pred) -> float:
    """Kendall rank correlation (tau-b, handles ties) between true and predicted accuracies.

    ``1`` for a perfect ranking, ``-1`` for a reversed one.
    """
    y_true, y_pred = _check_pair(y_true, y_pred, "kendall_tau")
    return float(stats.kendalltau(y_true, y_pred).statistic)


def spearman_rho(y_true, y_pred) -> float:
    """Spearman rank correlation: Pearson correlation of the ranks."""
    y_true, y_pred = _check_pair(y_true, y_pred, "spearman_rho")
    return float(stats.spearmanr(y_true, y_pred).statistic)


def pearson_r(y_true, y_pred) -> float:
    """Pearson (linear) correlation of the values themselves."""
    y_true, y_pred = _check_pair(y_true, y_pred, "pearson_r")
    return float(stats.pearsonr(y_true, y_pred).statistic)


def precision_at_k(y_true, y_pred, k=0.1) -> float:
    """Share of the true top-``k`` architectures among the predicted top-``k``.

    ``|top_k(y_true) & top_k(y_pred)| / k``, with ``k`` an int in ``[1, n]`` or a fraction of
    ``n`` in (0, 1) (rounded, at least 1).
    """
    y_true, y_pred = _check_pair(y_true, y_pred, "precision_at_k")
    k = _resolve_k(k, len(y_true), "precision_at_k")
    overlap = np.intersect1d(_top(y_true, k), _top(y_pred, k)).size
    return overlap / k


def regret_at_k(y_true, y_pred, k=1) -> float:
    """Best true accuracy overall minus the best true accuracy among the predicted top-``k``.

    ``max(y_true) - max(y_true[top_k(y_pred)])``: what a search that trains the ``k``
    architectures the predictor likes best loses against the optimum (``0`` if it finds it).
    ``k`` as in :func:`precision_at_k`.
    """
    y_true, y_pred = _check_pair(y_true, y_pred, "regret_at_k")
    k = _resolve_k(k, len(y_true), "regret_at_k")
    return float(y_true.max() - y_true[_top(y_pred, k)].max())


def kendall_tau_within_bins(y_true, y_pred, by, bins: int = 4) -> float:
    """Mean Kendall tau within ``bins`` quantile bins of ``by`` (e.g. FLOPs): how well
    architectures of similar cost are ordered (Chen et al., AAAI 2021, Fig. 1).

    Bins hold (nearly) equal counts: ``by`` is ranked (ties by position) before it is cut.
    Bins of fewer than 2 items, or where either ranking is constant, are skipped; ``nan`` if
    every bin is.
    """
    owner = "kendall_tau_within_bins"
    y_true, y_pred = _check_pair(y_true, y_pred, owner)
    by = check_finite(by, "by", owner)
    if len(by) != len(y_true):
        raise ValueError(f"The 'by' parameter of {owner} must have the length of 'y_true' "
                         f"({len(y_true)}). Got {len(by)} instead.")
    bins = check_int(bins, "bins", owner, low=1, high=len(y_true))
    rank = np.argsort(np.argsort(by, kind="stable"), kind="stable")
    group = rank * bins // len(by)                                    # [n] bin of each item
    taus = []
    for b in range(bins):
        t, p = y_true[group == b], y_pred[group == b]
        if len(t) >= 2 and np.ptp(t) > 0 and np.ptp(p) > 0:
            taus.append(kendall_tau(t, p))
    return float(np.mean(taus)) if taus else float("nan")


def improvement_curve(y_true, y_pred, fractions=None) -> tuple[np.ndarray, np.ndarray]:
    """Normalized improvement of pruning the predicted-worst architectures.

    Laube & Zell, "Inter-choice dependent super-network weights" (arXiv, 2021): prune the
    fraction ``p`` of
    architectures the predictor ranks worst and keep ``m = max(1, round((1 - p) n))``; the
    value is the mean true accuracy of the kept ones, normalized so that ``0`` is the mean of
    all (a random pick) and ``1`` is the best architecture:

    .. math::
        I(p) = \\frac{\\bar y_{\\mathrm{kept}(p)} - \\bar y}{\\max_i y_i - \\bar y}

    ``I(0) = 0``; a perfect predictor reaches ``I(1) = 1`` (only its top pick is kept); a
    predictor worse than random goes below 0.

    Args:
        y_true, y_pred: true and predicted accuracies, ``[n]``.
        fractions: pruned fractions in ``[0, 1]``; default 21 evenly spaced from 0 to 1.

    Returns:
        ``(fractions, values)``, two float arrays of the same length.
    """
    owner = "improvement_curve"
    y_true, y_pred = _check_pair(y_true, y_pred, owner)
    if fractions is None:
        fractions = np.linspace(0.0, 1.0, 21)
    fractions = check_finite(fractions, "fractions", owner)
    if fractions.size == 0 or fractions.min() < 0 or fractions.max() > 1:
        raise ValueError(f"The 'fractions' parameter of {owner} must be a non-empty sequence of "
                         f"floats in [0, 1]. Got {fractions.tolist()} instead.")
    mean, best = y_true.mean(), y_true.max()
    if best - mean <= 0:
        raise ValueError(f"The 'y_true' parameter of {owner} must not be constant: the "
                         f"improvement is normalized by max(y_true) - mean(y_true).")
    n = len(y_true)
    ranked = y_true[np.argsort(-y_pred, kind="stable")]  # true accuracy in predicted order
    prefix_mean = np.cumsum(ranked) / np.arange(1, n + 1)  # [n] mean of the m best-predicted
    kept = np.maximum(1, np.round((1 - fractions) * n).astype(np.int64))
    values = (prefix_mean[kept - 1] - mean) / (best - mean)
    return fractions, values


def evaluate_ranking(y_true, y_pred, k=0.1) -> dict[str, float]:
    """All metrics at once: ``kendall_tau``, ``spearman_rho``, ``pearson_r``,
    ``precision_at_k`` and ``regret_at_k`` (with ``k``), ``regret_at_1``."""
    return {
        "kendall_tau": kendall_tau(y_true, y_pred),
        "spearman_rho": spearman_rho(y_true, y_pred),
        "pearson_r": pearson_r(y_true, y_pred),
        "precision_at_k": precision_at_k(y_true, y_pred, k),
        "regret_at_k": regret_at_k(y_true, y_pred, k),
        "regret_at_1": regret_at_k(y_true, y_pred, 1),
    }

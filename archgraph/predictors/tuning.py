"""Hyperparameter tuning on the training pairs alone, the recipe of Wen et al. (ECCV 2020)."""
from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Callable, Sequence

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import ParameterGrid
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from archgraph.metrics import kendall_tau
from archgraph.predictors.base import RANDOM_STATE, check_targets
from archgraph.utils.validation import check_random_state


@dataclass
class TuningResult:
    """Outcome of :func:`tune_predictor`. Scores are higher-is-better: the negative mean
    squared error for ``scoring="mse"``."""

    #: a clone of the estimator with ``best_params``, refitted on all ``N`` pairs
    best_estimator: object
    best_params: dict
    #: mean held-out score of ``best_params`` over the splits
    best_score: float
    #: ``(params, mean held-out score)`` of every grid point, in grid order
    results: list[tuple[dict, float]]
    #: held-out score of every grid point (rows, grid order) on every split (columns)
    split_scores: list[list[float]] = field(default_factory=list)


def _neg_mse(y_true, y_pred) -> float:
    return -float(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2))


#: named held-out criteria, higher is better
SCORERS = {"mse": _neg_mse, "kendall": kendall_tau}


@validate_params({"estimator": [HasMethods(["fit", "predict", "get_params", "set_params"])],
                  "param_grid": [dict, list],
                  "n_splits": [Interval(Integral, 1, None, closed="left")],
                  "holdout": [Interval(Real, 0, 1, closed="neither")],
                  "scoring": [StrOptions(set(SCORERS)), callable],
                  "random_state": RANDOM_STATE},
                 prefer_skip_nested_validation=False)  # the estimator validates its own
def tune_predictor(estimator, archs: Sequence, y, param_grid, *, n_splits: int = 5,
                   holdout: float = 1 / 3, scoring: str | Callable = "mse",
                   random_state=None) -> TuningResult:
    """Pick hyperparameters by cross-validation on the ``N`` training pairs, then refit.

    The recipe of Wen et al. (ECCV 2020, https://arxiv.org/abs/1912.00848), which tunes the
    neural predictor without extra evaluations: ``n_splits`` random splits each hold out a
    ``holdout`` fraction (1/3) of the ``N`` pairs; every grid point is fitted on the rest of
    each split and scored on its held-out part; the grid point of the best mean score (lowest
    mean validation MSE by default) is refitted on all ``N``. Every grid point sees the same
    splits. For k-fold cross-validation use scikit-learn's ``GridSearchCV`` directly:
    predictors are scikit-learn estimators.

    Args:
        estimator: an unfitted predictor (cloned, never modified).
        archs: the ``N`` training architectures.
        y: their accuracies ``[N]``.
        param_grid: a dict (or list of dicts) of parameter name -> candidate values, as for
            :class:`sklearn.model_selection.ParameterGrid`.
        n_splits: random splits ``k``.
        holdout: fraction of the pairs held out in each split, in (0, 1).
        scoring: ``"mse"`` (mean squared error, the published criterion), ``"kendall"``
            (Kendall tau of the held-out ranking) or a callable
            ``scoring(y_true, y_pred) -> float``, higher is better.
        random_state: seed of the splits.
    """
    owner = "tune_predictor"
    archs = list(archs)
    y = check_targets(archs, y, owner)
    scorer = SCORERS[scoring] if isinstance(scoring, str) else scoring
    n_val = int(round(holdout * len(y)))
    if n_val < 2 or len(y) - n_val < 2:
        raise ValueError(f"The 'holdout' parameter of {owner} ({holdout}) must leave at least "
                         f"2 pairs on each side of the split. Got {len(y)} pairs in all.")
    grid = list(ParameterGrid(param_grid))
    valid = estimator.get_params()
    for params in grid:
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"The 'param_grid' parameter of {owner} names {unknown}, which "
                             f"{type(estimator).__name__} does not have; valid: "
                             f"{sorted(valid)}.")
    rng = check_random_state(random_state)
    splits = []
    for _ in range(n_splits):
        perm = rng.permutation(len(y))
        splits.append((perm[n_val:], perm[:n_val]))  # (train, validation)
    split_scores = []
    for params in grid:
        row = []
        for train, val in splits:
            model = clone(estimator).set_params(**params)
            model.fit([archs[i] for i in train], y[train])
            row.append(float(scorer(y[val], model.predict([archs[i] for i in val]))))
        split_scores.append(row)
    results = [(params, float(np.mean(row))) for params, row in zip(grid, split_scores)]
    best_params, best_score = max(results, key=lambda r: r[1])  # first of equal scores
    best = clone(estimator).set_params(**best_params).fit(archs, y)
    return TuningResult(best, best_params, best_score, results, split_scores)

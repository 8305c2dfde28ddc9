"""Hyperparameter tuning on the training pairs alone, the recipe of Wen et al. (ECCV 2020)."""
from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Callable, Sequence

from sklearn.base import clone
from sklearn.model_selection import ParameterGrid
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from archgraph.metrics import kendall_tau
from archgraph.predictors.base import RANDOM_STATE, check_targets
from archgraph.utils.validation import check_random_state


@dataclass
class TuningResult:
    """Outcome of :func:`tune_predictor`."""

    #: a clone of the estimator with ``best_params``, refitted on all ``N`` pairs
    best_estimator: object
    best_params: dict
    #: held-out score of ``best_params``
    best_score: float
    #: ``(params, held-out score)`` of every grid point, in grid order
    results: list[tuple[dict, float]]


@validate_params({"estimator": [HasMethods(["fit", "predict", "get_params", "set_params"])],
                  "param_grid": [dict, list],
                  "holdout": [Interval(Real, 0, 1, closed="neither")],
                  "scoring": [callable], "random_state": RANDOM_STATE},
                 prefer_skip_nested_validation=False)  # the estimator validates its own
def tune_predictor(estimator, archs: Sequence, y, param_grid, holdout: float = 1 / 3,
                   scoring: Callable = kendall_tau, random_state=None) -> TuningResult:
    """Pick hyperparameters on a held-out part of the ``N`` training pairs, then refit.

    Wen et al. tune the neural predictor without extra evaluations: a random ``holdout``
    fraction of the ``N`` pairs is held out, each grid point is fitted on the rest and scored
    on it (Kendall tau by default, the ranking is what a search uses), and the best setting is
    refitted on all ``N``. For k-fold cross-validation use scikit-learn's ``GridSearchCV``
    directly: predictors are scikit-learn estimators.

    Args:
        estimator: an unfitted predictor (cloned, never modified).
        archs: the ``N`` training architectures.
        y: their accuracies ``[N]``.
        param_grid: a dict (or list of dicts) of parameter name -> candidate values, as for
            :class:`sklearn.model_selection.ParameterGrid`.
        holdout: fraction of the pairs held out for scoring, in (0, 1).
        scoring: ``scoring(y_true, y_pred) -> float``, higher is better.
        random_state: seed of the split.
    """
    owner = "tune_predictor"
    archs = list(archs)
    y = check_targets(archs, y, owner)
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
    perm = check_random_state(random_state).permutation(len(y))
    val, train = perm[:n_val], perm[n_val:]
    results = []
    for params in grid:
        model = clone(estimator).set_params(**params)
        model.fit([archs[i] for i in train], y[train])
        results.append((params, float(scoring(y[val], model.predict([archs[i] for i in val])))))
    best_params, best_score = max(results, key=lambda r: r[1])  # first of equal scores
    best = clone(estimator).set_params(**best_params).fit(archs, y)
    return TuningResult(best, best_params, best_score, results)

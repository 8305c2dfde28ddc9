"""Classical baselines on the one-hot encoding ``space.features(archs)`` (scikit-learn)."""
from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.utils._param_validation import Interval

from archgraph.encoding import onehot_encode
from archgraph.predictors.base import NON_NEGATIVE_FLOAT, POSITIVE_INT, RANDOM_STATE, BasePredictor
from archgraph.predictors.registry import register_predictor
from archgraph.spaces import ProductSpace


class OneHotBaseline(BasePredictor):
    """A scikit-learn ``model_`` on the one-hot encoding; on a chain space, whole-space
    prediction encodes the choice matrix directly."""

    def _predict(self, archs: list) -> np.ndarray:
        return self.model_.predict(self.space.features(archs))

    def _predict_choices(self, space, choices: np.ndarray) -> np.ndarray:
        own = self.space
        if not isinstance(own, ProductSpace) or own is not own.root:
            return super()._predict_choices(space, choices)
        full = space.parent_choices(choices) if space is not space.root else choices
        return self.model_.predict(onehot_encode(full, own.num_options))


@register_predictor("ridge")
class RidgePredictor(OneHotBaseline):
    """Ridge regression (L2-penalized least squares) on the one-hot encoding of the space.

    Args:
        space: the search space of the architectures.
        alpha: L2 penalty.

    Attributes:
        model_: the fitted :class:`sklearn.linear_model.Ridge`.
    """

    _parameter_constraints: dict = {**BasePredictor._parameter_constraints,
                                    "alpha": NON_NEGATIVE_FLOAT}

    def __init__(self, space=None, *, alpha: float = 1.0):
        self.space = space
        self.alpha = alpha

    def _fit(self, archs: list, y: np.ndarray) -> None:
        self.model_ = Ridge(alpha=float(self.alpha)).fit(self.space.features(archs), y)


@register_predictor("random_forest")
class RandomForestPredictor(OneHotBaseline):
    """Random forest regression on the one-hot encoding of the space.

    Args:
        space: the search space of the architectures.
        n_estimators: number of trees.
        min_samples_leaf: minimum training architectures per leaf.
        max_features: fraction of the features tried at each split.
        random_state: seed of the bootstrap samples and feature draws.

    Attributes:
        model_: the fitted :class:`sklearn.ensemble.RandomForestRegressor`.
    """

    _parameter_constraints: dict = {**BasePredictor._parameter_constraints,
                                    "n_estimators": POSITIVE_INT, "min_samples_leaf": POSITIVE_INT,
                                    "max_features": [Interval(Real, 0, 1, closed="right")],
                                    "random_state": RANDOM_STATE}

    def __init__(self, space=None, *, n_estimators: int = 100, min_samples_leaf: int = 1,
                 max_features: float = 1.0, random_state=None):
        self.space = space
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state

    def _fit(self, archs: list, y: np.ndarray) -> None:
        seed = self.random_state
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2 ** 31))
        self.model_ = RandomForestRegressor(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_features=float(self.max_features), random_state=seed,
        ).fit(self.space.features(archs), y)

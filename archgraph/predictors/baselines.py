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

    def _fitted_state(self) -> dict:
        m = self.model_
        return {**super()._fitted_state(),
                "model_": {"coef_": np.asarray(m.coef_), "intercept_": np.asarray(m.intercept_),
                           "n_features_in_": int(m.n_features_in_)}}

    def _restore_fitted(self, state: dict) -> None:
        fitted = state.pop("model_")
        model = Ridge(alpha=float(self.alpha))
        model.coef_ = fitted["coef_"]
        model.intercept_ = (float(fitted["intercept_"]) if fitted["intercept_"].ndim == 0
                            else fitted["intercept_"])
        model.n_features_in_ = fitted["n_features_in_"]
        super()._restore_fitted({**state, "model_": model})


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

    def _fitted_state(self) -> dict:
        """The forest as numbers: every tree's node arrays (scikit-learn's ``Tree`` state,
        one array per node field, the trees concatenated) and per-tree node counts, depths
        and seeds."""
        m = self.model_
        states = [t.tree_.__getstate__() for t in m.estimators_]
        nodes = np.concatenate([st["nodes"] for st in states])
        forest = {f"nodes.{field}": np.ascontiguousarray(nodes[field])
                  for field in nodes.dtype.names}
        forest["values"] = np.concatenate([st["values"] for st in states])
        forest["node_count"] = np.array([st["node_count"] for st in states], dtype=np.int64)
        forest["max_depth"] = np.array([st["max_depth"] for st in states], dtype=np.int64)
        forest["tree_seeds"] = np.array([t.random_state for t in m.estimators_], dtype=np.int64)
        forest["n_features_in_"] = int(m.n_features_in_)
        forest["n_outputs_"] = int(m.n_outputs_)
        forest["max_features_"] = m.estimators_[0].max_features_
        return {**super()._fitted_state(), "model_": forest}

    def _restore_fitted(self, state: dict) -> None:
        from sklearn.tree import DecisionTreeRegressor
        from sklearn.tree._tree import NODE_DTYPE, Tree

        forest = state.pop("model_")
        seed = self.random_state
        if isinstance(seed, np.random.Generator):
            seed = None  # the forest's own seed was drawn from it at fit time
        model = RandomForestRegressor(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_features=float(self.max_features), random_state=seed)
        n_features, n_outputs = forest["n_features_in_"], forest["n_outputs_"]
        counts = forest["node_count"]
        if len(counts) != self.n_estimators or counts.sum() != len(forest["values"]):
            raise ValueError(f"the forest holds {len(counts)} trees of {counts.sum()} nodes "
                             f"and {len(forest['values'])} node values, expected "
                             f"{self.n_estimators} trees")
        model.estimator_ = DecisionTreeRegressor()
        model.estimators_ = []
        starts = np.concatenate([[0], np.cumsum(counts)])
        for t, (lo, hi) in enumerate(zip(starts[:-1], starts[1:])):
            nodes = np.empty(hi - lo, dtype=NODE_DTYPE)
            for field in NODE_DTYPE.names:
                nodes[field] = forest[f"nodes.{field}"][lo:hi]
            tree = Tree(n_features, np.ones(n_outputs, dtype=np.intp), n_outputs)
            tree.__setstate__({"max_depth": int(forest["max_depth"][t]),
                               "node_count": int(hi - lo), "nodes": nodes,
                               "values": np.ascontiguousarray(forest["values"][lo:hi])})
            est = DecisionTreeRegressor(min_samples_leaf=self.min_samples_leaf,
                                        max_features=float(self.max_features),
                                        random_state=int(forest["tree_seeds"][t]))
            est.tree_ = tree
            est.n_features_in_ = n_features
            est.n_outputs_ = n_outputs
            est.max_features_ = forest["max_features_"]
            model.estimators_.append(est)
        model.n_features_in_ = n_features
        model.n_outputs_ = n_outputs
        super()._restore_fitted({**state, "model_": model})

"""Shared checks of the predictors: the space argument, architectures, targets, fitted state."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from archgraph.spaces.product_space import ProductSpace
from archgraph.spaces.search_space import SearchSpace
from archgraph.utils.validation import NotFittedError, check_finite


class BasePredictor(RegressorMixin, BaseEstimator):
    """Base of the predictors of ``archgraph.predictors`` (scikit-learn conventions).

    ``fit(archs, y)`` takes a sequence of architectures of ``self.space`` (a list, so
    scikit-learn's cross-validation can index it) and their accuracies; ``predict(archs)``
    returns a float array ``[len(archs)]``. Subclasses implement ``_fit`` and ``_predict``.
    """

    def _check_space(self) -> SearchSpace:
        if not isinstance(self.space, SearchSpace):
            raise TypeError(f"The 'space' parameter of {type(self).__name__} must be a "
                            f"SearchSpace (e.g. get_search_space('nasbench201')). "
                            f"Got {type(self.space).__name__} instead.")
        return self.space

    def _check_archs(self, archs, name: str = "archs") -> list:
        """``archs`` as a non-empty list, each validated against the space."""
        owner = type(self).__name__
        if isinstance(archs, (str, bytes)) or not isinstance(archs, Iterable):
            raise TypeError(f"The '{name}' argument of {owner} must be a sequence of "
                            f"architectures. Got {type(archs).__name__} instead.")
        archs = list(archs)
        if not archs:
            raise ValueError(f"The '{name}' argument of {owner} must hold at least one "
                             f"architecture. Got an empty sequence.")
        space = self._check_space()
        if isinstance(space, ProductSpace):
            space.encode(archs)  # vectorized-friendly validation of every arch
        else:
            for a in archs:
                space.validate(a)
        return archs

    def _check_xy(self, archs, y, min_samples: int = 2) -> tuple[list, np.ndarray]:
        owner = type(self).__name__
        archs = self._check_archs(archs)
        y = check_finite(y, "y", owner)
        if len(y) != len(archs):
            raise ValueError(f"The 'archs' and 'y' arguments of {owner}.fit must have the same "
                             f"length. Got {len(archs)} architectures and {len(y)} targets.")
        if len(y) < min_samples:
            raise ValueError(f"{owner}.fit needs at least {min_samples} architectures. "
                             f"Got {len(y)}.")
        return archs, y

    def _check_is_fitted(self) -> None:
        if not hasattr(self, "n_train_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 f"'fit' with appropriate arguments before using this "
                                 f"estimator.")

    def fit(self, archs: Sequence, y) -> "BasePredictor":
        """Fit on architectures ``archs`` and their accuracies ``y``; returns ``self``."""
        archs, y = self._check_xy(archs, y)
        self._fit(archs, y)
        self.n_train_ = len(archs)
        return self

    def predict(self, archs: Sequence) -> np.ndarray:
        """Predicted accuracies ``[len(archs)]`` of ``archs``."""
        self._check_is_fitted()
        return np.asarray(self._predict(self._check_archs(archs)), dtype=np.float64)

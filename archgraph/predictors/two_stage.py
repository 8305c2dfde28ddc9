"""The two-stage neural predictor (Wen et al., ECCV 2020): a classifier filters out
architectures below an accuracy threshold, a regressor ranks the rest."""
from __future__ import annotations

from numbers import Real
from typing import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from archgraph.predictors.base import RANDOM_STATE, BasePredictor, check_targets
from archgraph.predictors.neural import NeuralPredictor
from archgraph.predictors.neural_classifier import NeuralClassifier
from archgraph.predictors.registry import register_predictor
from archgraph.utils.validation import check_random_state


@register_predictor("two_stage")
class TwoStagePredictor(BasePredictor):
    r"""Classifier -> regressor cascade of Wen et al., `"Neural Predictor for Neural
    Architecture Search" <https://arxiv.org/abs/1912.00848>`_ (ECCV 2020), Section 3.2: a
    meta-estimator over two estimators, like scikit-learn's ``TransformedTargetRegressor``.

    Stage 1: a clone of ``classifier`` is fitted on all ``N`` pairs to predict whether an
    architecture reaches ``threshold``. Stage 2: a clone of ``regressor`` (any predictor) is
    fitted only on the training architectures with ``y >= threshold``, so its capacity goes to
    the region that matters. ``predict`` returns the regressor's value (at least
    ``threshold``) for accepted architectures (classifier probability ``p >= 0.5``) and
    ``threshold - s (1 - p)`` for rejected ones (``s`` the training targets' standard
    deviation): every rejected architecture ranks below every accepted one, rejected ones by
    their probability.

    Args:
        space: the search space of the architectures; set on both stages, whose own
            ``space`` stays ``None``.
        classifier: an unfitted binary classifier of architectures with ``predict_proba``;
            ``None`` = :class:`NeuralClassifier` with its defaults (the paper's GCN).
        regressor: an unfitted predictor; ``None`` = :class:`NeuralPredictor` with its
            defaults.
        threshold: accuracy (in the units of ``y``) separating the two classes.
        random_state: if not ``None``, seeds both stages (it replaces their own
            ``random_state``: the classifier draws from it first, then the regressor gets
            the next seed); ``None`` leaves the stages' own ``random_state``.

    Attributes:
        classifier_: the fitted classifier.
        regressor_: the fitted regressor of the accepted region.
        y_std_: standard deviation of the training targets.
        n_positive_: training architectures with ``y >= threshold``.
        n_train_: number of training architectures.
    """

    _parameter_constraints: dict = {
        **BasePredictor._parameter_constraints,
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "regressor": [HasMethods(["fit", "predict"]), None],
        "threshold": [Interval(Real, None, None, closed="neither")],
        "random_state": RANDOM_STATE,
    }

    def __init__(self, space=None, *, classifier=None, regressor=None,
                 threshold: float | None = None, random_state=None):
        self.space = space
        self.classifier = classifier
        self.regressor = regressor
        self.threshold = threshold
        self.random_state = random_state

    def _stage(self, name: str, default, random_state):
        """An unfitted clone of stage ``name`` on ``self.space``, seeded by ``random_state``
        unless the cascade's own ``random_state`` is ``None``."""
        given = getattr(self, name)
        est = clone(default if given is None else given)
        params = est.get_params(deep=False)
        if params.get("space") is not None:
            raise ValueError(f"The '{name}' parameter of TwoStagePredictor must leave its "
                             f"'space' unset (None): TwoStagePredictor passes its own space "
                             f"to both stages. Got {type(est).__name__} with "
                             f"space={params['space']!r}.")
        update = {"space": self.space} if "space" in params else {}
        if self.random_state is not None and "random_state" in params:
            update["random_state"] = random_state
        return est.set_params(**update)

    def _fit(self, archs: list, y: np.ndarray) -> None:
        threshold = float(self.threshold)
        positive = y >= threshold  # [N]
        n_pos = int(positive.sum())
        if n_pos < 2 or n_pos == len(y):
            problem = ("leaves no negative class" if n_pos == len(y) else
                       "leaves no positive class" if n_pos == 0 else
                       "leaves a single positive")
            raise ValueError(f"The 'threshold' parameter of TwoStagePredictor ({threshold}) "
                             f"{problem}: {n_pos} of {len(y)} targets are >= it (the regressor "
                             f"needs at least 2, the classifier at least one below). Targets "
                             f"lie in [{y.min()}, {y.max()}].")
        rng = None if self.random_state is None else check_random_state(self.random_state)
        # the classifier draws its seeds from rng, the regressor's seed is the next draw
        self.classifier_ = self._stage("classifier", NeuralClassifier(), rng).fit(archs,
                                                                                positive)
        reg_seed = None if rng is None else int(rng.integers(2 ** 31))
        self.regressor_ = self._stage("regressor", NeuralPredictor(), reg_seed).fit(
            [a for a, keep in zip(archs, positive) if keep], y[positive])
        self.y_std_ = float(y.std())
        self.n_positive_ = n_pos

    def accept_proba(self, archs: Sequence) -> np.ndarray:
        """Classifier probability ``[n]`` that each architecture reaches ``threshold``."""
        check_is_fitted(self)
        return self.classifier_.predict_proba(self._check_archs(archs))[:, 1]

    def _predict(self, archs: list) -> np.ndarray:
        prob = self.accept_proba(archs)
        accepted = prob >= 0.5
        out = self.threshold - self.y_std_ * (1.0 - prob)  # rejected: below the threshold
        if accepted.any():
            reg = self.regressor_.predict([a for a, k in zip(archs, accepted) if k])
            out[accepted] = np.maximum(reg, self.threshold)
        return out

    def false_negative_rate(self, archs: Sequence, y) -> float:
        """Fraction of the architectures with ``y >= threshold`` that the classifier rejects
        (on held-out data: how many good models stage 1 throws away)."""
        check_is_fitted(self)
        archs = self._check_archs(archs)
        y = check_targets(archs, y, "TwoStagePredictor.false_negative_rate")
        positive = y >= self.threshold
        if not positive.any():
            raise ValueError(f"The 'y' argument of TwoStagePredictor.false_negative_rate holds "
                             f"no target >= threshold {self.threshold}: the rate is undefined.")
        return float(np.mean(self.accept_proba([a for a, k in zip(archs, positive) if k]) < 0.5))

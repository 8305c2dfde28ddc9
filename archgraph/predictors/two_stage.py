"""The two-stage neural predictor (Wen et al., ECCV 2020): a GCN classifier filters out
architectures below an accuracy threshold, a GCN regressor ranks the rest."""
from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import torch

from archgraph.graphs.arch_batch import ArchGraphBatcher
from archgraph.predictors.neural import (NeuralPredictor, build_net, check_net_params,
                                         predict_graph_net, train_graph_net)
from archgraph.predictors.registry import register_predictor
from archgraph.utils.validation import check_finite, check_random_state


@register_predictor("two_stage")
class TwoStagePredictor(NeuralPredictor):
    r"""Classifier -> regressor cascade of Wen et al., `"Neural Predictor for Neural
    Architecture Search" <https://arxiv.org/abs/1912.00848>`_ (ECCV 2020), Section 3.2.

    Stage 1: a :class:`~archgraph.nn.NeuralPredictorNet` (same GCN trunk design, its own
    one-logit head) is trained with binary cross-entropy on all ``N`` pairs to predict whether
    an architecture reaches ``threshold``. Stage 2: a :class:`NeuralPredictor` is trained only
    on the training architectures with ``y >= threshold``, so its capacity goes to the region
    that matters. ``predict`` returns the regressor's value (at least ``threshold``) for
    accepted architectures (classifier probability ``p >= 0.5``) and
    ``threshold - s (1 - p)`` for rejected ones (``s`` the training targets' standard
    deviation): every rejected architecture ranks below every accepted one, rejected ones by
    their probability.

    Args:
        space: the search space of the architectures.
        threshold: accuracy (in the units of ``y``) separating the two classes.
        num_layers, hidden_channels, fc_channels, epochs, batch_size, lr, weight_decay,
        output_range, device, verbose, random_state: as in :class:`NeuralPredictor`; they
            configure both stages (``output_range`` the regressor only).

    Attributes:
        classifier_: the fitted classifier network (outputs logits).
        regressor_: the fitted :class:`NeuralPredictor` of the accepted region.
        n_positive_: training architectures with ``y >= threshold``.
    """

    def __init__(self, space=None, threshold: float | None = None, num_layers: int = 3,
                 hidden_channels: int = 144, fc_channels: Sequence[int] = (128,),
                 epochs: int = 300, batch_size: int = 128, lr: float = 3e-3,
                 weight_decay: float = 1e-4, output_range: tuple[float, float] | None = None,
                 device="cpu", verbose: bool = False, random_state=None):
        super().__init__(space=space, num_layers=num_layers, hidden_channels=hidden_channels,
                         fc_channels=fc_channels, epochs=epochs, batch_size=batch_size, lr=lr,
                         weight_decay=weight_decay, output_range=output_range, device=device,
                         verbose=verbose, random_state=random_state)
        self.threshold = threshold

    def _check_threshold(self) -> float:
        t = self.threshold
        if not isinstance(t, numbers.Real) or isinstance(t, bool) or not np.isfinite(t):
            exc = ValueError if isinstance(t, numbers.Real) else TypeError
            raise exc(f"The 'threshold' parameter of TwoStagePredictor must be a finite float "
                      f"in the units of y. Got {t!r} instead.")
        return float(t)

    def _fit(self, archs: list, y: np.ndarray) -> None:
        p = check_net_params(self, "TwoStagePredictor")
        threshold = self._check_threshold()
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
        rng = check_random_state(self.random_state)
        init_seed, order_seed, reg_seed = (int(s) for s in rng.integers(2 ** 31, size=3))
        graphs = self.space.to_graphs(archs, positive.astype(np.float64))
        self.classifier_ = build_net(self.space, p, None, init_seed)
        bce = torch.nn.BCEWithLogitsLoss()
        self.loss_curve_ = train_graph_net(self.classifier_, graphs, bce, p, order_seed,
                                           self.verbose, "TwoStagePredictor classifier")
        params = {k: v for k, v in self.get_params().items() if k != "threshold"}
        params["random_state"] = reg_seed
        self.regressor_ = NeuralPredictor(**params).fit(
            [a for a, keep in zip(archs, positive) if keep], y[positive])
        self.y_std_ = float(y.std())
        self.n_positive_ = n_pos
        self.batcher_ = ArchGraphBatcher(self.space)
        self.device_ = p["device"]

    def accept_proba(self, archs: Sequence) -> np.ndarray:
        """Classifier probability ``[n]`` that each architecture reaches ``threshold``."""
        self._check_is_fitted()
        archs = self._check_archs(archs)
        logits = predict_graph_net(self.classifier_, self.batcher_, archs, self.device_)
        return 1.0 / (1.0 + np.exp(-logits))

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
        self._check_is_fitted()
        archs = self._check_archs(archs)
        y = check_finite(y, "y", "TwoStagePredictor.false_negative_rate")
        if len(y) != len(archs):
            raise ValueError(f"The 'archs' and 'y' arguments of "
                             f"TwoStagePredictor.false_negative_rate must have the same length. "
                             f"Got {len(archs)} architectures and {len(y)} targets.")
        positive = y >= self.threshold
        if not positive.any():
            raise ValueError(f"The 'y' argument of TwoStagePredictor.false_negative_rate holds "
                             f"no target >= threshold {self.threshold}: the rate is undefined.")
        return float(np.mean(self.accept_proba([a for a, k in zip(archs, positive) if k]) < 0.5))

"""The classifier stage of the two-stage neural predictor (Wen et al., ECCV 2020): the GCN of
:class:`~archgraph.predictors.NeuralPredictor` with one logit, trained with cross-entropy."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from archgraph.graphs.arch_batch import ArchGraphBatcher
from archgraph.predictors.base import ArchEstimator, check_targets
from archgraph.predictors.neural import (
    NET_CONSTRAINTS,
    build_net,
    fitted_net_state,
    net_params,
    predict_graph_net,
    restore_fitted_net,
    train_graph_net,
)
from archgraph.utils.validation import check_random_state


class NeuralClassifier(ClassifierMixin, ArchEstimator):
    r"""Binary classifier over architectures: a :class:`~archgraph.nn.NeuralPredictorNet`
    (bidirectional GCN, mean pool, fully connected layers) with a one-logit head, trained
    with binary cross-entropy; stage 1 of :class:`~archgraph.predictors.TwoStagePredictor`
    (Wen et al., `"Neural Predictor for Neural Architecture Search"
    <https://arxiv.org/abs/1912.00848>`_, ECCV 2020, Section 3.2).

    ``fit(archs, y)`` takes two classes in ``y`` (e.g. booleans ``accuracy >= threshold``);
    ``classes_[1]`` is the positive one, whose probability is ``predict_proba(archs)[:, 1]``.
    A classifier, so not in the registry of predictors (which all regress accuracies).

    Args:
        space, num_layers, hidden_channels, fc_channels, epochs, batch_size, lr,
        weight_decay, device, verbose, random_state: as in
            :class:`~archgraph.predictors.NeuralPredictor` (same defaults).

    Attributes:
        net_: the fitted network (outputs logits).
        classes_: the two classes, sorted.
        loss_curve_: training cross-entropy per epoch.
        n_train_: number of training architectures.
    """

    _parameter_constraints: dict = {**ArchEstimator._parameter_constraints, **NET_CONSTRAINTS}

    def __init__(self, space=None, *, num_layers: int = 3, hidden_channels: int = 144,
                 fc_channels: Sequence[int] = (128,), epochs: int = 300, batch_size: int = 128,
                 lr: float = 3e-3, weight_decay: float = 1e-4, device="cpu",
                 verbose: bool = False, random_state=None):
        self.space = space
        self.num_layers = num_layers
        self.hidden_channels = hidden_channels
        self.fc_channels = fc_channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _check_y(self, archs: list, y) -> np.ndarray:
        owner = f"{type(self).__name__}.fit"
        check_targets(archs, y, owner)  # one finite number (or bool) per architecture
        y = np.asarray(y)
        classes = np.unique(y)
        if len(classes) != 2:
            raise ValueError(f"The 'y' argument of {owner} must hold exactly 2 classes. Got "
                             f"{len(classes)}: {classes[:5].tolist()}.")
        return y

    def _fit(self, archs: list, y: np.ndarray) -> None:
        p = net_params(self)
        self.classes_ = np.unique(y)
        rng = check_random_state(self.random_state)
        init_seed, order_seed = (int(s) for s in rng.integers(2 ** 31, size=2))
        graphs = self.space.to_graphs(archs, (y == self.classes_[1]).astype(np.float64))
        self.net_ = build_net(self.space, p, None, init_seed)
        self.loss_curve_ = train_graph_net(self.net_, graphs, torch.nn.BCEWithLogitsLoss(), p,
                                           order_seed, self.verbose, type(self).__name__)
        self.batcher_ = ArchGraphBatcher(self.space)
        self.device_ = p["device"]

    def _fitted_state(self) -> dict:
        return fitted_net_state(self)

    def _restore_fitted(self, state: dict) -> None:
        restore_fitted_net(self, state, None)

    def decision_function(self, archs: Sequence) -> np.ndarray:
        """Logits ``[len(archs)]`` of the positive class ``classes_[1]``."""
        check_is_fitted(self)
        return predict_graph_net(self.net_, self.batcher_, self._check_archs(archs),
                                 self.device_)

    def predict_proba(self, archs: Sequence) -> np.ndarray:
        """Probabilities ``[len(archs), 2]`` of ``classes_`` (columns in that order)."""
        positive = 1.0 / (1.0 + np.exp(-self.decision_function(archs)))
        return np.stack([1.0 - positive, positive], axis=1)

    def predict(self, archs: Sequence) -> np.ndarray:
        """The more probable class of each architecture."""
        return self.classes_[(self.decision_function(archs) >= 0).astype(int)]

r"""Space GCN predictor: denoise accuracy estimates over the graph of a whole (sub)space.

Chen et al., "Fitting the Search Space of Weight-sharing NAS with Graph Convolutional
Networks" (AAAI 2021, https://arxiv.org/abs/2004.08423). A supernet's estimate of an
architecture is :math:`z = a z_{true} + b + \epsilon` with a per-architecture error
:math:`\epsilon`. Architectures differing in one layer are joined by an edge; a GCN fitted to
the noisy estimates of a few labelled nodes (semi-supervised node regression, Kipf & Welling,
ICLR 2017) shares information between neighbours, so its predictions average
:math:`\epsilon` away and rank the whole space better than the estimates themselves.
"""
from __future__ import annotations

import math
import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import trange

from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.graphs.similarity import check_similarity
from archgraph.graphs.space_graph import (
    FEATURES,
    SymmetricSparseAdjacency,
    check_product_space,
    materialized_memory_gb,
    normalized_adjacency,
    num_node_features,
    space_graph,
    space_node_features,
)
from archgraph.nn.models.space_gcn import SpaceGCN
from archgraph.predictors.base import (
    NON_NEGATIVE_FLOAT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    RANDOM_STATE,
    BasePredictor,
    check_device,
    check_targets,
)
from archgraph.predictors.registry import register_predictor
from archgraph.spaces import ProductSpace, get_search_space
from archgraph.utils.memory import check_memory
from archgraph.utils.validation import check_random_state


class PredictionRangeWarning(UserWarning):
    """Predictions far outside the range of the targets a predictor was fitted on."""


def resolve_space(space, archs: list, owner: str) -> ProductSpace:
    """``space``, or if ``None`` the registered product space all of ``archs`` name."""
    if space is not None:
        return space
    names = {getattr(a, "space", None) for a in archs}
    if len(names) != 1 or not isinstance(next(iter(names)), str):
        raise ValueError(f"The 'space' parameter of {owner} is None, so the labelled "
                         f"architectures must all name one registered space. Got spaces "
                         f"{sorted(map(str, names))}.")
    return check_product_space(get_search_space(next(iter(names))), owner)


class TransductivePredictor(BasePredictor):
    """Base of the predictors that fit a value to every node of the space graph at once
    (``predictions_ [len(space_)]``): ``predict`` and whole-space prediction look them up."""

    def predict(self, archs) -> np.ndarray:
        """Predicted values ``[n]`` of architectures of the fitted space."""
        check_is_fitted(self)
        return self.predictions_[self.space_.indices(list(archs))].astype(np.float64)

    def _predict_choices(self, space, choices: np.ndarray) -> np.ndarray:
        fitted = self.space_
        if fitted is fitted.root:  # node index = position of the root choices
            full = space.parent_choices(choices) if space is not space.root else choices
            idx = np.ravel_multi_index(full.T, fitted.num_options)
        else:
            idx = fitted.indices(space.decode(choices))
        return self.predictions_[idx].astype(np.float64)


@register_predictor("space_gcn")
class SpaceGCNPredictor(TransductivePredictor):
    """Transductive GCN regressor over the Hamming-1 graph of a product (sub)space.

    ``fit(archs, y)`` trains on the labelled nodes with an L1 loss (targets standardized), the
    whole graph in every forward pass, then predicts every node of the space once;
    ``predict(archs)`` reads those predictions and :meth:`lookup_table` tabulates them with
    the space's costs.

    Args:
        space: the :class:`~archgraph.spaces.ProductSpace` or ``Subspace`` to fit; ``None``
            takes the registered space the labelled architectures belong to.
        hidden_channels: width of the hidden GCN layers.
        num_layers: graph convolutions (the last one outputs the prediction); more layers smooth
            over larger neighbourhoods.
        epochs: full-batch training steps.
        lr: Adam learning rate.
        weight_decay: Adam L2 penalty.
        dropout: dropout on each layer's input.
        features: node features, ``"gray"`` or ``"gray+onehot"``.
        similarity: per-layer ``[O_l, O_l]`` edge weights (``archgraph.graphs.similarity``);
            ``None`` = uniform.
        graph: ``"implicit"`` (Kronecker-sum operator, no edges stored; also the faster one,
            ~5x on NAS-Bench-201) or ``"materialized"`` (PyG edge list, sparse matmul). Both
            give the same numbers up to float rounding.
        device: torch device of the training.
        random_state: seed of the weight initialization and dropout.
        max_memory_gb: memory budget checked before allocating the graph and activations;
            ``None`` = 90% of the available memory.
        verbose: show a progress bar over epochs.
        clip: clip the predictions to the range of the labelled targets. Either way, a fit
            whose predictions leave that range by more than 1% of its width warns
            (:class:`PredictionRangeWarning`): the GCN extrapolates, and such values are
            ranking scores rather than accuracies to trust.

    Attributes:
        space_: the fitted space.
        model_: the trained :class:`~archgraph.nn.models.SpaceGCN`.
        predictions_: predicted value of every node in ``space_`` index order, ``[N]``.
        graph_: the graph form used (``"materialized"`` or ``"implicit"``).
        memory_estimate_gb_: the estimate checked against ``max_memory_gb``.
        loss_curve_: training L1 loss (standardized units) per epoch.
        n_train_: number of labelled architectures.
    """

    _parameter_constraints: dict = {
        "space": [ProductSpace, None], "hidden_channels": POSITIVE_INT,
        "num_layers": POSITIVE_INT, "epochs": POSITIVE_INT, "lr": POSITIVE_FLOAT,
        "weight_decay": NON_NEGATIVE_FLOAT, "dropout": [Interval(Real, 0, 1, closed="left")],
        "features": [StrOptions(set(FEATURES))], "similarity": ["array-like", None],
        "graph": [StrOptions({"implicit", "materialized"})], "device": [str, torch.device],
        "random_state": RANDOM_STATE, "max_memory_gb": [*POSITIVE_FLOAT, None],
        "verbose": ["verbose"], "clip": ["boolean"],
    }

    def __init__(self, space=None, *, hidden_channels: int = 32, num_layers: int = 2,
                 epochs: int = 300,
                 lr: float = 0.01, weight_decay: float = 5e-4, dropout: float = 0.0,
                 features: str = "gray", similarity=None, graph: str = "implicit",
                 device="cpu", random_state=None, max_memory_gb: float | None = None,
                 verbose: bool = False, clip: bool = False):
        self.space = space
        self.clip = clip
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.features = features
        self.similarity = similarity
        self.graph = graph
        self.device = device
        self.random_state = random_state
        self.max_memory_gb = max_memory_gb
        self.verbose = verbose

    # -- helpers ---------------------------------------------------------------------------
    def _resolve_space(self, archs: list):
        return resolve_space(self.space, archs, type(self).__name__)

    def memory_estimate_gb(self, space, graph: str) -> float:
        """Estimated peak memory (GiB) of fitting ``space`` in the given graph form."""
        n = len(space)
        d = num_node_features(space.num_options, self.features)
        # input and propagated features [N, d]; per hidden layer its activation, gradient and
        # propagation buffers [N, hidden]; 1-channel outputs and prediction buffers.
        # Parameters and optimizer state are negligible.
        per_node = 2 * d + 4 * self.hidden_channels * max(1, self.num_layers - 1) + 12
        gb = n * 4 * per_node / 2 ** 30
        if graph == "materialized":
            gb += materialized_memory_gb(space.num_options, self.similarity, self.features)
        return gb

    # -- estimator API ---------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, archs, y) -> "SpaceGCNPredictor":
        """Train on labelled architectures ``archs`` of the space with targets ``y``."""
        owner = type(self).__name__
        archs = list(archs)
        y = check_targets(archs, y, f"{owner}.fit")
        space = self._resolve_space(archs)
        nodes = space.indices(archs)  # [M]; rejects architectures outside the (sub)space
        if len(np.unique(nodes)) < 2:
            raise ValueError(f"{owner}.fit needs at least 2 distinct labelled architectures. "
                             f"Got {len(np.unique(nodes))}.")
        if self.similarity is not None:
            check_similarity(self.similarity, space.num_options, owner)
        graph = self.graph
        estimate = self.memory_estimate_gb(space, graph)
        check_memory(estimate, self.max_memory_gb,
                     f"Fitting {owner} on the {len(space):,}-node space ({graph} graph)")
        device = check_device(self.device, owner)
        seed = int(check_random_state(self.random_state).integers(2 ** 31))

        if graph == "materialized":
            data = space_graph(space, self.similarity, self.features, max_memory_gb=math.inf)
            adj = SymmetricSparseAdjacency(normalized_adjacency(data).to(device))
            x = data.x.to(device)
            del data
        else:
            adj = KroneckerAdjacency.from_space(space, self.similarity, device=device)
            x = torch.from_numpy(space_node_features(space, self.features)).to(device)
        ax = adj @ x  # [N, d]: the first layer's propagation, done once (input is fixed)
        del x
        mean, std = float(y.mean()), float(y.std())
        std = std if std > 0 else 1.0
        target = torch.as_tensor((y - mean) / std, dtype=torch.float32, device=device)  # [M]
        index = torch.as_tensor(nodes, device=device)

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = SpaceGCN(ax.shape[1], self.hidden_channels, self.num_layers,
                             self.dropout).to(device)
            optimizer = torch.optim.Adam(model.parameters(), lr=self.lr,
                                         weight_decay=self.weight_decay)
            self.loss_curve_ = []
            for _ in trange(self.epochs, desc=owner, disable=not self.verbose):
                model.train()
                optimizer.zero_grad()
                out = model(ax, adj, x_propagated=True)  # [N]
                loss = torch.nn.functional.l1_loss(out[index], target)
                loss.backward()
                optimizer.step()
                self.loss_curve_.append(loss.item())
            model.eval()
            with torch.no_grad():
                pred = model(ax, adj, x_propagated=True)  # [N]
        self.predictions_ = self._check_range(pred.cpu().double().numpy() * std + mean, y)
        self.model_ = model
        self.space_ = space
        self.graph_ = graph
        self.memory_estimate_gb_ = estimate
        self.n_features_in_ = ax.shape[1]
        self.n_train_ = len(archs)
        return self


    def _check_range(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Warn when predictions leave the labels' range by more than 1% of its width;
        clip them to it if ``clip``."""
        low, high = float(y.min()), float(y.max())
        margin = 0.01 * (high - low)
        far = (pred < low - margin) | (pred > high + margin)
        if far.any():
            warnings.warn(f"{far.sum()} of {len(pred)} predictions of {type(self).__name__} "
                          f"lie outside the labelled targets' range [{low:.4g}, {high:.4g}] by "
                          f"more than 1% of its width (from {pred.min():.4g} to "
                          f"{pred.max():.4g}): they rank architectures but are not values to "
                          f"trust{'; clipped to the range' if self.clip else ''}"
                          f"{'' if self.clip else ' (clip=True clips them to the range)'}.",
                          PredictionRangeWarning, stacklevel=4)  # the caller of fit
        return np.clip(pred, low, high) if self.clip else pred

    def _fitted_state(self) -> dict:
        state = super()._fitted_state()
        state["model_"] = {k: v.detach().cpu() for k, v in self.model_.state_dict().items()}
        return state

    def _restore_fitted(self, state: dict) -> None:
        weights = state.pop("model_")
        model = SpaceGCN(int(state["n_features_in_"]), self.hidden_channels, self.num_layers,
                         self.dropout)
        model.load_state_dict(weights)  # strict: a missing or misshapen tensor is an error
        super()._restore_fitted({**state, "model_": model.eval()})

    def lookup_table(self):
        """:class:`~archgraph.lookup.LookupTable` of every node: predictions and costs."""
        from archgraph.lookup import LookupTable

        check_is_fitted(self)
        return LookupTable.from_predictions(self.space_, None, self.predictions_,
                                            costs=self.space_.cost_metrics)

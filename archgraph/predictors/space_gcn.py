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

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from tqdm.auto import trange

from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.graphs.similarity import check_similarity
from archgraph.graphs.space_graph import (FEATURES, SymmetricSparseAdjacency,
                                          check_product_space, materialized_memory_gb,
                                          normalized_adjacency, num_node_features, space_graph,
                                          space_node_features)
from archgraph.nn.models.space_gcn import SpaceGCN
from archgraph.predictors.registry import register_predictor
from archgraph.utils.memory import check_memory
from archgraph.utils.validation import (NotFittedError, check_finite, check_int, check_one_of,
                                        check_positive, check_random_state)


@register_predictor("space_gcn")
class SpaceGCNPredictor(RegressorMixin, BaseEstimator):
    """Transductive GCN regressor over the Hamming-1 graph of a product (sub)space.

    ``fit(archs, y)`` trains on the labelled nodes with an L1 loss (targets standardized), the
    whole graph in every forward pass, then predicts every node of the space once;
    ``predict(archs)`` reads those predictions and :meth:`lookup_table` tabulates them with
    the space's costs.

    Args:
        space: the :class:`~archgraph.spaces.ProductSpace` or ``Subspace`` to fit; ``None``
            takes the registered space the labelled architectures belong to.
        hidden: width of the hidden GCN layers.
        layers: graph convolutions (the last one outputs the prediction); more layers smooth
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

    Attributes:
        space_: the fitted space.
        model_: the trained :class:`~archgraph.nn.models.SpaceGCN`.
        predictions_: predicted value of every node in ``space_`` index order, ``[N]``.
        graph_: the graph form used (``"materialized"`` or ``"implicit"``).
        memory_estimate_gb_: the estimate checked against ``max_memory_gb``.
        loss_curve_: training L1 loss (standardized units) per epoch.
    """

    def __init__(self, space=None, hidden: int = 32, layers: int = 2, epochs: int = 300,
                 lr: float = 0.01, weight_decay: float = 5e-4, dropout: float = 0.0,
                 features: str = "gray", similarity=None, graph: str = "implicit",
                 device="cpu", random_state=None, max_memory_gb: float | None = None,
                 verbose: bool = False):
        self.space = space
        self.hidden = hidden
        self.layers = layers
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
        if self.space is not None:
            return check_product_space(self.space, type(self).__name__)
        from archgraph.spaces import get_search_space

        names = {getattr(a, "space", None) for a in archs}
        if len(names) != 1 or not isinstance(next(iter(names)), str):
            raise ValueError(f"The 'space' parameter of {type(self).__name__} is None, so the "
                             f"labelled architectures must all name one registered space. Got "
                             f"spaces {sorted(map(str, names))}.")
        return check_product_space(get_search_space(next(iter(names))), type(self).__name__)

    def memory_estimate_gb(self, space, graph: str) -> float:
        """Estimated peak memory (GiB) of fitting ``space`` in the given graph form."""
        n = len(space)
        d = num_node_features(space.num_options, self.features)
        # input and propagated features [N, d]; per hidden layer its activation, gradient and
        # propagation buffers [N, hidden]; 1-channel outputs and prediction buffers.
        # Parameters and optimizer state are negligible.
        per_node = 2 * d + 4 * self.hidden * max(1, self.layers - 1) + 12
        gb = n * 4 * per_node / 2 ** 30
        if graph == "materialized":
            gb += materialized_memory_gb(space.num_options, self.similarity, self.features)
        return gb

    def _check_params(self) -> None:
        owner = type(self).__name__
        check_int(self.hidden, "hidden", owner, low=1)
        check_int(self.layers, "layers", owner, low=1)
        check_int(self.epochs, "epochs", owner, low=1)
        check_positive(self.lr, "lr", owner)
        check_positive(self.weight_decay, "weight_decay", owner, allow_zero=True)
        if (not isinstance(self.dropout, (int, float)) or isinstance(self.dropout, bool)
                or not 0 <= self.dropout < 1):
            raise ValueError(f"The 'dropout' parameter of {owner} must be a float in [0, 1). "
                             f"Got {self.dropout!r} instead.")
        check_one_of(self.features, "features", FEATURES, owner)
        check_one_of(self.graph, "graph", ("implicit", "materialized"), owner)
        if self.max_memory_gb is not None:
            check_positive(self.max_memory_gb, "max_memory_gb", owner)

    # -- estimator API ---------------------------------------------------------------------
    def fit(self, archs, y) -> "SpaceGCNPredictor":
        """Train on labelled architectures ``archs`` of the space with targets ``y``."""
        owner = type(self).__name__
        self._check_params()
        archs = list(archs)
        y = check_finite(y, "y", owner)
        if len(archs) != len(y):
            raise ValueError(f"The 'archs' and 'y' parameters of {owner}.fit must have the "
                             f"same length. Got {len(archs)} and {len(y)} instead.")
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
        device = torch.device(self.device)
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
            model = SpaceGCN(ax.shape[1], self.hidden, self.layers, self.dropout).to(device)
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
        self.predictions_ = pred.cpu().double().numpy() * std + mean
        self.model_ = model
        self.space_ = space
        self.graph_ = graph
        self.memory_estimate_gb_ = estimate
        self.n_features_in_ = ax.shape[1]
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "predictions_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 f"'fit' with appropriate arguments before using this "
                                 f"estimator.")

    def predict(self, archs) -> np.ndarray:
        """Predicted values ``[n]`` of architectures of the fitted space."""
        self._check_fitted()
        return self.predictions_[self.space_.indices(list(archs))].astype(np.float64)

    def lookup_table(self):
        """:class:`~archgraph.lookup.LookupTable` of every node: predictions and costs."""
        from archgraph.lookup import LookupTable

        self._check_fitted()
        return LookupTable.from_predictions(self.space_, None, self.predictions_,
                                            costs=self.space_.cost_metrics)

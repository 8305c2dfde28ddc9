"""The neural predictor (Wen et al., ECCV 2020): a bidirectional GCN regressor over the DAG of
each architecture, trained on a few (architecture, accuracy) pairs."""
from __future__ import annotations

import numbers
from typing import Callable, Sequence

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader
from tqdm.auto import trange

from archgraph.graphs.arch_batch import ArchGraphBatcher
from archgraph.nn.conv.dag_gcn_conv import BiDAGConv
from archgraph.nn.models.neural_predictor_net import NeuralPredictorNet
from archgraph.nn.models.receptive_field_tables import ReceptiveFieldTables
from archgraph.predictors.base import (
    NON_NEGATIVE_FLOAT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    RANDOM_STATE,
    BasePredictor,
    check_device,
)
from archgraph.predictors.registry import register_predictor
from archgraph.utils.validation import check_random_state

#: architectures per forward pass in ``predict`` (memory ~ chunk x nodes x hidden floats)
PREDICT_CHUNK = 1024
#: largest receptive-field tables (bytes) ``predict_space`` builds before falling back to
#: dense per-architecture inference
TABLES_MAX_BYTES = 2 ** 30
#: ``_parameter_constraints`` of the GCN network and its training (NeuralPredictor and
#: NeuralClassifier); ``fc_channels`` and ``device`` get their content checked by
#: :func:`net_params`
NET_CONSTRAINTS = {"num_layers": POSITIVE_INT, "hidden_channels": POSITIVE_INT,
                   "fc_channels": [tuple, list], "epochs": POSITIVE_INT,
                   "batch_size": POSITIVE_INT, "lr": POSITIVE_FLOAT,
                   "weight_decay": NON_NEGATIVE_FLOAT, "device": [str, torch.device],
                   "verbose": ["verbose"], "random_state": RANDOM_STATE}


def net_params(est) -> dict:
    """The network and training hyperparameters of ``est`` (their types already validated),
    as the plain values :func:`build_net` and :func:`train_graph_net` take."""
    owner = type(est).__name__
    fc = est.fc_channels
    if not all(isinstance(c, numbers.Integral) and not isinstance(c, bool) and c > 0
               for c in fc):
        raise ValueError(f"The 'fc_channels' parameter of {owner} must be a sequence of "
                         f"positive ints. Got {fc!r} instead.")
    return dict(num_layers=int(est.num_layers), hidden_channels=int(est.hidden_channels),
                fc_channels=tuple(int(c) for c in fc), epochs=int(est.epochs),
                batch_size=int(est.batch_size), lr=float(est.lr),
                weight_decay=float(est.weight_decay), device=check_device(est.device, owner))


def build_net(space, p: dict, out_range, seed: int) -> NeuralPredictorNet:
    """A freshly initialized network; the initialization depends on ``seed`` only."""
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the global RNG
        torch.manual_seed(seed)
        net = NeuralPredictorNet(space.num_ops, p["hidden_channels"], p["num_layers"],
                                 p["fc_channels"], out_range)
    return net.to(p["device"])


def train_graph_net(net: NeuralPredictorNet, graphs: list[Data], loss_fn: Callable, p: dict,
                    seed: int, verbose: bool, desc: str) -> list[float]:
    """Adam with weight decay on mini-batches of ``graphs`` (targets in ``graph.y``); one
    batch holds all graphs when they fit in ``batch_size``. Returns the loss per epoch."""
    generator = torch.Generator().manual_seed(seed)
    if len(graphs) <= p["batch_size"]:
        batches = [Batch.from_data_list(graphs).to(p["device"])]  # built once, reused
    else:
        batches = DataLoader(graphs, batch_size=p["batch_size"], shuffle=True,
                             generator=generator)
    opt = torch.optim.Adam(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
    net.train()
    history = []
    for _ in trange(p["epochs"], desc=desc, disable=not verbose, leave=False):
        total = 0.0
        for b in batches:
            b = b.to(p["device"])
            opt.zero_grad()
            loss = loss_fn(net(b.x, b.edge_index, b.batch, b.num_graphs), b.y)
            loss.backward()
            opt.step()
            total += loss.item() * b.num_graphs
        history.append(total / len(graphs))
    net.eval()
    return history


@torch.no_grad()
def predict_graph_net(net: NeuralPredictorNet, batcher: ArchGraphBatcher, archs: list,
                      device, dense: bool = True) -> np.ndarray:
    """Raw network outputs ``[len(archs)]``, ``PREDICT_CHUNK`` architectures at a time.

    When every architecture shares one topology (the batcher has a template: chain spaces)
    and ``dense``, the layers aggregate with dense adjacency matmuls
    (:meth:`NeuralPredictorNet.forward_dense`, same numbers, ~1.4x faster; see
    BENCHMARKS.md); otherwise with sparse message passing."""
    if dense and batcher.template is not None:
        return predict_choices_dense(net, batcher.template, batcher.space.root.encode(archs),
                                     device)
    net.eval()
    out = []
    for start in range(0, len(archs), PREDICT_CHUNK):
        chunk = archs[start:start + PREDICT_CHUNK]
        x, edge_index, batch = batcher.batch(chunk)
        out.append(net(x.to(device), edge_index.to(device), batch.to(device), len(chunk)).cpu())
    return torch.cat(out).numpy().astype(np.float64)


@torch.no_grad()
def predict_choices_dense(net: NeuralPredictorNet, template, root_choices: np.ndarray,
                          device) -> np.ndarray:
    """Raw network outputs of architectures given by their root-space choice matrix, for a
    space with one shared topology (``template`` of an :class:`ArchGraphBatcher`): node
    features are built from the choices and aggregated with dense adjacency matmuls, with no
    architecture object or ``Data`` graph."""
    net.eval()
    x0, ei, _ = template
    adj = [a.to(device) for a in BiDAGConv.dense_adjacency(ei, x0.size(0))]
    out = []
    for start in range(0, len(root_choices), PREDICT_CHUNK):
        x = ArchGraphBatcher._features(template, root_choices[start:start + PREDICT_CHUNK])
        out.append(net.forward_dense(x.to(device), *adj).cpu())
    return torch.cat(out).numpy().astype(np.float64)


def fitted_net_state(est) -> dict:
    """Fitted state of a GCN estimator for its file: the network as its ``state_dict``, the
    batcher (rebuilt from the space) left out."""
    state = {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}
    state["net_"] = {k: v.detach().cpu() for k, v in est.net_.state_dict().items()}
    state.pop("batcher_", None)
    return state


def restore_fitted_net(est, state: dict, out_range) -> None:
    """Rebuild the fitted network and batcher of a GCN estimator from :func:`fitted_net_state`."""
    weights = state.pop("net_")
    p = net_params(est)
    net = build_net(est.space, p, out_range, 0)
    net.load_state_dict(weights)  # strict: a missing or misshapen tensor is an error
    net.eval()
    for key, value in state.items():
        setattr(est, key, value)
    est.net_ = net
    est.batcher_ = ArchGraphBatcher(est.space)
    est.device_ = p["device"]


@register_predictor("neural")
class NeuralPredictor(BasePredictor):
    r"""Neural predictor of Wen et al., `"Neural Predictor for Neural Architecture Search"
    <https://arxiv.org/abs/1912.00848>`_ (ECCV 2020): a :class:`NeuralPredictorNet`
    (bidirectional GCN over each architecture's DAG, mean pool, fully connected layers) fitted
    by mean squared error on standardized targets.

    Training: Adam with weight decay, mini-batches of ``batch_size`` graphs (one full batch
    when ``N <= batch_size``), targets standardized to zero mean and unit variance (with
    ``output_range`` the network outputs accuracies directly and the loss is the MSE divided
    by the target variance, the same scale).

    Defaults: the paper's network (3 GCN layers of 144 units, one FC layer of 128, 300
    epochs); ``lr=3e-3`` with ``batch_size=128`` (one full batch up to N = 128) was chosen on
    NAS-Bench-201 at N = 100, where it ranks better than ``lr=1e-3`` with batches of 32 (tau
    0.752 vs 0.738, mean of 5 seeds) in half the fit time (``bench/bench_neural_predictor.py
    --only defaults``, BENCHMARKS.md).

    Args:
        space: the :class:`~archgraph.spaces.SearchSpace` of the architectures.
        num_layers: number of bidirectional GCN layers.
        hidden_channels: node-state size of every GCN layer.
        fc_channels: sizes of the hidden fully connected layers.
        epochs: passes over the training set.
        batch_size: graphs per optimization step.
        lr: Adam learning rate.
        weight_decay: Adam L2 penalty.
        output_range: ``(low, high)`` of a sigmoid output in the target's units (the paper's
            ``(10, 100)`` for accuracies in %), or ``None`` for a linear output.
        device: torch device of training and prediction (``"cpu"``, ``"cuda"``, ...).
        verbose: show a tqdm progress bar over epochs.
        random_state: seed of the initialization and the mini-batch order.

    Attributes:
        net_: the fitted :class:`NeuralPredictorNet`.
        y_mean_, y_std_: the target standardization.
        loss_curve_: training loss per epoch (standardized units).
        n_train_: number of training architectures.
    """

    _parameter_constraints: dict = {**BasePredictor._parameter_constraints, **NET_CONSTRAINTS,
                                    "output_range": [tuple, list, None]}

    def __init__(self, space=None, *, num_layers: int = 3, hidden_channels: int = 144,
                 fc_channels: Sequence[int] = (128,), epochs: int = 300, batch_size: int = 128,
                 lr: float = 3e-3, weight_decay: float = 1e-4,
                 output_range: tuple[float, float] | None = None, device="cpu",
                 verbose: bool = False, random_state=None):
        self.space = space
        self.num_layers = num_layers
        self.hidden_channels = hidden_channels
        self.fc_channels = fc_channels
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.output_range = output_range
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _check_output_range(self, y: np.ndarray):
        owner = type(self).__name__
        r = self.output_range
        if r is None:
            return None
        if (len(r) != 2 or not all(isinstance(v, numbers.Real) and np.isfinite(v) for v in r)
                or not r[0] < r[1]):
            raise ValueError(f"The 'output_range' parameter of {owner} must be None or a pair "
                             f"(low, high) of finite floats with low < high. Got {r!r} instead.")
        if y.min() <= r[0] or y.max() >= r[1]:
            raise ValueError(f"The targets 'y' of {owner}.fit must lie strictly inside "
                             f"output_range {tuple(r)}. Got values in [{y.min()}, {y.max()}].")
        return float(r[0]), float(r[1])

    def _fit(self, archs: list, y: np.ndarray) -> None:
        p = net_params(self)
        out_range = self._check_output_range(y)
        rng = check_random_state(self.random_state)
        init_seed, order_seed = (int(s) for s in rng.integers(2 ** 31, size=2))
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0  # constant targets: plain MSE
        mean, std = self.y_mean_, self.y_std_
        # linear output: fit standardized targets; sigmoid output: raw targets, loss / var
        graphs = self.space.to_graphs(archs, y if out_range else (y - mean) / std)
        scale = std if out_range else 1.0

        def loss_fn(pred, target):
            return torch.mean(((pred - target) / scale) ** 2)

        self.net_ = build_net(self.space, p, out_range, init_seed)
        self.loss_curve_ = train_graph_net(self.net_, graphs, loss_fn, p, order_seed,
                                           self.verbose, type(self).__name__)
        self.batcher_ = ArchGraphBatcher(self.space)
        self.device_ = p["device"]

    def _predict(self, archs: list) -> np.ndarray:
        out = predict_graph_net(self.net_, self.batcher_, archs, self.device_)
        return self._unscale(out)

    def _fitted_state(self) -> dict:
        return fitted_net_state(self)

    def _restore_fitted(self, state: dict) -> None:
        r = self.output_range
        restore_fitted_net(self, state, None if r is None else (float(r[0]), float(r[1])))

    def _unscale(self, out: np.ndarray) -> np.ndarray:
        return out if self.output_range is not None else self.y_mean_ + self.y_std_ * out

    def _chunk_bytes(self, space, chunk_size: int) -> int:
        template = self.batcher_.template
        if template is None:
            return super()._chunk_bytes(space, chunk_size)
        # per architecture of a forward batch: node features plus ~4 node-state buffers
        nodes, feats = template[0].shape
        per_arch = 4 * nodes * (feats + 4 * self.hidden_channels)
        return chunk_size * 8 * space.root.num_layers + min(chunk_size, PREDICT_CHUNK) * per_arch

    def predict_space(self, space=None, **kwargs) -> np.ndarray:
        """:meth:`BasePredictor.predict_space`; on a chain space, when it pays, with the node
        states of the first layers tabulated once per receptive field
        (:class:`~archgraph.nn.models.ReceptiveFieldTables`) instead of recomputed for every
        architecture."""
        check_is_fitted(self)
        space = self._check_predict_space(space, f"{type(self).__name__}.predict_space")
        self._space_tables = self._receptive_field_tables(space)
        try:
            return super().predict_space(space, **kwargs)
        finally:
            self._space_tables = None

    def _receptive_field_tables(self, space) -> ReceptiveFieldTables | None:
        """Tables for ``space`` if tabulating costs less than one GCN layer over the whole
        space and fits in :data:`TABLES_MAX_BYTES`; ``None`` otherwise (or on a GPU, where
        the dense path is fast anyway)."""
        template = self.batcher_.template
        if template is None or self.device_.type != "cpu":
            return None
        root = space.root
        if space is root:
            base, varying = np.zeros(root.num_layers, dtype=np.int64), range(root.num_layers)
        else:
            base, varying = space.base.choices, space.free_layers
        rows = ReceptiveFieldTables.rows_needed(template, root.num_options, varying,
                                                self.num_layers)
        nodes = template[0].size(0)
        if rows > len(space) * nodes or rows * 16 * self.hidden_channels > TABLES_MAX_BYTES:
            return None
        return ReceptiveFieldTables(self.net_.eval(), template, root.num_options, base, varying)

    def _predict_choices(self, space, choices: np.ndarray) -> np.ndarray:
        template = self.batcher_.template
        if template is None:  # topology varies with the choices: per-architecture graphs
            return super()._predict_choices(space, choices)
        root = space.parent_choices(choices) if space is not space.root else choices
        tables = getattr(self, "_space_tables", None)
        if tables is not None:
            return self._unscale(tables(root).numpy().astype(np.float64))
        return self._unscale(predict_choices_dense(self.net_, template, root, self.device_))

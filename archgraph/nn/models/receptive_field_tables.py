"""Whole-space inference of the neural predictor with every node state computed once per
distinct receptive field."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from archgraph.nn.conv.dag_gcn_conv import BiDAGConv
from archgraph.nn.models.neural_predictor_net import NeuralPredictorNet


class ReceptiveFieldTables:
    r"""Exact outputs of a :class:`NeuralPredictorNet` on many architectures of one shared
    topology (a chain space's template, :class:`~archgraph.graphs.arch_batch.ArchGraphBatcher`),
    computing each node state once per distinct setting of the layers that can reach it.

    After :math:`k` bidirectional GCN layers the state of node :math:`v` depends only on the
    choices :math:`D_k(v)` of the layers whose nodes lie within :math:`k` hops of :math:`v`
    (:math:`D_0(v)`: the layers that set :math:`v`'s features; :math:`D_k(v) = \bigcup_{u \in
    N(v) \cup \{v\}} D_{k-1}(u)`). For the first :math:`K - 1` layers the states are
    tabulated over all :math:`\prod_{l \in D_k(v)} O_l` settings of :math:`D_k(v)` (in a chain
    of 20 nodes with 3 layers, a window of at most 5 layers instead of every architecture);
    the last layer, the mean pool and the head run per architecture on rows gathered from the
    tables, with no matrix product over nodes. Layers fixed in a subspace are folded into
    the tables, so a subspace of 7 free layers tabulates about 6^5 rows per node.

    The numbers are those of :meth:`NeuralPredictorNet.forward_dense` up to float32 rounding
    (the same products, summed in another order).

    Args:
        net: the fitted network (used in eval mode, without gradients).
        template: ``(x0 [nodes, F], edge_index, parts)`` of an ``ArchGraphBatcher``.
        num_options: options per root layer.
        base: root choices of the layers that do not vary (all layers' entries are read;
            those of ``varying`` layers are ignored).
        varying: root layers whose choice varies over the architectures to predict.
    """

    #: architectures per gather block of :meth:`__call__`
    BLOCK = 4096

    def __init__(self, net: NeuralPredictorNet, template, num_options: Sequence[int],
                 base: Sequence[int], varying: Sequence[int]):
        x0, edge_index, parts = template
        self.net = net
        self.num_nodes = n = x0.size(0)
        self.radix = np.asarray(num_options, dtype=np.int64)
        varying = set(int(l) for l in varying)
        base = np.asarray(base, dtype=np.int64)
        adj_f, adj_b = BiDAGConv.dense_adjacency(edge_index, n)
        self.adj = (adj_f, adj_b)
        self.nbrs = [torch.nonzero((adj_f[v] != 0) | (adj_b[v] != 0)).flatten().tolist()
                     for v in range(n)]
        # D_0(v) and the input features of every setting of it
        touch: list[set[int]] = [set() for _ in range(n)]
        fixed = x0.clone()  # [nodes, F]: features with every varying layer at choice 0
        deltas = []
        for l, nodes, d in parts:  # d [O, k, F]
            if l in varying:
                deltas.append((l, nodes, d))
                for v in nodes.tolist():
                    touch[v].add(l)
            else:
                fixed[nodes] += d[base[l]]
        self.layers = [[sorted(t) for t in touch]]  # layers[k][v] = D_k(v)
        states = []
        for v in range(n):
            digits = self._settings(self.layers[0][v])  # [rows, |D|]
            x = fixed[v].repeat(len(digits), 1)  # [rows, F]
            for l, nodes, d in deltas:
                where = (nodes == v).nonzero().flatten()
                if where.numel():
                    col = self.layers[0][v].index(l)
                    x += d[torch.as_tensor(digits[:, col]), where[0]]
            states.append(x)
        # layers 1..K-1 tabulated; the last one runs per architecture in __call__
        self.convs = list(net.convs)
        with torch.no_grad():
            for conv in self.convs[:-1]:
                z = [self._linear(conv, s) for s in states]  # [rows_u, 2, F_out]
                prev = self.layers[-1]
                cur = [sorted(set().union(*(prev[u] for u in self.nbrs[v]))) for v in range(n)]
                states = []
                for v in range(n):
                    digits = self._settings(cur[v])
                    h_f = h_b = 0
                    for u in self.nbrs[v]:
                        rows = z[u][self._index(digits, cur[v], prev[u])]  # [rows_v, 2, F]
                        h_f = h_f + adj_f[v, u] * rows[:, 0]
                        h_b = h_b + adj_b[v, u] * rows[:, 1]
                    states.append(0.5 * torch.relu(h_f) + 0.5 * torch.relu(h_b))
                self.layers.append(cur)
            self.last = [self._linear(self.convs[-1], s) for s in states]

    @property
    def num_rows(self) -> int:
        """Rows tabulated over all nodes and layers (the work done once)."""
        return sum(int(np.prod(self.radix[d])) for per_layer in self.layers for d in per_layer)

    @staticmethod
    def rows_needed(template, num_options: Sequence[int], varying: Sequence[int],
                    num_layers: int) -> int:
        """:attr:`num_rows` of the tables of a ``num_layers``-layer network, computed from the
        topology alone (to decide whether tabulating pays before doing it)."""
        x0, edge_index, parts = template
        n = x0.size(0)
        adj_f, adj_b = BiDAGConv.dense_adjacency(edge_index, n)
        nbrs = [torch.nonzero((adj_f[v] != 0) | (adj_b[v] != 0)).flatten().tolist()
                for v in range(n)]
        varying = set(int(l) for l in varying)
        cur: list[set[int]] = [set() for _ in range(n)]
        for l, nodes, _ in parts:
            if l in varying:
                for v in nodes.tolist():
                    cur[v].add(l)
        radix = np.asarray(num_options, dtype=np.float64)
        total = 0.0
        for k in range(num_layers):
            total += sum(float(np.prod(radix[sorted(d)])) for d in cur)
            cur = [set().union(*(cur[u] for u in nbrs[v])) for v in range(n)]
        return int(min(total, 2 ** 62))

    def _settings(self, layers: list[int]) -> np.ndarray:
        """Every setting of ``layers`` as digit rows ``[prod O_l, len(layers)]``, row-major."""
        if not layers:
            return np.zeros((1, 0), dtype=np.int64)
        grids = np.indices(self.radix[layers]).reshape(len(layers), -1)
        return grids.T.astype(np.int64)

    def _index(self, digits: np.ndarray, layers: list[int], sub: list[int]) -> Tensor:
        """Row of each setting ``digits`` (over ``layers``) in a table over ``sub``."""
        idx = np.zeros(len(digits), dtype=np.int64)
        for l in sub:
            idx = idx * self.radix[l] + digits[:, layers.index(l)]
        return torch.from_numpy(idx)

    @staticmethod
    def _linear(conv: BiDAGConv, x: Tensor) -> Tensor:
        """Both directions' linear maps of ``conv`` on ``x [rows, F_in]`` -> ``[rows, 2, F]``."""
        z = torch.cat([conv.lin_forward(x), conv.lin_backward(x)], dim=1)
        return z.view(len(x), 2, conv.out_channels)

    @torch.no_grad()
    def __call__(self, choices: np.ndarray) -> Tensor:
        """Raw network outputs ``[B]`` of the architectures with root choices ``[B, L]``."""
        choices = np.asarray(choices, dtype=np.int64)
        # blocks of BLOCK architectures: nodes x BLOCK x 2 x hidden gathered floats at a time
        return torch.cat([self._block(choices[i:i + self.BLOCK])
                          for i in range(0, len(choices), self.BLOCK)])

    def _block(self, choices: np.ndarray) -> Tensor:
        adj_f, adj_b = self.adj
        prev = self.layers[-1]
        rows = [self.last[u][self._index(choices, list(range(choices.shape[1])), prev[u])]
                for u in range(self.num_nodes)]  # each [B, 2, F]
        pooled = 0
        for v in range(self.num_nodes):
            h_f = h_b = 0
            for u in self.nbrs[v]:
                h_f = h_f + adj_f[v, u] * rows[u][:, 0]
                h_b = h_b + adj_b[v, u] * rows[u][:, 1]
            pooled = pooled + 0.5 * torch.relu(h_f) + 0.5 * torch.relu(h_b)
        return self.net._head(pooled / self.num_nodes)

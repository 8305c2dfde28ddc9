"""Batched graphs of many architectures, fast for product spaces of one shared topology."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Batch

from archgraph.spaces.product_space import ProductSpace
from archgraph.spaces.search_space import SearchSpace


class ArchGraphBatcher:
    r"""Builds the disjoint union (a PyG :class:`~torch_geometric.data.Batch`) of the graphs of
    many architectures of ``space``.

    In a chain space every architecture has the same DAG and each layer's choice only sets
    some node features, so ``x(arch) = x(base) + \sum_l \Delta_l[c_l]`` with ``\Delta_l[o]``
    the change of ``x`` when layer ``l`` alone is set to ``o``. That template is probed once
    with ``1 + \sum_l O_l`` calls of ``space.to_graph`` and checked on random architectures;
    the graphs of ``n`` architectures are then built from their choice matrix with tensor ops
    (no ``Data`` object per architecture). Spaces where it does not hold (NAS-Bench-201 prunes
    ``none`` edges, NAS-Bench-101 cells differ in topology) fall back to ``space.to_graph``.

    Args:
        space: the search space; ``archs`` passed to :meth:`batch` must belong to it.
        num_checks: random architectures on which the template is checked.
    """

    def __init__(self, space: SearchSpace, num_checks: int = 8):
        self.space = space
        self.template = self._probe(space, num_checks)

    @staticmethod
    def _probe(space: SearchSpace, num_checks: int):
        if not isinstance(space, ProductSpace):
            return None
        root = space.root
        base = np.zeros(root.num_layers, dtype=np.int64)
        g0 = root.to_graph(root.decode(base[None])[0])
        num_opts = max(root.num_options)
        delta = torch.zeros(root.num_layers, num_opts, *g0.x.shape)  # [L, O, nodes, F]
        for l, o in ((l, o) for l in range(root.num_layers) for o in range(1, root.num_options[l])):
            c = base.copy()
            c[l] = o
            g = root.to_graph(root.decode(c[None])[0])
            if g.num_nodes != g0.num_nodes or not torch.equal(g.edge_index, g0.edge_index):
                return None  # topology depends on the choices
            delta[l, o] = g.x - g0.x
        # keep per layer only the nodes its choice touches (usually one)
        parts = []
        for l in range(root.num_layers):
            nodes = torch.nonzero(delta[l].abs().sum((0, 2))).flatten()  # [k]
            if nodes.numel():
                parts.append((l, nodes, delta[l][:, nodes]))  # [O, k, F]
        template = (g0.x, g0.edge_index, parts)
        rng = np.random.default_rng(0)
        check = rng.integers(0, np.asarray(root.num_options), size=(num_checks, root.num_layers))
        x, _, _ = ArchGraphBatcher._from_template(template, check)
        for i, arch in enumerate(root.decode(check)):
            g = root.to_graph(arch)
            if not torch.equal(g.edge_index, g0.edge_index) or not torch.equal(
                    x[i * g0.num_nodes:(i + 1) * g0.num_nodes], g.x):
                return None  # node features are not separable over layers
        return template

    @staticmethod
    def _features(template, choices: np.ndarray) -> Tensor:
        x0, _, parts = template
        c = torch.as_tensor(choices, dtype=torch.long)  # [n, L]
        x = x0.repeat(len(choices), 1, 1)  # [n, nodes, F]
        for l, nodes, d in parts:
            x[:, nodes] += d[c[:, l]]  # [n, k, F]
        return x

    @staticmethod
    def _from_template(template, choices: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
        x0, ei, _ = template
        n, num_nodes = len(choices), x0.size(0)
        x = ArchGraphBatcher._features(template, choices)  # [n, nodes, F]
        offsets = torch.arange(n).repeat_interleave(ei.size(1)) * num_nodes  # [n * E]
        edge_index = ei.repeat(1, n) + offsets  # [2, n * E]
        batch = torch.arange(n).repeat_interleave(num_nodes)  # [n * nodes]
        return x.reshape(n * num_nodes, -1), edge_index, batch

    def batch(self, archs: Sequence) -> tuple[Tensor, Tensor, Tensor]:
        """``(x [total_nodes, F], edge_index [2, total_edges], batch [total_nodes])`` of
        ``archs`` (already validated against the space)."""
        if self.template is not None:
            return self._from_template(self.template, self.space.root.encode(archs))
        b = Batch.from_data_list(self.space.to_graphs(archs))
        return b.x, b.edge_index, b.batch

    def dense_features(self, archs: Sequence) -> Tensor:
        """Node features ``[len(archs), nodes, F]`` of architectures that share the template's
        topology (``template[1]`` is its ``edge_index``); only for spaces with a template."""
        if self.template is None:
            raise ValueError(f"The {self.space.name!r} space has no shared topology: its "
                             f"graphs must be batched with batch().")
        return self._features(self.template, self.space.root.encode(archs))

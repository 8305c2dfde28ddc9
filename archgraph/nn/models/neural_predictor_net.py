"""The neural predictor network (Wen et al., ECCV 2020): stacked bidirectional DAG GCN layers,
a mean pool per graph and fully connected layers to one output."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn
from torch_geometric.nn import global_mean_pool

from archgraph.nn.conv.dag_gcn_conv import BiDAGConv


class NeuralPredictorNet(nn.Module):
    r"""Regression (or classification) network over architecture DAGs from `"Neural Predictor
    for Neural Architecture Search" <https://arxiv.org/abs/1912.00848>`_.

    .. math::
        \mathbf{V}^{(k+1)} = \mathrm{BiDAGConv}_k(\mathbf{V}^{(k)}),\quad
        \mathbf{g} = \tfrac{1}{|\mathcal{V}|}\textstyle\sum_v \mathbf{V}^{(K)}_v,\quad
        z = \mathrm{MLP}(\mathbf{g}),\quad
        \hat y = \mathrm{low} + (\mathrm{high} - \mathrm{low})\,\sigma(z)

    The last step (a scaled and shifted sigmoid into a known accuracy range, the paper's
    10%-100%) is applied only when ``out_range`` is given; otherwise the raw ``z`` is returned
    (a regression output in standardized units, or a classifier's logit).

    Args:
        in_channels (int): Size of the node features (the number of ops).
        hidden_channels (int, optional): Size of the node states of every GCN layer.
            (default: ``144``)
        num_layers (int, optional): Number of :class:`BiDAGConv` layers. (default: ``3``)
        fc_channels (sequence of int, optional): Sizes of the hidden fully connected layers
            after the pool (ReLU after each). (default: ``(128,)``)
        out_range (tuple of float, optional): ``(low, high)`` of the sigmoid output, or
            ``None`` for a linear output. (default: ``None``)

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F_{in})`, edge indices
          :math:`(2, |\mathcal{E}|)`, graph assignment :math:`(|\mathcal{V}|)`
        - **output:** one value per graph :math:`(B)`
    """

    def __init__(self, in_channels: int, hidden_channels: int = 144, num_layers: int = 3,
                 fc_channels: Sequence[int] = (128,),
                 out_range: tuple[float, float] | None = None):
        super().__init__()
        self.out_range = None if out_range is None else (float(out_range[0]),
                                                         float(out_range[1]))
        sizes = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(BiDAGConv(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        fc = [hidden_channels, *fc_channels]
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in zip(fc[:-1], fc[1:]))
        self.out = nn.Linear(fc[-1], 1)

    def reset_parameters(self) -> None:
        for m in [*self.convs, *self.fcs, self.out]:
            m.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor | None = None,
                num_graphs: int | None = None) -> Tensor:
        for conv in self.convs:
            x = conv(x, edge_index)  # [num_nodes, hidden]
        return self._head(global_mean_pool(x, batch, size=num_graphs))  # [num_graphs]

    def forward_dense(self, x: Tensor, adj_f: Tensor, adj_b: Tensor) -> Tensor:
        """The same network on ``B`` graphs that share one topology (chain spaces), with the
        dense adjacencies of :meth:`BiDAGConv.dense_adjacency`: ``x [B, n, F]`` -> ``[B]``.
        Equal to :meth:`forward` up to float rounding, and faster (batched matmuls)."""
        for conv in self.convs:
            x = conv.forward_dense(x, adj_f, adj_b)  # [B, n, hidden]
        return self._head(x.mean(1))  # [B]

    def _head(self, g: Tensor) -> Tensor:
        """Pooled graph states ``[B, hidden]`` -> outputs ``[B]``."""
        for fc in self.fcs:
            g = torch.relu(fc(g))  # [num_graphs, fc]
        z = self.out(g).squeeze(-1)  # [num_graphs]
        if self.out_range is None:
            return z
        low, high = self.out_range
        return low + (high - low) * torch.sigmoid(z)

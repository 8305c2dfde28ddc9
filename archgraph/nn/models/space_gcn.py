r"""GCN over a whole search space: one node per architecture, a scalar accuracy per node.

Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks" (ICLR 2017,
https://arxiv.org/abs/1609.02907), used as in Chen et al., "Fitting the Search Space of
Weight-sharing NAS with Graph Convolutional Networks" (AAAI 2021,
https://arxiv.org/abs/2004.08423):

.. math::
    H^{(0)} = X, \qquad
    H^{(k+1)} = \sigma\bigl(\hat A\, \mathrm{dropout}(H^{(k)}) W^{(k)} + b^{(k)}\bigr),
    \qquad \hat A = D^{-1/2} (A + I) D^{-1/2},

with ReLU between layers and none after the last one, whose single output channel is the
regression head (the predicted accuracy of every node). With ``x_propagated=True`` (the fixed
input features propagated once, as :class:`~archgraph.predictors.space_gcn.SpaceGCNPredictor`
does) the first layer computes :math:`\mathrm{dropout}(\hat A X) W^{(0)} + b^{(0)}`: its
dropout acts on the propagated features, since dropout and propagation do not commute.
"""
from __future__ import annotations

import torch
from torch import nn


class SpaceGCN(nn.Module):
    r"""Kipf-Welling GCN with a one-channel regression output (module docstring).

    ``adj`` is anything with ``adj @ h`` for ``h`` of shape ``[N, C]``: the sparse matrix of
    :func:`archgraph.graphs.space_graph.normalized_adjacency` or the implicit
    :class:`archgraph.graphs.KroneckerAdjacency`; both give the same output.

    Args:
        in_channels: node-feature width (Gray bits, plus one-hot if used).
        hidden_channels: width of the hidden layers.
        num_layers: graph convolutions, the last one mapping to 1 channel (``>= 1``).
        dropout: dropout probability on each layer's input.

    Shapes:
        - x: ``[N, in_channels]`` (or ``adj @ x`` with ``x_propagated=True``)
        - output: ``[N]``
    """

    def __init__(self, in_channels: int, hidden_channels: int = 32, num_layers: int = 2,
                 dropout: float = 0.0):
        super().__init__()
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.dropout = dropout
        widths = [in_channels] + [hidden_channels] * (num_layers - 1) + [1]
        self.lins = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(widths, widths[1:]))
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in widths[1:])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin, bias in zip(self.lins, self.biases):
            nn.init.xavier_uniform_(lin.weight)  # as GCNConv (glorot)
            nn.init.zeros_(bias)

    def forward(self, x: torch.Tensor, adj, x_propagated: bool = False) -> torch.Tensor:
        """Predicted value of every node.

        Args:
            x: node features ``[N, in_channels]``.
            adj: normalized adjacency supporting ``adj @ h``.
            x_propagated: ``x`` already is ``adj @ x``; the first layer then skips its
                propagation (``adj @ (x W) == (adj @ x) W``), so a caller can propagate the
                fixed input features once instead of at every forward pass (the first
                layer's dropout then drops propagated features).
        """
        h = x
        for k, (lin, bias) in enumerate(zip(self.lins, self.biases)):
            if self.dropout > 0:
                h = nn.functional.dropout(h, self.dropout, self.training)
            if k == 0 and x_propagated:
                h = nn.functional.linear(h, lin.weight, bias)  # [N, width]: fused bias
            else:  # transform first, then propagate the narrower tensor
                h = (adj @ lin(h)) + bias  # [N, width_k+1]
            if k < self.num_layers - 1:
                h = torch.relu_(h)  # in place: one pass less over [N, hidden]
        return h.squeeze(-1)  # [N]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_channels}, {self.hidden_channels}, "
                f"num_layers={self.num_layers}, dropout={self.dropout})")

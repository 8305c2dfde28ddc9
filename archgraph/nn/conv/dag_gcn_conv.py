"""Bidirectional graph convolution for architecture DAGs (Wen et al., ECCV 2020)."""
from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Linear
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import add_self_loops


class BiDAGConv(MessagePassing):
    r"""The bidirectional GCN layer of the neural predictor from `"Neural Predictor for Neural
    Architecture Search" <https://arxiv.org/abs/1912.00848>`_ (Wen et al., ECCV 2020).

    Information flows both along the data flow of the DAG and against it, each direction with
    its own weights:

    .. math::
        \mathbf{V}' = \tfrac{1}{2}\,\mathrm{ReLU}\big(\hat{\mathbf{A}}_f \mathbf{V}
        \mathbf{W}^{+}\big) + \tfrac{1}{2}\,\mathrm{ReLU}\big(\hat{\mathbf{A}}_b \mathbf{V}
        \mathbf{W}^{-}\big)

    where :math:`\hat{\mathbf{A}}_f = \mathbf{D}_f^{-1}(\mathbf{A}^\top + \mathbf{I})` lets a node
    average itself and its predecessors, and :math:`\hat{\mathbf{A}}_b =
    \mathbf{D}_b^{-1}(\mathbf{A} + \mathbf{I})` itself and its successors (self-loops plus degree
    normalization on each direction; :math:`\mathbf{A}_{ij} = 1` for an edge :math:`i \to j`).

    Args:
        in_channels (int): Size of each input node feature.
        out_channels (int): Size of each output node feature.
        bias (bool, optional): If ``False``, the two linear maps have no bias.
            (default: ``True``)

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F_{in})`,
          edge indices :math:`(2, |\mathcal{E}|)` (source -> target along the data flow)
        - **output:** node features :math:`(|\mathcal{V}|, F_{out})`
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__(aggr="mean")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.bias = bias
        self.lin_forward = Linear(in_channels, out_channels, bias=bias)  # W+
        self.lin_backward = Linear(in_channels, out_channels, bias=bias)  # W-
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin_forward.reset_parameters()
        self.lin_backward.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        num_nodes = x.size(0)
        forward_index, _ = add_self_loops(edge_index, num_nodes=num_nodes)
        backward_index = forward_index.flip(0)  # every edge reversed: successors -> node
        h_f = self.propagate(forward_index, x=self.lin_forward(x))  # [num_nodes, out]
        h_b = self.propagate(backward_index, x=self.lin_backward(x))  # [num_nodes, out]
        return 0.5 * torch.relu(h_f) + 0.5 * torch.relu(h_b)

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    @staticmethod
    def dense_adjacency(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
        r""":math:`(\hat{\mathbf{A}}_f, \hat{\mathbf{A}}_b)`, each
        ``[num_nodes, num_nodes]``, of one graph: the numbers :meth:`forward` aggregates with
        (self-loops, each edge counted as often as it occurs, rows averaged)."""
        ones = torch.ones(edge_index.size(1), device=edge_index.device)
        a = torch.zeros(num_nodes, num_nodes, device=edge_index.device)
        a.index_put_((edge_index[1], edge_index[0]), ones, accumulate=True)  # a[target, source]
        eye = torch.eye(num_nodes, device=edge_index.device)
        a_f, a_b = a + eye, a.t() + eye
        return a_f / a_f.sum(1, keepdim=True), a_b / a_b.sum(1, keepdim=True)

    def forward_dense(self, x: Tensor, adj_f: Tensor, adj_b: Tensor) -> Tensor:
        """The same layer on a batch of graphs that share one topology, as two batched
        matmuls (no gather/scatter): ``x [B, n, F_in]`` and the :meth:`dense_adjacency` of
        the topology -> ``[B, n, F_out]``."""
        # both directions' linear maps as one matmul [B * n, F_in] x [F_in, 2 F_out]: one
        # large GEMM runs at about twice the rate of two half-size ones (BENCHMARKS.md)
        w = torch.cat([self.lin_forward.weight, self.lin_backward.weight]).t()
        flat = x.reshape(-1, x.size(-1))
        if self.bias:
            z = torch.addmm(torch.cat([self.lin_forward.bias, self.lin_backward.bias]), flat, w)
        else:
            z = flat @ w
        z = z.view(*x.shape[:-1], 2, self.out_channels)
        h_f = torch.relu(adj_f @ z[..., 0, :])
        h_b = torch.relu(adj_b @ z[..., 1, :])
        if torch.is_grad_enabled():
            return 0.5 * h_f + 0.5 * h_b
        return h_f.add_(h_b).mul_(0.5)  # inference: in place, no extra [B, n, F_out] buffers

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels})"

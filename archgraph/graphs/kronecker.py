r"""The normalized adjacency of a product-space graph, applied without storing any edge.

For a product space whose layer ``l`` picks one of ``O_l`` options, the Hamming-1 graph of
Chen et al. (AAAI 2021, https://arxiv.org/abs/2004.08423) has the Kronecker-sum adjacency

.. math::
    A = \sum_{l=1}^{L} I_{O_1} \otimes \dots \otimes S_l \otimes \dots \otimes I_{O_L},

and the GCN of Kipf & Welling (ICLR 2017) propagates with
:math:`\hat A = D^{-1/2} (A + I) D^{-1/2}`, :math:`D = \mathrm{diag}((A + I) \mathbf{1})`.
With nodes in C order (last layer fastest, as ``ProductSpace.index``), node features
``[N, F]`` reshape to ``[O_1, ..., O_L, F]`` and the ``l``-th term of ``A`` contracts axis ``l``
with ``S_l``. The degree is an outer sum of the row sums ``r_l = S_l 1``:
``deg[c_1..c_L] = 1 + sum_l r_l[c_l]``. Cost of one product: ``O(N F sum_l O_l)`` time and a
few ``[N, F]`` buffers, instead of ``N sum_l (O_l - 1)`` stored edges.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from archgraph.graphs.similarity import assigned_similarity, check_similarity
from archgraph.graphs.space_graph import check_product_space


class KroneckerAdjacency:
    r"""Implicit ``D^{-1/2} (A + I) D^{-1/2}`` of a Kronecker-sum adjacency (module docstring).

    ``adj @ x`` is differentiable with respect to ``x`` (plain torch ops), so a GCN trains
    through it like through a sparse matrix. It equals
    ``normalized_adjacency(space_graph(space, similarity)) @ x`` up to float rounding.

    Args:
        similarity: per-layer symmetric, non-negative ``[O_l, O_l]`` matrices, zero diagonal.
        dtype: float dtype of the operator (match the features).
        device: where the operator lives.

    Shapes:
        - input: ``[N, F]`` with ``N = prod O_l``
        - output: ``[N, F]``
    """

    def __init__(self, similarity: Sequence, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu"):
        sizes = ([np.shape(s)[0] if np.ndim(s) else -1 for s in similarity]
                 if isinstance(similarity, (list, tuple)) else [])
        sims = check_similarity(similarity, sizes, "KroneckerAdjacency")
        self.num_options = tuple(len(s) for s in sims)
        self.num_nodes = math.prod(self.num_options)
        self.similarity = [torch.as_tensor(s, dtype=dtype, device=device) for s in sims]
        deg = torch.ones((), dtype=torch.float64)
        for s in sims:  # outer sum: [O_1, ..., O_l] after step l
            deg = deg[..., None] + torch.as_tensor(s.sum(axis=1), dtype=torch.float64)
        self.deg_inv_sqrt = deg.reshape(-1, 1).rsqrt().to(dtype=dtype, device=device)  # [N, 1]
        # all S_l = 1 - I ("assigned"): S_l x = (sum of x along axis l) - x, a reduction
        # instead of a batched matmul with a fresh [N, F] output per layer
        self.uniform = all(bool(((s == 1) | torch.eye(len(s), dtype=torch.bool,
                                                       device=device)).all()) and
                           bool((s.diagonal() == 0).all()) for s in self.similarity)

    @classmethod
    def from_space(cls, space, similarity=None, dtype: torch.dtype = torch.float32,
                   device: torch.device | str = "cpu") -> "KroneckerAdjacency":
        """Operator of a product (sub)space; ``similarity`` default uniform (``1 - I``)."""
        check_product_space(space, "KroneckerAdjacency.from_space")
        if similarity is None:
            similarity = assigned_similarity(space.num_options)
        else:
            similarity = check_similarity(similarity, space.num_options,
                                          "KroneckerAdjacency.from_space")
        return cls(similarity, dtype=dtype, device=device)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_nodes, self.num_nodes)

    def adjacency(self, x: torch.Tensor) -> torch.Tensor:
        """``(A + I) x`` without normalization: ``[N, F] -> [N, F]``."""
        n, f = x.shape
        # (A + I) x = x + sum_l S_l x; with S_l = 1 - I: (1 - L) x + sum_l J_l x
        out = x * (1 - len(self.num_options)) if self.uniform else x.clone()
        tmp = None
        before = 1
        for s, o in zip(self.similarity, self.num_options):
            after = n // (before * o)
            h = x.reshape(before, o, after * f)  # [prod O_<l, O_l, prod O_>l * F]
            view = out.view(before, o, after * f)
            if self.uniform:
                view.add_(h.sum(1, keepdim=True))  # J_l along axis l: [before, 1, rest]
            elif torch.is_grad_enabled() and x.requires_grad:
                view.add_(torch.matmul(s, h))  # S_l along axis l
            else:  # inference: one reused buffer instead of a fresh [N, F] per layer
                tmp = torch.empty_like(x) if tmp is None else tmp
                view.add_(torch.matmul(s, h, out=tmp.view(before, o, after * f)))
            before *= o
        return out

    def matmul(self, x: torch.Tensor) -> torch.Tensor:
        """``D^{-1/2} (A + I) D^{-1/2} x``: ``[N, F] -> [N, F]``."""
        if x.dim() != 2 or x.shape[0] != self.num_nodes:
            raise ValueError(f"The 'x' argument of KroneckerAdjacency.matmul must have shape "
                             f"[{self.num_nodes}, F]. Got {tuple(x.shape)} instead.")
        # the outer scaling in place: its backward needs only deg_inv_sqrt, not the product
        return self.adjacency(self.deg_inv_sqrt * x).mul_(self.deg_inv_sqrt)

    __matmul__ = matmul

    def __repr__(self) -> str:
        return f"KroneckerAdjacency(num_options={self.num_options}, num_nodes={self.num_nodes})"

r"""The materialized search-space graph of a product (sub)space, as a PyG ``Data``.

Chen et al., "Fitting the Search Space of Weight-sharing NAS with Graph Convolutional Networks"
(AAAI 2021, https://arxiv.org/abs/2004.08423): one node per architecture, in the space's index
order (C order of the choices, last layer fastest); an edge between two architectures iff they
differ in exactly one layer ``l`` (Hamming distance 1), weighted ``S_l[c_l, c'_l]``; node
features are the Gray codes of the choices (optionally followed by their one-hot codes).

The adjacency is the Kronecker sum :math:`A = \sum_l I \otimes \dots \otimes S_l \otimes \dots
\otimes I`; :class:`~archgraph.graphs.kronecker.KroneckerAdjacency` applies it without storing
edges and gives the same numbers. This form stores ``N * sum_l (O_l - 1)`` directed edges, so it
is for spaces up to a few hundred thousand nodes; its memory is estimated before anything is
allocated.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import torch
from torch_geometric.data import Data

from archgraph.encoding import gray_encode, onehot_encode
from archgraph.graphs.similarity import assigned_similarity, check_similarity
from archgraph.spaces.product_space import ProductSpace
from archgraph.utils.memory import check_memory
from archgraph.utils.validation import check_one_of

#: node-feature choices of search-space graphs
FEATURES = ("gray", "gray+onehot")
#: bytes per directed edge of the materialized form: edge_index (16) + weight (4) + the
#: normalized copy with self-loops and the CSR adjacency built from it (~40) + transient
#: buffers of the build (~12; measured: the 6^8 FairNAS fit peaks at 1.16x the estimate
#: without them, BENCHMARKS.md)
_BYTES_PER_EDGE = 72


def check_product_space(space, owner: str) -> ProductSpace:
    """Return ``space`` if it is a product (sub)space, else raise ``TypeError``."""
    if not isinstance(space, ProductSpace):
        raise TypeError(f"The 'space' parameter of {owner} must be a product search space "
                        f"(ProductSpace or Subspace: layer l picks one of O_l options). Got "
                        f"{type(space).__name__} instead; its Hamming-1 graph is not a Kronecker "
                        f"sum.")
    return space


def num_node_features(num_options: Sequence[int], features: str = "gray") -> int:
    """Width of :func:`space_node_features`."""
    check_one_of(features, "features", FEATURES, "space_node_features")
    d = gray_encode(np.zeros((1, len(num_options)), dtype=np.int64), num_options).shape[1]
    return d + (int(sum(num_options)) if features == "gray+onehot" else 0)


def space_node_features(space: ProductSpace, features: str = "gray") -> np.ndarray:
    """Node features of every architecture of ``space`` in index order: ``[N, d]`` float32.

    Built layer by layer on the ``[O_1, ..., O_L, d]`` grid from each layer's ``O_l`` codes, so
    no ``[N, L]`` choice matrix or integer intermediate is allocated.
    """
    check_product_space(space, "space_node_features")
    check_one_of(features, "features", FEATURES, "space_node_features")
    shape = space.num_options
    codes = [np.arange(o)[:, None] for o in shape]
    blocks = [(l, gray_encode(c, [o])) for l, (c, o) in enumerate(zip(codes, shape))]
    if features == "gray+onehot":  # all Gray bits first, then the one-hot blocks
        blocks += [(l, onehot_encode(c, [o])) for l, (c, o) in enumerate(zip(codes, shape))]
    d = sum(t.shape[1] for _, t in blocks)
    out = np.empty((len(space), d), dtype=np.float32)
    grid = out.reshape(*shape, d)  # [O_1, ..., O_L, d], a view of out
    col = 0
    for l, t in blocks:  # t: [O_l, width]
        view = [1] * len(shape) + [t.shape[1]]
        view[l] = shape[l]
        grid[..., col:col + t.shape[1]] = t.reshape(view)
        col += t.shape[1]
    return out


def count_edges(similarity: Sequence[np.ndarray]) -> int:
    """Directed edges of the Hamming-1 graph: ``sum_l (N / O_l) * nnz(S_l)``."""
    n = math.prod(len(s) for s in similarity)
    return int(sum(n // len(s) * np.count_nonzero(s) for s in similarity))


def materialized_memory_gb(num_options: Sequence[int], similarity=None,
                           features: str = "gray") -> float:
    """Estimated peak memory (GiB) of :func:`space_graph` plus its normalized adjacency."""
    if similarity is None:
        similarity = assigned_similarity(num_options)
    n = math.prod(num_options)
    nbytes = count_edges(similarity) * _BYTES_PER_EDGE + n * 4 * (
        num_node_features(num_options, features) + 4)
    return nbytes / 2 ** 30


def space_graph(space: ProductSpace, similarity=None, features: str = "gray",
                max_memory_gb: float | None = None) -> Data:
    """Materialized Hamming-1 graph of a product (sub)space.

    Args:
        space: a :class:`~archgraph.spaces.ProductSpace` or ``Subspace``.
        similarity: per-layer ``[O_l, O_l]`` edge weights (see ``archgraph.graphs.similarity``);
            default uniform (``1 - I``). Zero entries give no edge.
        features: ``"gray"`` or ``"gray+onehot"``.
        max_memory_gb: budget checked before allocating; default 90% of the available memory.

    Returns:
        ``Data(x [N, d], edge_index [2, E], edge_weight [E], num_nodes=N)``; node ``i`` is
        ``space.from_index(i)``; every edge appears in both directions.

    Raises:
        MemoryError: if the estimated memory exceeds the budget (nothing allocated).
    """
    owner = "space_graph"
    check_product_space(space, owner)
    check_one_of(features, "features", FEATURES, owner)
    shape = space.num_options
    sims = assigned_similarity(shape) if similarity is None else check_similarity(
        similarity, shape, owner)
    check_memory(materialized_memory_gb(shape, sims, features), max_memory_gb,
                 f"The materialized graph of the {len(space):,}-node space")
    n = len(space)
    idx = np.arange(n, dtype=np.int64).reshape(shape)  # [O_1, ..., O_L] node ids
    src, dst, weight = [], [], []
    stride = n
    for l, s in enumerate(sims):
        stride //= shape[l]
        for i, j in zip(*np.nonzero(s)):  # option i -> option j at layer l
            a = idx.take(int(i), axis=l).reshape(-1)  # [N / O_l] nodes with choice i
            src.append(a)
            dst.append(a + (int(j) - int(i)) * stride)
            weight.append(np.full(a.size, s[i, j], dtype=np.float32))
    if src:
        edge_index = torch.from_numpy(np.stack([np.concatenate(src), np.concatenate(dst)]))
        edge_weight = torch.from_numpy(np.concatenate(weight))
    else:
        edge_index = torch.zeros((2, 0), dtype=torch.long)
        edge_weight = torch.zeros(0)
    x = torch.from_numpy(space_node_features(space, features))
    return Data(x=x, edge_index=edge_index, edge_weight=edge_weight, num_nodes=n)


def normalized_adjacency(data: Data) -> torch.Tensor:
    r"""Sparse ``D^{-1/2} (A + I) D^{-1/2}`` ``[N, N]`` (CSR) of a graph from :func:`space_graph`.

    Uses PyG's ``gcn_norm`` (Kipf & Welling, ICLR 2017), so ``adj @ h`` equals the propagation
    of ``GCNConv`` with ``edge_weight``.
    """
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    n = data.num_nodes
    edge_index, weight = gcn_norm(data.edge_index, data.edge_weight, n, add_self_loops=True)
    adj = torch.sparse_coo_tensor(edge_index, weight, (n, n), check_invariants=False).coalesce()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return adj.to_sparse_csr()


class _SymmetricMatmul(torch.autograd.Function):
    """``adj @ h`` whose backward is ``adj @ grad`` (valid as ``adj`` is symmetric): avoids the
    transposed sparse product, which is ~50x slower than the forward one on CPU."""

    @staticmethod
    def forward(ctx, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        ctx.adj = adj
        return adj @ h

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return ctx.adj @ grad, None


class SymmetricSparseAdjacency:
    """A symmetric sparse matrix (e.g. :func:`normalized_adjacency`) used as ``adj @ h``,
    differentiable in ``h``; the same interface as
    :class:`~archgraph.graphs.kronecker.KroneckerAdjacency`.

    Shapes:
        - input: ``[N, F]``
        - output: ``[N, F]``
    """

    def __init__(self, matrix: torch.Tensor):
        self.matrix = matrix
        self.shape = tuple(matrix.shape)

    def __matmul__(self, h: torch.Tensor) -> torch.Tensor:
        return _SymmetricMatmul.apply(h, self.matrix)

    def __repr__(self) -> str:
        return f"SymmetricSparseAdjacency(shape={self.shape})"

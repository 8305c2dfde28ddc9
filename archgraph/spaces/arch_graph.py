"""The graph schema of one architecture: built by one function, checked by one validator.

Schema (see DESIGN.md): ``x`` is a float one-hot op per node ``[num_nodes, num_ops]``,
``edge_index`` a long ``[2, num_edges]`` tensor of source -> target along the data flow (a DAG,
node 0 the input, the last node the output), optional ``y`` targets of shape ``[1]``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch_geometric.data import Data


def make_arch_graph(ops: Sequence[int], edges: Sequence[tuple[int, int]], num_ops: int,
                    y: float | None = None) -> Data:
    """Build the PyG graph of one architecture from node op indices and directed edges."""
    ops_t = torch.as_tensor(np.asarray(ops, dtype=np.int64))
    x = torch.zeros(len(ops_t), num_ops)
    x[torch.arange(len(ops_t)), ops_t] = 1.0
    if len(edges):
        edge_index = torch.as_tensor(np.asarray(edges, dtype=np.int64).T).contiguous()
    else:
        edge_index = torch.zeros(2, 0, dtype=torch.long)
    data = Data(x=x, edge_index=edge_index, num_nodes=len(ops_t))
    if y is not None:
        data.y = torch.tensor([float(y)])
    return data


def validate_arch_graph(data: Data, num_ops: int | None = None) -> Data:
    """Check ``data`` against the schema; raise ``ValueError`` saying what is wrong."""
    x, ei = getattr(data, "x", None), getattr(data, "edge_index", None)
    if x is None or x.dim() != 2:
        raise ValueError(f"Architecture graph: 'x' must be a 2-D one-hot tensor. "
                         f"Got {None if x is None else tuple(x.shape)}.")
    if num_ops is not None and x.size(1) != num_ops:
        raise ValueError(f"Architecture graph: 'x' must have {num_ops} columns (one per op). "
                         f"Got {x.size(1)}.")
    if not torch.all((x == 0) | (x == 1)) or not torch.all(x.sum(1) == 1):
        raise ValueError("Architecture graph: every row of 'x' must be one-hot.")
    if ei is None or ei.dim() != 2 or ei.size(0) != 2 or ei.dtype != torch.long:
        raise ValueError(f"Architecture graph: 'edge_index' must be a long tensor of shape "
                         f"[2, num_edges]. "
                         f"Got {None if ei is None else (tuple(ei.shape), ei.dtype)}.")
    n = x.size(0)
    if ei.numel() and (ei.min() < 0 or ei.max() >= n):
        raise ValueError(f"Architecture graph: 'edge_index' refers to nodes outside 0..{n - 1}.")
    if ei.numel() and torch.any(ei[0] == ei[1]):
        raise ValueError("Architecture graph: 'edge_index' has a self-loop.")
    # acyclicity by Kahn's algorithm
    indeg = np.zeros(n, dtype=np.int64)
    src, dst = ei.numpy()
    np.add.at(indeg, dst, 1)
    children: list[list[int]] = [[] for _ in range(n)]
    for s, d in zip(src, dst):
        children[s].append(d)
    stack = [i for i in range(n) if indeg[i] == 0]
    seen = 0
    while stack:
        v = stack.pop()
        seen += 1
        for c in children[v]:
            indeg[c] -= 1
            if indeg[c] == 0:
                stack.append(c)
    if seen != n:
        raise ValueError("Architecture graph: 'edge_index' has a cycle; it must be a DAG.")
    return data

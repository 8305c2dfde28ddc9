from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from archgraph.spaces.arch_graph import make_arch_graph, validate_arch_graph


def diamond(**kw) -> Data:
    return make_arch_graph([0, 1, 2, 3], [(0, 1), (0, 2), (1, 3), (2, 3)], 4, **kw)


def test_make_arch_graph_schema():
    g = diamond(y=0.7)
    assert g.x.shape == (4, 4) and g.x.dtype == torch.float32
    assert torch.equal(g.x.argmax(1), torch.arange(4))
    assert g.edge_index.dtype == torch.long and g.edge_index.shape == (2, 4)
    assert g.edge_index[:, 0].tolist() == [0, 1]  # source -> target along the data flow
    assert g.y.tolist() == pytest.approx([0.7])
    assert validate_arch_graph(g, 4) is g


def test_no_edges_and_no_target():
    g = make_arch_graph([0], [], 2)
    assert g.edge_index.shape == (2, 0) and "y" not in g
    validate_arch_graph(g, 2)


def test_cycle_rejected():
    g = make_arch_graph([0, 1, 2], [(0, 1), (1, 2), (2, 1)], 3)
    with pytest.raises(ValueError, match="'edge_index' has a cycle; it must be a DAG"):
        validate_arch_graph(g)


def test_self_loop_rejected():
    with pytest.raises(ValueError, match="self-loop"):
        validate_arch_graph(make_arch_graph([0, 1], [(0, 1), (1, 1)], 2))


def test_non_onehot_rejected():
    g = diamond()
    g.x[1, 2] = 1.0
    with pytest.raises(ValueError, match="every row of 'x' must be one-hot"):
        validate_arch_graph(g)
    g = diamond()
    g.x[1] = 0.5 * g.x[1]
    with pytest.raises(ValueError, match="one-hot"):
        validate_arch_graph(g)


def test_bad_x_rejected():
    with pytest.raises(ValueError, match="'x' must be a 2-D one-hot tensor. Got None"):
        validate_arch_graph(Data(edge_index=torch.zeros(2, 0, dtype=torch.long)))
    with pytest.raises(ValueError, match="'x' must have 5 columns \\(one per op\\). Got 4"):
        validate_arch_graph(diamond(), num_ops=5)


def test_bad_edge_index_rejected():
    g = diamond()
    g.edge_index = g.edge_index.float()
    with pytest.raises(ValueError, match=r"'edge_index' must be a long tensor of shape "
                                         r"\[2, num_edges\]"):
        validate_arch_graph(g)
    g = diamond()
    g.edge_index = g.edge_index.t().contiguous()
    with pytest.raises(ValueError, match="long tensor of shape"):
        validate_arch_graph(g)
    g = diamond()
    g.edge_index[1, 0] = 4
    with pytest.raises(ValueError, match=r"refers to nodes outside 0..3"):
        validate_arch_graph(g)
    g.edge_index[1, 0] = -1
    with pytest.raises(ValueError, match=r"refers to nodes outside 0..3"):
        validate_arch_graph(g)

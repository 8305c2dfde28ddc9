import numpy as np
import pytest
import torch
from torch_geometric.nn import GCNConv

from archgraph.encoding import gray_encode, onehot_encode
from archgraph.graphs.space_graph import (
    SymmetricSparseAdjacency,
    materialized_memory_gb,
    normalized_adjacency,
    space_graph,
    space_node_features,
)
from archgraph.spaces import ProductSpace


def toy(num_options=(3, 2, 4)):
    return ProductSpace("toy", [[f"op{i}" for i in range(o)] for o in num_options])


def test_edges_join_exactly_hamming_one_neighbours():
    space = toy()
    data = space_graph(space)
    n = len(space)
    assert data.num_nodes == n == data.x.shape[0]
    choices = space.all_choices()
    src, dst = data.edge_index.numpy()
    assert np.all((choices[src] != choices[dst]).sum(1) == 1)
    expected = n * sum(o - 1 for o in space.num_options)
    assert data.edge_index.shape[1] == expected == len(set(zip(src, dst)))
    assert set(zip(src, dst)) == set(zip(dst, src))  # undirected
    assert torch.all(data.edge_weight == 1)


def test_edge_weights_follow_similarity():
    space = toy((3, 2))
    s0 = np.array([[0, 0.5, 0], [0.5, 0, 2.0], [0, 2.0, 0]])
    data = space_graph(space, similarity=[s0, np.array([[0, 1.0], [1.0, 0]])])
    choices = space.all_choices()
    src, dst = data.edge_index.numpy()
    for a, b, w in zip(src, dst, data.edge_weight.numpy()):
        l = int(np.flatnonzero(choices[a] != choices[b])[0])
        expected = s0[choices[a, 0], choices[b, 0]] if l == 0 else 1.0
        assert w == pytest.approx(expected)
    assert data.edge_index.shape[1] == 6 * 2 - 2 * 2 + 6  # zero weights give no edge


@pytest.mark.parametrize("features", ["gray", "gray+onehot"])
def test_node_features_match_encodings_in_index_order(features):
    space = toy()
    x = space_node_features(space, features)
    choices = space.all_choices(dtype=np.int64)
    expected = gray_encode(choices, space.num_options)
    if features == "gray+onehot":
        expected = np.concatenate([expected, onehot_encode(choices, space.num_options)], 1)
    np.testing.assert_array_equal(x, expected)


def test_normalized_adjacency_matches_gcnconv_propagation():
    space = toy()
    rng = np.random.default_rng(0)
    sims = []
    for o in space.num_options:
        s = rng.uniform(0.1, 1, (o, o))
        s = s + s.T
        np.fill_diagonal(s, 0)
        sims.append(s)
    data = space_graph(space, similarity=sims)
    conv = GCNConv(data.x.shape[1], 3, bias=False)
    ref = conv(data.x, data.edge_index, data.edge_weight)
    ours = normalized_adjacency(data) @ conv.lin(data.x)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_symmetric_sparse_adjacency_gradient_equals_dense():
    data = space_graph(toy())
    adj = SymmetricSparseAdjacency(normalized_adjacency(data))
    dense = normalized_adjacency(data).to_dense()
    h = torch.randn(data.num_nodes, 2, requires_grad=True)
    w = torch.randn(data.num_nodes, 2)
    ((adj @ h) * w).sum().backward()
    torch.testing.assert_close(adj @ h, dense @ h)
    torch.testing.assert_close(h.grad, dense.T @ w)
    assert adj.shape == (24, 24)


def test_subspace_graph_uses_factor_order():
    root = toy((3, 2, 4))
    sub = root.subspace([0, 2], root.decode([[0, 1, 0]])[0])
    data = space_graph(sub)
    assert data.num_nodes == 12
    np.testing.assert_array_equal(data.x.numpy(),
                                  gray_encode(sub.all_choices(np.int64), sub.num_options))


def test_errors():
    with pytest.raises(TypeError, match="must be a product search space.*Got str"):
        space_graph("nasbench101")
    with pytest.raises(ValueError, match="'features' parameter of space_graph"):
        space_graph(toy(), features="binary")
    with pytest.raises(ValueError, match="shape \\(2, 2\\) at layer 1"):
        space_graph(toy(), similarity=[np.zeros((3, 3))] * 3)
    big = toy((6,) * 9)
    assert materialized_memory_gb(big.num_options) > 20
    with pytest.raises(MemoryError, match="estimated .* GiB, more than the 'max_memory_gb'"):
        space_graph(big, max_memory_gb=1.0)

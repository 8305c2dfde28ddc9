import torch

from archgraph.nn.conv import BiDAGConv
from archgraph.spaces.arch_graph import make_arch_graph


def _chain(n=4, num_ops=3):
    return make_arch_graph([0, 1, 2, 1][:n], [(i, i + 1) for i in range(n - 1)], num_ops)


def test_output_shape_and_nonnegative():
    data = _chain()
    conv = BiDAGConv(3, 8)
    out = conv(data.x, data.edge_index)
    assert out.shape == (4, 8)
    assert torch.all(out >= 0)  # average of two ReLUs
    assert "BiDAGConv(3, 8)" == repr(conv)


def test_matches_dense_formula():
    torch.manual_seed(0)
    data = make_arch_graph([0, 1, 2, 1, 0], [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (0, 4)], 3)
    conv = BiDAGConv(3, 5)
    n = data.num_nodes
    a = torch.zeros(n, n)
    a[data.edge_index[0], data.edge_index[1]] = 1.0  # A[i, j] = 1 for i -> j
    a_f = a.t() + torch.eye(n)
    a_b = a + torch.eye(n)
    a_f = a_f / a_f.sum(1, keepdim=True)
    a_b = a_b / a_b.sum(1, keepdim=True)
    want = (0.5 * torch.relu(a_f @ conv.lin_forward(data.x))
            + 0.5 * torch.relu(a_b @ conv.lin_backward(data.x)))
    torch.testing.assert_close(conv(data.x, data.edge_index), want)


def test_flipping_edges_swaps_directions():
    torch.manual_seed(0)
    data = _chain()
    conv = BiDAGConv(3, 6)
    out = conv(data.x, data.edge_index)
    flipped = conv(data.x, data.edge_index.flip(0))
    assert not torch.allclose(out, flipped)  # direction matters
    # swapping the two weight sets is the same as reversing every edge
    swapped = BiDAGConv(3, 6)
    swapped.lin_forward.load_state_dict(conv.lin_backward.state_dict())
    swapped.lin_backward.load_state_dict(conv.lin_forward.state_dict())
    torch.testing.assert_close(swapped(data.x, data.edge_index), flipped)


def test_isolated_node_keeps_its_own_state():
    torch.manual_seed(0)
    x = torch.eye(3)
    conv = BiDAGConv(3, 4)
    out = conv(x, torch.zeros(2, 0, dtype=torch.long))
    want = 0.5 * torch.relu(conv.lin_forward(x)) + 0.5 * torch.relu(conv.lin_backward(x))
    torch.testing.assert_close(out, want)


def test_gradients_reach_both_weight_sets():
    data = _chain()
    conv = BiDAGConv(3, 4)
    conv(data.x, data.edge_index).sum().backward()
    assert conv.lin_forward.weight.grad is not None
    assert conv.lin_backward.weight.grad is not None


def test_dense_form_equals_message_passing():
    torch.manual_seed(0)
    edges = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (0, 4), (0, 4)]  # a repeated edge counts twice
    graphs = [make_arch_graph(ops, edges, 3) for ops in ([0, 1, 2, 1, 0], [0, 2, 2, 1, 0])]
    conv = BiDAGConv(3, 5)
    adj_f, adj_b = BiDAGConv.dense_adjacency(graphs[0].edge_index, 5)
    torch.testing.assert_close(adj_f.sum(1), torch.ones(5))
    dense = conv.forward_dense(torch.stack([g.x for g in graphs]), adj_f, adj_b)  # [2, 5, 5]
    for g, d in zip(graphs, dense):
        torch.testing.assert_close(conv(g.x, g.edge_index), d)
    with torch.no_grad():  # the in-place inference path: the same numbers
        torch.testing.assert_close(conv.forward_dense(torch.stack([g.x for g in graphs]),
                                                      adj_f, adj_b), dense, rtol=0, atol=0)
    nobias = BiDAGConv(3, 5, bias=False)
    for g, d in zip(graphs, nobias.forward_dense(torch.stack([g.x for g in graphs]),
                                                 adj_f, adj_b)):
        torch.testing.assert_close(nobias(g.x, g.edge_index), d)

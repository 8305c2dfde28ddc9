import torch
from torch_geometric.data import Batch

from archgraph.nn.conv import BiDAGConv
from archgraph.nn.models import NeuralPredictorNet
from archgraph.spaces.arch_graph import make_arch_graph


def _batch():
    g1 = make_arch_graph([0, 1, 2, 3], [(0, 1), (1, 2), (2, 3), (0, 3)], 4)
    g2 = make_arch_graph([0, 2, 3], [(0, 1), (1, 2)], 4)
    g3 = make_arch_graph([0, 1, 1, 2, 3], [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)], 4)
    return Batch.from_data_list([g1, g2, g3])


def test_one_output_per_graph():
    b = _batch()
    net = NeuralPredictorNet(4, hidden_channels=8, num_layers=2, fc_channels=(6, 5))
    out = net(b.x, b.edge_index, b.batch)
    assert out.shape == (3,)
    assert len(net.convs) == 2 and len(net.fcs) == 2


def test_batching_equals_one_graph_at_a_time():
    torch.manual_seed(0)
    b = _batch()
    net = NeuralPredictorNet(4, hidden_channels=8)
    together = net(b.x, b.edge_index, b.batch)
    alone = torch.stack([net(g.x, g.edge_index).squeeze(0) for g in b.to_data_list()])
    torch.testing.assert_close(together, alone)


def test_out_range_bounds_outputs():
    torch.manual_seed(0)
    b = _batch()
    net = NeuralPredictorNet(4, hidden_channels=8, out_range=(10.0, 100.0))
    with torch.no_grad():
        net.out.bias.fill_(50.0)  # saturate the sigmoid
    out = net(b.x, b.edge_index, b.batch)
    assert torch.all((out >= 10.0) & (out <= 100.0))
    assert torch.allclose(out, torch.full((3,), 100.0))


def test_reset_parameters_changes_weights():
    torch.manual_seed(0)
    net = NeuralPredictorNet(4, hidden_channels=8)
    before = net.out.weight.clone()
    net.reset_parameters()
    assert not torch.equal(before, net.out.weight)


def test_dense_forward_equals_sparse_forward():
    torch.manual_seed(0)
    edges = [(i, i + 1) for i in range(4)] + [(0, 4)]
    graphs = [make_arch_graph(ops, edges, 4) for ops in ([0, 1, 2, 3, 0], [0, 3, 3, 1, 0],
                                                          [0, 2, 1, 2, 0])]
    net = NeuralPredictorNet(4, 8, 2, (6,), out_range=(10.0, 100.0)).eval()
    b = Batch.from_data_list(graphs)
    adj = BiDAGConv.dense_adjacency(graphs[0].edge_index, 5)
    torch.testing.assert_close(net.forward_dense(torch.stack([g.x for g in graphs]), *adj),
                               net(b.x, b.edge_index, b.batch, 3))

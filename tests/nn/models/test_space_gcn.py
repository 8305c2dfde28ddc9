import pytest
import torch

from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.graphs.similarity import assigned_similarity
from archgraph.nn.models.space_gcn import SpaceGCN


def test_same_output_with_either_adjacency_form():
    sims = assigned_similarity([3, 2, 4])
    op = KroneckerAdjacency(sims)
    dense = op @ torch.eye(op.num_nodes)
    sparse = dense.to_sparse()
    torch.manual_seed(0)
    model = SpaceGCN(5, 8, num_layers=3).eval()
    x = torch.randn(op.num_nodes, 5)
    out = model(x, op)
    assert out.shape == (24,)
    torch.testing.assert_close(out, model(x, dense))
    torch.testing.assert_close(out, model(x, sparse))
    torch.testing.assert_close(out, model(op @ x, op, x_propagated=True))


@pytest.mark.parametrize("num_layers", [1, 2, 4])
def test_gradients_reach_every_parameter(num_layers):
    op = KroneckerAdjacency(assigned_similarity([3, 3]))
    model = SpaceGCN(4, 6, num_layers=num_layers, dropout=0.2)
    model(torch.randn(9, 4), op).pow(2).sum().backward()
    assert len(model.lins) == num_layers
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_one_layer_is_smoothed_linear_regression():
    op = KroneckerAdjacency(assigned_similarity([2, 2]))
    model = SpaceGCN(3, 16, num_layers=1).eval()
    x = torch.randn(4, 3)
    expected = (op @ (x @ model.lins[0].weight.T)).squeeze(-1) + model.biases[0]
    torch.testing.assert_close(model(x, op), expected)
    assert "num_layers=1" in repr(model)

import numpy as np
import pytest
import torch

from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.graphs.similarity import assigned_similarity
from archgraph.graphs.space_graph import normalized_adjacency, space_graph
from archgraph.spaces import ProductSpace


def toy(num_options=(3, 2, 4)):
    return ProductSpace("toy", [[f"op{i}" for i in range(o)] for o in num_options])


def random_similarity(num_options, rng):
    sims = []
    for o in num_options:
        s = rng.uniform(0, 2, (o, o)) * (rng.uniform(size=(o, o)) < 0.8)
        s = np.triu(s, 1)
        sims.append(s + s.T)
    return sims


@pytest.mark.parametrize("num_options,uniform", [((3, 2, 4), False), ((5, 1, 3, 2), False),
                                                 ((4, 4, 4), True)])
def test_implicit_equals_materialized(num_options, uniform):
    rng = np.random.default_rng(1)
    space = toy(num_options)
    sims = assigned_similarity(num_options) if uniform else random_similarity(num_options, rng)
    x = torch.randn(len(space), 3, dtype=torch.float64)
    dense = normalized_adjacency(space_graph(space, sims)).to_dense().double()
    op = KroneckerAdjacency(sims, dtype=torch.float64)
    torch.testing.assert_close(op @ x, dense @ x)


@pytest.mark.slow
@pytest.mark.parametrize("num_options", [(6,) * 6, (6, 5, 4, 6, 3, 6)])
def test_implicit_equals_materialized_up_to_6_pow_6(num_options):
    rng = np.random.default_rng(2)
    space = toy(num_options)
    sims = random_similarity(num_options, rng)
    x = torch.randn(len(space), 4, dtype=torch.float64)
    sparse = normalized_adjacency(space_graph(space, sims))
    op = KroneckerAdjacency.from_space(space, sims, dtype=torch.float64)
    torch.testing.assert_close(op @ x, (sparse @ x.float()).double(), rtol=1e-5, atol=1e-6)


def test_degrees_and_symmetry():
    rng = np.random.default_rng(3)
    sims = random_similarity((3, 4), rng)
    op = KroneckerAdjacency(sims, dtype=torch.float64)
    eye = torch.eye(op.num_nodes, dtype=torch.float64)
    a_plus_i = op.adjacency(eye)
    torch.testing.assert_close(a_plus_i, a_plus_i.T)
    torch.testing.assert_close(op.deg_inv_sqrt[:, 0] ** -2, a_plus_i.sum(1))
    norm = op @ eye
    assert torch.linalg.eigvalsh(norm).max() <= 1 + 1e-9  # spectrum of the GCN propagation


def test_gradients_flow_through_operator():
    op = KroneckerAdjacency.from_space(toy((3, 3)))
    x = torch.randn(9, 2, requires_grad=True)
    (op @ x).sum().backward()
    dense = op @ torch.eye(9)
    torch.testing.assert_close(x.grad, dense.sum(0)[:, None].expand(9, 2))


@pytest.mark.parametrize("uniform", [True, False])
def test_inference_and_training_paths_agree(uniform):
    # the operator has three code paths: the reduction for uniform similarities, and for
    # others a batched matmul (autograd) or one reused buffer (inference); all equal the
    # materialized matrix, and gradients equal its transpose; the materialized matrix is built
    # in float32, so the comparison allows float32 rounding (relative 1e-7 per entry, summed
    # over a row of <= 10 neighbours) even though the operator runs in float64
    rng = np.random.default_rng(4)
    num_options = (4, 3, 5)
    sims = assigned_similarity(num_options) if uniform else random_similarity(num_options, rng)
    op = KroneckerAdjacency(sims, dtype=torch.float64)
    assert op.uniform is uniform
    dense = normalized_adjacency(space_graph(toy(num_options), sims)).to_dense().double()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(len(dense), 3, dtype=torch.float64, generator=gen, requires_grad=True)
    with torch.no_grad():
        torch.testing.assert_close(op @ x, dense @ x, rtol=1e-5, atol=1e-6)
    w = torch.randn(len(dense), 3, dtype=torch.float64, generator=gen)
    ((op @ x) * w).sum().backward()
    torch.testing.assert_close(x.grad, dense.T @ w, rtol=1e-5, atol=1e-6)


def test_errors():
    op = KroneckerAdjacency(assigned_similarity([2, 3]))
    assert op.shape == (6, 6)
    with pytest.raises(ValueError, match="shape \\[6, F\\]. Got \\(5, 1\\)"):
        op @ torch.zeros(5, 1)
    with pytest.raises(TypeError, match="must be a list"):
        KroneckerAdjacency(None)
    with pytest.raises(ValueError, match="shape \\(2, 2\\) at layer 0. Got shape \\(2, 3\\)"):
        KroneckerAdjacency([np.zeros((2, 3))])
    with pytest.raises(ValueError, match="non-negative"):
        KroneckerAdjacency([np.array([[0, -1.0], [-1.0, 0]])])
    with pytest.raises(TypeError, match="must be a product search space"):
        KroneckerAdjacency.from_space("nasbench201")
    with pytest.raises(ValueError, match="shape \\(3, 3\\) at layer 0"):
        KroneckerAdjacency.from_space(toy((3,)), [np.zeros((2, 2))])

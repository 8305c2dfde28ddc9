import pytest
import torch

from archgraph.spaces.costs import op_cost
from supernet.ops import (
    AvgPool,
    ConvBNReLU,
    Identity,
    InvertedResidual,
    ReLUConvBN,
    ResNetBasicBlock,
    Zero,
)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("cin,cout,k,e,s", [(8, 8, 3, 3, 1), (8, 16, 5, 6, 2), (8, 8, 3, 1, 1)])
def test_inverted_residual_shapes_and_params_match_cost_model(cin, cout, k, e, s):
    m = InvertedResidual(cin, cout, k, e, s)
    y = m(torch.randn(2, cin, 8, 8))
    assert y.shape == (2, cout, 8 // s, 8 // s)
    assert n_params(m) == op_cost(f"k{k}_e{e}", cin, cout, s, 8)[1]
    assert m.residual == (s == 1 and cin == cout)
    assert not any(c.bias is not None for c in m.modules() if isinstance(c, torch.nn.Conv2d))


def test_identity_projects_only_when_shape_changes():
    x = torch.randn(2, 8, 8, 8)
    assert Identity(8, 8, 1)(x) is x
    proj = Identity(8, 16, 2)
    assert proj(x).shape == (2, 16, 4, 4)
    assert n_params(proj) == op_cost("identity", 8, 16, 2, 8)[1]


def test_nb201_ops_keep_shape():
    x = torch.randn(2, 4, 8, 8)
    for m in (Zero(), AvgPool(), ReLUConvBN(4, 4, 3), ReLUConvBN(4, 4, 1), ConvBNReLU(4, 4, 3)):
        assert m(x).shape == x.shape
    assert torch.count_nonzero(Zero()(x)) == 0
    assert ResNetBasicBlock(4, 8)(x).shape == (2, 8, 4, 4)

from __future__ import annotations

import pytest

from archgraph.spaces.costs import OpSpec, linear_cost, op_cost, out_resolution, parse_op


def test_parse_op():
    assert parse_op("k5_e6") == OpSpec("mbconv", 5, 6)
    assert parse_op("conv_k1") == OpSpec("conv", 1, None)
    assert parse_op("identity") == OpSpec("identity") and parse_op("skip").kind == "skip"


@pytest.mark.parametrize("name", ["k4_e6", "k3_e0", "k3e6", "conv3x3", "zero", "K3_E6"])
def test_parse_op_rejects(name):
    with pytest.raises(ValueError, match=f"Unknown op '{name}': expected 'k<kernel>_e<expand>'"):
        parse_op(name)


def test_parse_op_type():
    with pytest.raises(TypeError, match="must be a str. Got int"):
        parse_op(3)


def test_out_resolution():
    assert [out_resolution(r, 2) for r in (7, 8, 112)] == [4, 4, 56]


def test_identity_and_skip():
    assert op_cost("identity", 16, 16, 1, 8) == (0, 0) == op_cost("skip", 16, 16, 1, 8)
    # a projecting identity is a 1x1 conv + BN at the output resolution
    assert op_cost("identity", 16, 32, 2, 8) == (16 * 32 * 16, 16 * 32 + 64)


def test_mbconv_expand_one_has_no_expansion_conv():
    # k3_e1 = depthwise 3x3 + BN + 1x1 project + BN
    assert op_cost("k3_e1", 32, 16, 1, 112) == (
        (9 * 32 + 32 * 16) * 112 ** 2, 9 * 32 + 64 + 32 * 16 + 32)


def test_costs_grow_with_kernel_and_expansion():
    costs = [op_cost(f"k{k}_e{e}", 24, 24, 1, 56) for k in (3, 5, 7) for e in (3, 6)]
    flops = [c[0] for c in costs]
    assert flops[0] < flops[2] < flops[4] and flops[1] < flops[3] < flops[5]
    assert all(costs[i][0] < costs[i + 1][0] for i in (0, 2, 4))


def test_linear_cost():
    assert linear_cost(1280, 10) == (12_800, 12_810)

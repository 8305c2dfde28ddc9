from __future__ import annotations

from archgraph.spaces import get_search_space


def test_structure():
    space = get_search_space("fairnas")
    assert space.num_options == (6,) * 19 and len(space) == 6 ** 19
    assert [l.in_channels for l in space.layers][:4] == [16, 32, 32, 40]
    assert [l.resolution for l in space.layers][::4] == [112, 28, 14, 14, 7]
    assert space.layers[-1].out_channels == 320
    assert space.layers[0].options == ("k3_e3", "k3_e6", "k5_e3", "k5_e6", "k7_e3", "k7_e6")


def test_default_all_k3_e6_is_mobilenet_v2_like():
    # MobileNetV2 1.0 / 1.4 have 300M / 585M multiply-adds and 3.5M / 6.9M params: the
    # all-k3_e6 FairNAS network (19 MobileNetV2 blocks) lies between them
    space = get_search_space("fairnas")
    a = space.default_arch()
    assert space.arch_ops(a) == ("k3_e6",) * 19 and space.to_str(a) == "1" * 19
    assert 300e6 < space.flops(a) < 600e6
    assert 3.5e6 < space.params(a) < 6.9e6
    # exact counts; tests/supernet/test_cost_models.py checks them on the real network
    assert space.flops(a) == 452_036_096 and space.params(a) == 4_679_144


def test_extreme_archs_bound_all_costs():
    space = get_search_space("fairnas")
    small, big = space.from_str("0" * 19), space.from_str("5" * 19)
    sub = space.subspace(range(6), space.default_arch())
    for metric in ("flops", "params"):
        c = sub.costs(metric)
        assert space.cost(metric, [small])[0] < c.min() and c.max() < space.cost(metric, [big])[0]

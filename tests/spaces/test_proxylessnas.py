from __future__ import annotations

from archgraph.spaces import get_search_space


def test_structure():
    space = get_search_space("proxylessnas")
    assert space.num_layers == 21
    firsts = [0, 4, 8, 12, 16, 20]
    assert [space.num_options[l] for l in firsts] == [6] * 6
    assert sum(o == 7 for o in space.num_options) == 15 and len(space) == 6 ** 6 * 7 ** 15
    assert [space.layers[l].out_channels for l in firsts] == [24, 40, 80, 96, 192, 320]
    assert [space.layers[l].stride for l in firsts] == [2, 2, 2, 1, 2, 1]
    assert all(space.layers[l].options[-1] == "skip" for l in range(21) if l not in firsts)


def test_skipping_lowers_costs():
    space = get_search_space("proxylessnas")
    a = space.default_arch()
    ops = list(space.arch_ops(a))
    ops[1] = ops[2] = "skip"
    b = space.from_ops(ops)
    assert space.flops(b) < space.flops(a) and space.params(b) < space.params(a)
    assert space.to_graph(b).x.argmax(1)[2] == space.op_names.index("skip")


def test_all_k3_e6_costs():
    space = get_search_space("proxylessnas")
    a = space.from_ops(("k3_e6",) * 21)
    assert space.flops(a) == 472_620_800 and space.params(a) == 4_684_776

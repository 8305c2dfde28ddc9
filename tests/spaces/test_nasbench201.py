import csv

import numpy as np
import pytest

from archgraph.spaces import ChoiceArch, get_search_space
from archgraph.spaces.arch_graph import validate_arch_graph
from archgraph.spaces.nasbench201 import NB201_OPS, NASBench201Space

ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_SKIP = ("|skip_connect~0|+|skip_connect~0|skip_connect~1|+"
            "|skip_connect~0|skip_connect~1|skip_connect~2|")


@pytest.fixture(scope="module")
def space():
    return get_search_space("nasbench201")


def _rows(path, dataset=None):
    with open(path, newline="") as fh:
        return [r for r in csv.DictReader(fh) if dataset is None or r["dataset"] == dataset]


def test_structure_and_index_order(space):
    assert len(space) == 15625
    assert space.num_options == (5,) * 6
    assert space.op_names == ("input",) + NB201_OPS + ("output",)
    archs = list(space.enumerate())
    assert len(set(archs)) == 15625
    assert space.to_str(archs[0]) == ALL_NONE
    # C order over edges in string order: edge 3<-2 (last) is fastest
    assert archs[1].choices == (0, 0, 0, 0, 0, 1)
    assert archs[5].choices == (0, 0, 0, 0, 1, 0)
    idx = np.random.default_rng(0).integers(0, 15625, size=50)
    assert [space.index(archs[i]) for i in idx] == idx.tolist()
    assert space.from_index(idx) == [archs[i] for i in idx]


@pytest.mark.data
def test_all_benchmark_strings_round_trip(space, shared_data):
    rows = _rows(shared_data / "nasbench201" / "nb201_accuracy.csv")
    archs = [space.from_str(r["arch"]) for r in rows]
    assert [space.to_str(a) for a in archs] == [r["arch"] for r in rows]
    assert len(set(archs)) == 15625 == len(rows)


def test_string_example(space):
    s = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
    arch = space.from_str(s)
    assert arch == ChoiceArch("nasbench201", (3, 0, 1, 4, 2, 0))
    assert space.to_str(arch) == s


@pytest.mark.parametrize("s, match", [
    ("nonsense", "Malformed NAS-Bench-201 string"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2", "Malformed"),
    ("|none~0|+|none~0|none~1|", "has 3 nodes separated by '\\+'. Got 2"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "Got 4"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "Node 2 .* must list inputs '~0' to '~1'"),
    ("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "Node 2"),
    ("|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|",
     "Unknown NAS-Bench-201 op 'conv_3x3'.*valid ops are none, skip_connect, nor_conv_1x1"),
])
def test_from_str_errors(space, s, match):
    with pytest.raises(ValueError, match=match):
        space.from_str(s)


def test_from_str_type_error(space):
    with pytest.raises(TypeError, match="'s' parameter .* must be a str. Got int"):
        space.from_str(3)


def test_num_classes_error():
    with pytest.raises(ValueError, match="'num_classes' parameter of NASBench201Space"):
        NASBench201Space(num_classes=0)


def _ops(space, g):
    return [space.op_names[k] for k in g.x.argmax(1).tolist()]


def test_graph_of_all_none_cell(space):
    g = validate_arch_graph(space.to_graph(space.from_str(ALL_NONE)), space.num_ops)
    assert _ops(space, g) == ["input", "output"]
    assert g.edge_index.shape == (2, 0)


def test_graph_of_all_skip_cell(space):
    g = validate_arch_graph(space.to_graph(space.from_str(ALL_SKIP), y=0.5), space.num_ops)
    assert _ops(space, g) == ["input"] + ["skip_connect"] * 6 + ["output"]
    # nodes 1..6 are edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; node 7 is the output
    expected = {(0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7)}
    assert set(map(tuple, g.edge_index.t().tolist())) == expected
    assert g.y.tolist() == [0.5]


def test_graph_prunes_dead_edges(space):
    # the conv on 1<-0 only reaches the output through 'none' edges: it is dead
    s = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    g = space.to_graph(space.from_str(s))
    assert _ops(space, g) == ["input", "skip_connect", "output"]
    assert g.edge_index.tolist() == [[0, 1], [1, 2]]
    # the pool on 2<-1 never receives data (1<-0 is 'none'), so the conv after it is dead too
    s = "|none~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
    assert _ops(space, space.to_graph(space.from_str(s))) == ["input", "skip_connect", "output"]


def test_graphs_of_a_sample_validate(space):
    for arch in space.sample(200, rng=0):
        g = validate_arch_graph(space.to_graph(arch), space.num_ops)
        ops = _ops(space, g)
        assert ops[0] == "input" and ops[-1] == "output" and "none" not in ops
        n_live = len(ops) - 2
        assert n_live <= 6 and (g.edge_index.size(1) > 0) == (n_live > 0)


def test_costs_are_additive_and_ordered(space):
    assert space.cost_metrics == ("flops", "benchmark_flops", "params")
    none, skip = space.from_str(ALL_NONE), space.from_str(ALL_SKIP)
    assert space.flops(none) == space.flops(skip) == pytest.approx(7.78304e6)  # stem+reductions+fc
    conv3 = ChoiceArch("nasbench201", (3,) * 6)
    conv1 = ChoiceArch("nasbench201", (2,) * 6)
    assert space.flops(conv3) > space.flops(conv1) > space.flops(none)
    assert space.params(conv3) > space.params(conv1) > space.params(none)
    assert np.allclose(space.costs("flops")[space.indices([conv3, conv1])],
                       [space.flops(conv3), space.flops(conv1)])
    big = NASBench201Space(num_classes=100)
    assert big.params(none) - space.params(none) == pytest.approx(90 * 65)


@pytest.mark.data
@pytest.mark.parametrize("dataset, num_classes", [("cifar10", 10), ("cifar100", 100)])
def test_costs_match_benchmark(shared_data, dataset, num_classes):
    space = NASBench201Space(num_classes=num_classes)
    rows = _rows(shared_data / "nasbench201" / "nb201_cost_subset.csv", dataset)
    assert len(rows) > 700
    archs = [space.from_str(r["arch"]) for r in rows]
    params = np.array([float(r["params_m"]) for r in rows])
    flops = np.array([float(r["flops_m"]) for r in rows])
    # params: exact up to the table's 6-decimal rounding
    np.testing.assert_allclose(space.cost("params", archs) / 1e6, params, rtol=0, atol=5e-6)
    # FLOPs as the benchmark counts them: table rounding (6 significant digits, <= 5e-4 M) plus
    # a constant 1,086 ops of the fixed part not attributed to any layer
    np.testing.assert_allclose(space.cost("benchmark_flops", archs) / 1e6, flops, rtol=0,
                               atol=1.5e-3)
    # the project's FLOPs (conv + linear MACs) never exceed the benchmark's broader count
    assert np.all(space.cost("flops", archs) / 1e6 < flops)


def test_default_arch_is_the_all_conv3x3_cell():
    space = get_search_space("nasbench201")
    arch = space.default_arch()
    assert space.to_str(arch).count("nor_conv_3x3") == 6
    assert space.to_graph(arch).num_nodes == 8

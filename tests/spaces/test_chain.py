from __future__ import annotations

import numpy as np
import pytest

from archgraph.spaces import ChainLayer, ChainSpace, ChoiceArch, get_search_space
from archgraph.spaces.arch_graph import validate_arch_graph

MB = ("k3_e3", "k3_e6", "k5_e6")


def tiny_space(options=MB, name="tiny") -> ChainSpace:
    return ChainSpace(name, [
        dict(name="l0", in_channels=8, out_channels=16, stride=2, resolution=8, options=options),
        dict(name="l1", in_channels=16, out_channels=16, stride=1, resolution=4,
             options=options + ("skip",)),
    ], stem=[dict(name="stem", in_channels=3, out_channels=8, stride=1, resolution=8,
                  options=("conv_k3",))], num_classes=4)


def mobilenet_v2() -> ChainSpace:
    """MobileNetV2 1.0 (Sandler et al., 2018) declared as a one-architecture chain space."""
    rows, c, r = [], 16, 112
    for out, n, s in [(24, 2, 2), (32, 3, 2), (64, 4, 2), (96, 3, 1), (160, 3, 2), (320, 1, 1)]:
        for j in range(n):
            rows.append(ChainLayer(f"b{len(rows) + 1}", c, out, s if j == 0 else 1, r, ("k3_e6",)))
            c, r = out, rows[-1].out_resolution
    return ChainSpace("mbv2", rows,
                      stem=[ChainLayer("stem", 3, 32, 2, 224, ("conv_k3",)),
                            ChainLayer("b0", 32, 16, 1, 112, ("k3_e1",))],
                      head=[ChainLayer("head", 320, 1280, 1, 7, ("conv_k1",))], num_classes=1000)


def test_mobilenet_v2_costs_match_published():
    # torchvision's mobilenet_v2 has 3,504,872 parameters; the paper quotes 300M multiply-adds
    space = mobilenet_v2()
    arch = space.default_arch()
    assert space.params(arch) == 3_504_872
    assert 295e6 < space.flops(arch) < 305e6
    assert space.flops(arch) == 300_774_272  # 300.8M, the paper's "300M"


def test_layer_metadata():
    space = tiny_space()
    assert space.layers[1].out_resolution == 4 and space.layers[0].out_resolution == 4
    assert [op.kind for op in space.layers[1].ops] == ["mbconv"] * 3 + ["skip"]
    assert space.layers[0].ops[2].kernel == 5 and space.layers[0].ops[2].expand == 6
    assert space.classifier_features == 16
    assert space.op_names == ("input", *MB, "skip", "output")


def test_str_digits_and_dashes():
    space = tiny_space()
    a = ChoiceArch("tiny", (2, 3))
    assert space.to_str(a) == "23" and space.from_str("23") == a
    wide = tiny_space(options=tuple(f"k{k}_e{e}" for k in (1, 3, 5, 7) for e in (1, 2, 3)),
                      name="wide")
    b = ChoiceArch("wide", (11, 12))
    assert wide.to_str(b) == "11-12" and wide.from_str("11-12") == b


@pytest.mark.parametrize("s, match", [
    ("2", r"2 digits \(layer 1 first\), with per-layer ranges \[0..2, 0..3\]. Got '2'"),
    ("234", "2 digits"), ("2a", "2 digits"), ("", "2 digits"), ("-1", "2 digits"),
    ("33", r"Choice 3 at layer 0 \(l0\) .* expected 0..2 \(k3_e3, k3_e6, k5_e6\)"),
])
def test_from_str_errors(s, match):
    with pytest.raises(ValueError, match=match):
        tiny_space().from_str(s)


def test_from_str_type_error():
    with pytest.raises(TypeError, match="must be a str. Got int"):
        tiny_space().from_str(12)


def test_to_graph_is_a_chain():
    space = tiny_space()
    g = space.to_graph(space.from_str("13"), y=1.0)
    validate_arch_graph(g, space.num_ops)
    assert g.edge_index.tolist() == [[0, 1, 2], [1, 2, 3]]
    assert g.x.argmax(1).tolist() == [0, 2, 4, 5]


def test_from_ops_arch_ops_default():
    space = tiny_space()
    a = space.from_ops(["k3_e6", "skip"])
    assert a.choices == (1, 3) and space.arch_ops(a) == ("k3_e6", "skip")
    assert space.default_arch().choices == (0, 0)
    with pytest.raises(ValueError, match=r"Op 'skip' is not an option of layer 0 \(l0\)"):
        space.from_ops(["skip", "skip"])
    with pytest.raises(ValueError, match="must be a sequence of 2 op names"):
        space.from_ops(["k3_e3"])


def test_costs_additive_per_layer():
    space = tiny_space()
    base_f, tables = space.cost_tables("flops")
    # the skip option costs nothing; a bigger kernel/expansion costs more
    assert tables[1][3] == 0 and tables[0][0] < tables[0][1] < tables[0][2]
    a = ChoiceArch("tiny", (1, 2))
    stem_f = 9 * 3 * 8 * 64
    assert space.flops(a) == stem_f + 16 * 4 + tables[0][1] + tables[1][2] == base_f + \
        tables[0][1] + tables[1][2]


def test_layer_row_errors():
    with pytest.raises(ValueError, match="'stride' parameter of ChainLayer 'x' must be an int"):
        ChainLayer("x", 8, 8, 0, 8, MB)
    with pytest.raises(TypeError, match="sequence of op names. Got the str 'k3_e3'"):
        ChainLayer("x", 8, 8, 1, 8, "k3_e3")
    with pytest.raises(ValueError, match="non-empty sequence of distinct op names"):
        ChainLayer("x", 8, 8, 1, 8, ("k3_e3", "k3_e3"))
    with pytest.raises(ValueError, match="'skip' option of ChainLayer 'x' needs stride 1"):
        ChainLayer("x", 8, 16, 1, 8, ("skip",))
    with pytest.raises(ValueError, match="Unknown op 'sep3'"):
        ChainLayer("x", 8, 8, 1, 8, ("sep3",))
    with pytest.raises(ValueError, match=r"exactly the keys .* missing \['options'\]"):
        ChainLayer.from_row(dict(name="x", in_channels=8, out_channels=8, stride=1,
                                 resolution=8))
    with pytest.raises(TypeError, match="must be a ChainLayer or a mapping"):
        ChainLayer.from_row(("x", 8, 8, 1, 8, MB))


def test_space_table_errors():
    row = ChainLayer("a", 8, 16, 2, 8, MB)
    with pytest.raises(ValueError, match="Layer 'b' of ChainSpace 's' must take the output of "
                                         "'a': 16 channels at 4x4. Got 8 channels at 4x4"):
        ChainSpace("s", [row, ChainLayer("b", 8, 8, 1, 4, MB)])
    with pytest.raises(ValueError, match="at least one layer"):
        ChainSpace("s", [])
    with pytest.raises(ValueError, match="unique"):
        ChainSpace("s", [ChainLayer("a", 8, 8, 1, 8, MB), ChainLayer("a", 8, 8, 1, 8, MB)])
    with pytest.raises(ValueError, match="exactly one option. Got .* for 'stem'"):
        ChainSpace("s", [row], stem=[ChainLayer("stem", 3, 8, 1, 8, MB)])
    with pytest.raises(ValueError, match="'num_classes' parameter of ChainSpace 's'"):
        ChainSpace("s", [row], num_classes=0)


def test_vectorized_costs_equal_per_arch_loop():
    space = get_search_space("fairnas")
    sub = space.subspace([0, 5, 18], space.default_arch())
    archs = list(sub.enumerate())
    for metric in ("flops", "params"):
        loop = np.array([space.cost(metric, [a])[0] for a in archs])
        np.testing.assert_array_equal(sub.costs(metric), loop)
        np.testing.assert_array_equal(sub.cost(metric, archs), loop)

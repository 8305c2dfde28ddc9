"""ProductSpace and Subspace behaviour, exercised on the small NAS-Bench-Macro chain space."""
from __future__ import annotations

import numpy as np
import pytest

from archgraph.spaces import (
    ChoiceArch,
    ProductSpace,
    Subspace,
    get_search_space,
    validate_arch_graph,
)


@pytest.fixture(scope="module")
def space():
    return get_search_space("macro")


def test_validate_errors(space):
    with pytest.raises(TypeError, match=r"Expected an architecture of the 'macro' space "
                                        r"\(ChoiceArch\). Got str"):
        space.validate("01201120")
    with pytest.raises(ValueError, match="Expected an architecture of the 'macro' space. Got one "
                                         "of the 'fairnas' space"):
        space.validate(ChoiceArch("fairnas", (0,) * 8))
    with pytest.raises(ValueError, match="has 8 choices. Got 3"):
        space.validate(ChoiceArch("macro", (0, 1, 2)))
    with pytest.raises(ValueError, match=r"Choice 3 at layer 2 \(stage2_layer0\) of the 'macro' "
                                         r"space is out of range: expected 0..2"):
        space.validate(ChoiceArch("macro", (0, 0, 3, 0, 0, 0, 0, 0)))
    with pytest.raises(ValueError, match="Choice 1.0 at layer 0"):
        space.validate(ChoiceArch("macro", (1.0,) + (0,) * 7))
    with pytest.raises(ValueError, match="Choice True at layer 0"):
        space.validate(ChoiceArch("macro", (True,) + (0,) * 7))


def test_choices_stored_as_tuple(space):
    a = ChoiceArch("macro", [0, 1, 2, 0, 1, 2, 0, 1])  # a list would make it unhashable
    assert a.choices == (0, 1, 2, 0, 1, 2, 0, 1)
    assert hash(a) == hash(space.from_str("01201201")) and a == space.from_str("01201201")
    assert ChoiceArch("macro", np.zeros(8, dtype=np.int64)) in space


def test_encode_decode_errors(space):
    with pytest.raises(TypeError, match="sequence of architectures, not a single ChoiceArch"):
        space.encode(space.sample(1, rng=0)[0])
    with pytest.raises(ValueError, match=r"must have shape \[n, 8\]. Got shape \(2, 3\)"):
        space.decode(np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="Choice 5 at layer 1 is out of range: expected 0..2"):
        space.decode([[0, 5, 0, 0, 0, 0, 0, 0]])
    with pytest.raises(ValueError, match=r"Indices must lie in 0..6560. Got 0..6561"):
        space.from_index([0, 6561])
    assert space.encode([]).shape == (0, 8) and space.indices([]).shape == (0,)


def test_enumeration_order(space):
    archs = list(space.enumerate())
    np.testing.assert_array_equal(space.all_choices(), [a.choices for a in archs])
    assert space.to_str(archs[1]) == "00000001"  # last layer fastest
    idx = np.array([0, 1, 3, 6560])
    assert space.from_index(idx) == [archs[i] for i in idx]
    np.testing.assert_array_equal(space.indices([archs[i] for i in idx]), idx)


def test_sample(space):
    archs = space.sample(100, rng=0)
    assert len(set(archs)) == 100
    assert len(space.sample(7000, rng=0, replace=True)) == 7000
    with pytest.raises(ValueError, match="Cannot sample 7000 distinct architectures from the "
                                         "'macro' space of 6561"):
        space.sample(7000, rng=0)
    with pytest.raises(ValueError, match=r"'n' parameter of ChainSpace.sample must be an int "
                                         r"in \[0, inf\]. Got -1"):
        space.sample(-1, rng=0)
    with pytest.raises(TypeError, match="'random_state' parameter must be None, an int"):
        space.sample(1, rng="seed")


def test_sample_from_a_space_too_large_to_index():
    huge = ProductSpace("huge", [["a", "b"]] * 70)  # 2^70 architectures
    archs = huge.sample(500, rng=0)
    assert len(set(archs)) == 500 and all(a in huge for a in archs)
    assert huge.sample(500, rng=0) == archs


def test_features_onehot(space):
    f = space.features([space.from_str("01201120")])
    assert f.shape == (1, 24) and f.sum() == 8
    assert f[0, 0] == f[0, 4] == f[0, 8] == 1


def test_cost_errors(space):
    with pytest.raises(ValueError, match="'metric' parameter of the 'macro' space must be one "
                                         "of 'flops', 'params'. Got 'flop'.*Did you mean"):
        space.costs("flop")
    with pytest.raises(ValueError, match="one entry per option of each layer"):
        ProductSpace("bad", [["a", "b", "c"]] * 8, costs={"bad": (0.0, [[1.0, 2.0]] * 8)})


def test_subspace_size_validate_costs(space):
    base = space.from_str("01201120")
    sub = space.subspace([6, 1, 3], base)
    assert len(sub) == 27 and sub.num_options == (3, 3, 3) and sub.free_layers == (1, 3, 6)
    archs = list(sub.enumerate())
    assert len(set(archs)) == 27 and all(a in sub for a in archs) and base in sub
    assert all(a.choices[0] == 0 and a.choices[2] == 2 for a in archs)
    np.testing.assert_array_equal(sub.encode(archs), sub.all_choices())
    for metric in ("flops", "params"):
        np.testing.assert_array_equal(sub.costs(metric), space.cost(metric, archs))
    outside = space.from_str("11201120")
    assert outside not in sub
    with pytest.raises(ValueError, match=r"outside the subspace: layer 0 must be 0 as in the "
                                         r"base '01201120', got 1"):
        sub.validate(outside)
    assert sub.to_str(base) == "01201120" and sub.from_str("02211120") in sub
    assert sub.to_graph(base).num_nodes == 10


def test_subspace_errors(space):
    base = space.from_str("00000000")
    with pytest.raises(ValueError, match="distinct layer indices of 0..7. Got \\[1, 1\\]"):
        space.subspace([1, 1], base)
    with pytest.raises(ValueError, match="'layers' parameter of subspace must be an int in"):
        space.subspace([8], base)
    with pytest.raises(TypeError, match="must be a root ProductSpace"):
        Subspace(space.subspace([0], base), base, [((0,), [(0,)])])
    with pytest.raises(ValueError, match="overlap on layers \\[0\\]"):
        Subspace(space, base, [((0,), [(0,)]), ((0, 1), [(0, 0)])])
    with pytest.raises(ValueError, match="must give 2 choices. Got \\(0,\\)"):
        Subspace(space, base, [((0, 1), [(0,)])])
    with pytest.raises(ValueError, match="Choice 4 at layer 1 is out of range"):
        Subspace(space, base, [((0, 1), [(0, 4)])])
    for opts in ([], [(1,), (1,)]):
        with pytest.raises(ValueError, match="Factor on layers \\(0,\\) needs distinct, "
                                             "non-empty options"):
            Subspace(space, base, [((0,), opts)])
    sub = space.subspace([0, 1, 2], base)
    with pytest.raises(ValueError, match="distinct factor indices of 0..2. Got \\[1, 1\\]"):
        sub.subspace([1, 1], base)
    with pytest.raises(ValueError, match="outside the subspace: layer 3 must be 0"):
        sub.subspace([0], space.from_str("00010000"))
    with pytest.raises(ValueError, match="Space 'bad': every layer needs at least one option"):
        ProductSpace("bad", [["a"], []])
    with pytest.raises(ValueError, match="Space 'bad': every layer needs at least one option"):
        ProductSpace("bad", [])


def test_nested_subspace_and_supercell(space):
    base = space.from_str("00000000")
    sub = space.subspace([0, 1, 2, 3], base)
    inner = sub.subspace([0, 2], base)
    assert inner.free_layers == (0, 2) and len(inner) == 9
    best = [space.from_str(s) for s in ("12000000", "21000000", "12000000")]
    merged = sub.with_supercell([0, 1], best, name="sc")
    # layers 2, 3 stay free; layers 0, 1 now take one of the 2 distinct best settings
    assert merged.num_options == (3, 3, 2) and merged.layer_names[-1] == "sc"
    archs = list(merged.enumerate())
    assert {a.choices[:2] for a in archs} == {(1, 2), (2, 1)}
    np.testing.assert_array_equal(merged.costs("flops"), space.cost("flops", archs))
    with pytest.raises(ValueError, match="outside the subspace: layers \\(0, 1\\) are \\(0, 0\\)"):
        merged.validate(base)


def test_plain_product_space_strings_and_graphs():
    small = ProductSpace("grid", [["a", "b"], ["a", "c", "d"]])
    big = ProductSpace("wide", [[f"o{i}" for i in range(12)]] * 2)
    assert small.op_names == ("input", "a", "b", "c", "d", "output")
    for space in (small, big):
        for arch in space.sample(5, rng=0):
            assert space.from_str(space.to_str(arch)) == arch
            graph = validate_arch_graph(space.to_graph(arch), space.num_ops)
            assert graph.num_nodes == space.num_layers + 2
    assert small.to_str(ChoiceArch("grid", (1, 2))) == "12"
    assert big.to_str(ChoiceArch("wide", (11, 3))) == "11-3"
    with pytest.raises(ValueError, match="2 integers joined by '-'"):
        big.from_str("11")
    with pytest.raises(TypeError, match="must be a str"):
        small.from_str(12)


def test_costs_given_to_the_constructor():
    space = ProductSpace("grid", [["a", "b"], ["a", "c", "d"]],
                         costs={"flops": (1.0, [[0, 2], [0, 10, 20]])})
    assert space.cost_metrics == ("flops",)
    np.testing.assert_array_equal(space.costs("flops"), [1, 11, 21, 3, 13, 23])
    assert space.flops(space.from_str("12")) == 23
    sub = space.subspace([1], space.from_str("10"))  # layer 0 fixed to option 1 (cost 2)
    np.testing.assert_array_equal(sub.costs("flops"), [3, 13, 23])


def test_encode_and_indices_take_strings():
    from archgraph.spaces import get_search_space

    space = get_search_space("macro")
    archs = space.sample(5, rng=0)
    strings = [space.to_str(a) for a in archs]
    np.testing.assert_array_equal(space.indices(strings), space.indices(archs))
    np.testing.assert_array_equal(space.encode([strings[0], archs[1]]), space.encode(archs[:2]))
    sub = space.subspace([0, 3], archs[0])
    members = list(sub.enumerate())[:4]
    np.testing.assert_array_equal(sub.indices([sub.to_str(a) for a in members]), [0, 1, 2, 3])
    with pytest.raises(TypeError, match="not a single str"):
        space.encode(strings[0])
    with pytest.raises(ValueError):
        space.indices(["not an architecture"])

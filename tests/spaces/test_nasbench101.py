import itertools
import json

import numpy as np
import pytest

from archgraph.spaces import get_search_space
from archgraph.spaces.arch_graph import validate_arch_graph
from archgraph.spaces.nasbench101 import NB101_INNER_OPS, NB101Cell, _num_labellings

C3, C1, MP = NB101_INNER_OPS
# input -> c3 -> c1 -> output, input -> mp -> output, c3 -> output
ADJ = [[0, 1, 0, 1, 0],
       [0, 0, 1, 0, 1],
       [0, 0, 0, 0, 1],
       [0, 0, 0, 0, 1],
       [0, 0, 0, 0, 0]]
OPS = ["input", C3, C1, MP, "output"]


@pytest.fixture(scope="module")
def space():
    return get_search_space("nasbench101")


@pytest.fixture(scope="module")
def cells(shared_data):
    with open(shared_data / "nasbench101" / "nb101_1k.json") as fh:
        return json.load(fh)


@pytest.mark.data
def test_official_hash_of_all_shipped_cells(space, cells):
    archs = [space.from_spec(c["adjacency"], c["ops"]) for c in cells]
    assert [space.hash(a) for a in archs] == [c["hash"] for c in cells]
    assert len(set(archs)) == len(cells)


@pytest.mark.data
def test_strings_round_trip(space, cells):
    for c in cells[:200]:
        arch = space.from_spec(c["adjacency"], c["ops"])
        back = space.from_str(space.to_str(arch))
        assert back == arch and back.adjacency == arch.adjacency and back.ops == arch.ops


def test_string_form(space):
    arch = space.from_spec(ADJ, OPS)
    codes, bits = space.to_str(arch).split("|")
    assert codes == "in,c3,c1,mp,out" and bits == "1010" + "101" + "01" + "1"
    assert space.from_str("in,c3,out|111") == space.from_spec([[0, 1, 1], [0, 0, 1], [0, 0, 0]],
                                                              ["input", C3, "output"])


def test_isomorphic_relabelling_is_equal(space):
    arch = space.from_spec(ADJ, OPS)
    order = [0, 3, 1, 2, 4]  # mp first: still a topological order
    adj = np.asarray(ADJ)[np.ix_(order, order)]
    other = space.from_spec(adj, [OPS[k] for k in order])
    assert other.adjacency != arch.adjacency
    assert other == arch and hash(other) == hash(arch) and space.hash(other) == space.hash(arch)
    assert len({arch, other}) == 1
    swapped = space.from_spec(ADJ, ["input", C1, C3, MP, "output"])
    assert swapped != arch


def test_pruning(space):
    # node 2 (mp) has no path to the output; node 3 (c1) is not reached from the input
    adj = [[0, 1, 1, 0, 0],
           [0, 0, 0, 0, 1],
           [0, 0, 0, 0, 0],
           [0, 0, 0, 0, 1],
           [0, 0, 0, 0, 0]]
    arch = space.from_spec(adj, ["input", C3, MP, C1, "output"])
    assert arch.ops == ("input", C3, "output")
    assert arch.adjacency == ((0, 1, 0), (0, 0, 1), (0, 0, 0))
    with pytest.raises(ValueError, match="2 node\\(s\\) not on an input->output path"):
        space.validate(NB101Cell(adj, ["input", C3, MP, C1, "output"]))


def _chain(n):  # input -> 1 -> ... -> output
    return np.eye(n, k=1, dtype=int), ["input"] + [C3] * (n - 2) + ["output"]


@pytest.mark.parametrize("adj, ops, exc, match", [
    (ADJ, "input,output", TypeError, "'ops' parameter .* must be a sequence of str"),
    ([[0, "a"], [0, 0]], ["input", "output"], TypeError, "'adjacency' parameter .* square 0/1"),
    (ADJ, OPS[:4], ValueError, "one row per op \\(4\\). Got shape \\(5, 5\\)"),
    ([[0, 2], [0, 0]], ["input", "output"], ValueError, "must hold only 0 and 1"),
    ([[0, 1], [1, 0]], ["input", "output"], ValueError, "strictly upper triangular.*\\(1, 0\\)"),
    ([[0, 1], [0, 0]], [C3, "output"], ValueError, "must start with 'input' and end with"),
    ([[0, 1], [0, 0]], ["input", C3], ValueError, "must start with 'input' and end with"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], ValueError,
     "Unknown NAS-Bench-101 op 'conv5x5'.*conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3"),
    ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"], ValueError,
     "must be connected to its output"),
    (*_chain(8), ValueError, "at most 7 nodes after pruning. Got 8"),
    (np.triu(np.ones((6, 6), dtype=int), 1), ["input"] + [C3] * 4 + ["output"], ValueError,
     "at most 9 edges after pruning. Got 15"),
])
def test_from_spec_errors(space, adj, ops, exc, match):
    with pytest.raises(exc, match=match):
        space.from_spec(adj, ops)


def test_cell_with_bad_ops_and_validate_type(space):
    with pytest.raises(ValueError, match="A NAS-Bench-101 cell needs 2 ops"):
        NB101Cell(((0, 1), (0, 0)), ("input", "conv"))
    with pytest.raises(TypeError, match="Expected an architecture of the 'nasbench101' space"):
        space.validate("in,out|1")
    assert "in,out|1" not in space and space.from_str("in,out|1") in space


@pytest.mark.parametrize("s, exc, match", [
    (3, TypeError, "'s' parameter .* must be a str. Got int"),
    ("in,c3,out", ValueError, "Malformed NAS-Bench-101 string"),
    ("in,c5,out|111", ValueError, "Unknown NAS-Bench-101 op code 'c5'.*c3 \\(conv3x3-bn-relu\\)"),
    ("in,c3,out|11", ValueError, "must be 3 bits \\(0/1\\) for 3 nodes. Got '11'"),
    ("in,c3,out|112", ValueError, "must be 3 bits"),
])
def test_from_str_errors(space, s, exc, match):
    with pytest.raises(exc, match=match):
        space.from_str(s)


def test_no_enumeration(space):
    assert len(space) == 423_624
    with pytest.raises(NotImplementedError, match="cannot be enumerated"):
        next(space.enumerate())
    with pytest.raises(NotImplementedError, match="no enumeration index"):
        space.index(space.from_spec(ADJ, OPS))


def test_sample_distinct_valid_reproducible(space):
    archs = space.sample(100, rng=0)
    assert len(set(archs)) == 100 and all(a in space for a in archs)
    assert [space.to_str(a) for a in archs] == [space.to_str(a) for a in space.sample(100, rng=0)]
    # uniform over distinct cells: most cells of the benchmark have 7 nodes
    assert np.mean([a.num_nodes == 7 for a in archs]) > 0.6
    with pytest.raises(ValueError, match="'n' parameter of NASBench101Space.sample"):
        space.sample(-1)


def test_num_labellings_counts_specs(space):
    # every valid pruned 4-node spec, grouped by cell: a cell has exactly L specs
    m = 4
    iu = np.triu_indices(m, 1)
    count = {}
    for bits in itertools.product((0, 1), repeat=len(iu[0])):
        adj = np.zeros((m, m), dtype=int)
        adj[iu] = bits
        for inner in itertools.product(NB101_INNER_OPS, repeat=m - 2):
            try:
                arch = space.from_spec(adj, ["input", *inner, "output"])
            except ValueError:
                continue
            if arch.num_nodes == m:
                count.setdefault(arch, []).append(1)
    for arch, specs in count.items():
        assert _num_labellings(np.asarray(arch.adjacency), arch.ops) == len(specs)
    assert max(map(len, count.values())) == 2  # the two inner nodes can swap when symmetric


def test_to_graph(space):
    arch = space.from_spec(ADJ, OPS)
    g = validate_arch_graph(space.to_graph(arch, y=0.9), space.num_ops)
    assert [space.op_names[k] for k in g.x.argmax(1).tolist()] == OPS
    assert set(map(tuple, g.edge_index.t().tolist())) == {(0, 1), (0, 3), (1, 2), (1, 4),
                                                          (2, 4), (3, 4)}
    for a in space.sample(20, rng=1):
        validate_arch_graph(space.to_graph(a), space.num_ops)


def test_features(space):
    small = space.from_str("in,out|1")
    f = space.features([space.from_spec(ADJ, OPS), small])
    assert f.shape == (2, 21 + 15)
    # padded 2-node cell: its one edge becomes input -> slot 6 (the output slot)
    assert f[1, :21].tolist() == [0] * 5 + [1] + [0] * 15 and f[1, 21:].sum() == 0
    assert f[0, 21:].reshape(5, 3).tolist()[:3] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert f[0, :21].sum() == 6
    with pytest.raises(TypeError, match="sequence of architectures, not a single NB101Cell"):
        space.features(small)


def test_from_str_refuses_non_canonical_strings():
    # found by the long fuzz run: an unpruned string (the max-pool node is on no
    # input->output path) was accepted as the pruned cell, so one cell had two strings
    space = get_search_space("nasbench101")
    cell = space.from_str("in,c1,c3,c3,c3,out|110011000100101")
    assert space.to_str(cell) == "in,c1,c3,c3,c3,out|110011000100101"
    with pytest.raises(ValueError, match=r"'in,mp,c1,c3,c3,c3,out\|011001100001000100101' is "
                                         r"not in canonical form .* the cell's string is "
                                         r"'in,c1,c3,c3,c3,out\|110011000100101'"):
        space.from_str("in,mp,c1,c3,c3,c3,out|011001100001000100101")
    spec = space.from_spec(*_spec("in,mp,c1,c3,c3,c3,out|011001100001000100101"))
    assert spec == cell  # other forms of a cell still go through from_spec


def _spec(s):
    from archgraph.spaces.nasbench101 import _OPS_OF_CODE

    codes, bits = s.split("|")
    ops = [_OPS_OF_CODE[c] for c in codes.split(",")]
    a = np.zeros((len(ops), len(ops)), dtype=int)
    a[np.triu_indices(len(ops), 1)] = [int(b) for b in bits]
    return a, ops

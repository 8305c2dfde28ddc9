"""Contract test of every registered search space: adding a space adds its tests."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from archgraph.spaces import get_search_space, list_search_spaces, register_search_space
from archgraph.spaces.arch_graph import validate_arch_graph
from archgraph.spaces.product_space import ProductSpace

#: size of every registered space (a newly registered one must be added here)
KNOWN_SIZES = {"nasbench201": 15_625, "macro": 6_561, "digits5": 3 ** 5, "digits5v2": 3 ** 5,
               "fairnas": 6 ** 19,
               "proxylessnas": 6 ** 6 * 7 ** 15,
               "nasbench101": 423_624}  # distinct cells up to isomorphism (Ying et al.)


@pytest.fixture(scope="module", params=list_search_spaces())
def space(request):
    return get_search_space(request.param)


def test_sample_validate_roundtrip_graph(space):
    archs = space.sample(5, rng=0)
    assert len(archs) == 5
    for a in archs:
        assert space.validate(a) is a
        assert a in space
        s = space.to_str(a)
        assert isinstance(s, str)
        assert space.from_str(s) == a
        g = space.to_graph(a, y=0.5)
        validate_arch_graph(g, space.num_ops)
        assert g.x.size(1) == len(space.op_names)
        assert float(g.y) == 0.5


def test_archs_hashable_and_immutable(space):
    a, b = space.sample(2, rng=1)
    assert len({a, b, space.from_str(space.to_str(a))}) == 2
    for f in dataclasses.fields(a):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(a, f.name, getattr(b, f.name))


def test_sampling_is_reproducible(space):
    assert space.sample(4, rng=3) == space.sample(4, rng=3)


def test_contains_rejects_other_objects(space):
    assert "not an arch" not in space
    assert None not in space


def test_features_fixed_length(space):
    f = space.features(space.sample(8, rng=2))
    g = space.features(space.sample(3, rng=5))
    assert f.ndim == g.ndim == 2 and f.shape[0] == 8 and f.shape[1] == g.shape[1] > 0
    assert np.isfinite(f).all() and len({tuple(r) for r in f}) > 1  # archs are told apart


def test_known_sizes(space):
    assert len(space) == KNOWN_SIZES[space.name]
    if len(space) <= 20_000:
        archs = list(space.enumerate())
        assert len(archs) == len(set(archs)) == KNOWN_SIZES[space.name]


@pytest.mark.parametrize("name", [n for n in list_search_spaces()
                                  if isinstance(get_search_space(n), ProductSpace)])
def test_product_space_index_roundtrip(name):
    space = get_search_space(name)
    archs = space.sample(6, rng=4)
    assert space.from_index(space.indices(archs)) == archs


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="must be one of .*'macro'.*Did you mean 'macro'"):
        get_search_space("macr")
    with pytest.raises(TypeError, match="must be a str"):
        get_search_space(3)


def test_duplicate_registration_rejected():
    with pytest.raises(ValueError, match="'macro' is already registered"):
        register_search_space("macro")(lambda: None)


def test_list_pattern():
    assert list_search_spaces("mac*") == ["macro"]

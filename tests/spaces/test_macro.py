from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from archgraph.spaces import get_search_space


def test_structure():
    space = get_search_space("macro")
    assert space.num_options == (3,) * 8 and len(space) == 6561
    assert [l.stride for l in space.layers] == [2, 1, 2, 1, 1, 2, 1, 1]
    assert space.layers[-1].out_channels == 256 and space.layers[-1].out_resolution == 4
    assert space.op_names == ("input", "identity", "k3_e3", "k5_e6", "output")


def test_readme_example():
    space = get_search_space("macro")
    a = space.from_str("00000000")
    assert space.params(a) == 387_882 and space.flops(a) == 7_713_280


@pytest.mark.data
def test_costs_equal_published_for_all_6561(shared_data):
    space = get_search_space("macro")
    df = pd.read_csv(shared_data / "macro" / "nas_bench_macro_cifar10.csv", dtype={"arch": str})
    assert len(df) == 6561
    archs = [space.from_str(s) for s in df["arch"]]
    idx = space.indices(archs)
    assert len(set(idx.tolist())) == 6561
    np.testing.assert_array_equal(space.costs("params")[idx], df["params"].to_numpy())
    np.testing.assert_array_equal(space.costs("flops")[idx], df["flops"].to_numpy())

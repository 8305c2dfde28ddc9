import json

import numpy as np

from archgraph.spaces import get_search_space
from supernet.compare import load_groundtruth


def test_load_groundtruth_keeps_leading_zeros(tmp_path):
    space = get_search_space("digits5v2")
    archs = space.decode([[0, 0, 0, 0, 0], [0, 0, 0, 2, 0], [1, 2, 0, 0, 1]])
    flops = space.cost("flops", archs)
    rows = ["arch,flops,acc_seed0,acc_seed1"] + [
        f"{space.to_str(a)},{f},{50 + i},{51 + i}" for i, (a, f) in enumerate(zip(archs, flops))]
    path = tmp_path / "gt.csv"
    path.write_text("\n".join(rows) + "\n")
    path.with_suffix(".json").write_text(json.dumps({"space": "digits5v2"}))
    truth = load_groundtruth(path)
    assert truth.archs == archs  # "00000" is an architecture string, not the number 0
    np.testing.assert_array_equal(truth.accuracy, [50.5, 51.5, 52.5])

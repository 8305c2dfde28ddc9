import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from archgraph.evaluators import Evaluator
from supernet.standalone import StandaloneEvaluator


def test_standalone_is_a_deterministic_evaluator(tiny_space, tiny_data):
    ev = StandaloneEvaluator(tiny_space, tiny_data, tiny_data, epochs=2, batch_size=16)
    assert isinstance(ev, Evaluator)
    archs = tiny_space.sample(2, rng=0)
    acc = ev.evaluate(archs)
    assert acc.shape == (2,) and np.all((0 <= acc) & (acc <= 100))
    np.testing.assert_array_equal(ev.evaluate(archs), acc)
    assert ev.metadata["evaluator"] == "standalone"


def test_bad_inputs(tiny_space, tiny_data):
    rgb = TensorDataset(torch.randn(4, 3, 8, 8), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"'train_data' parameter of StandaloneEvaluator must "
                                         r"hold images of shape \[1, 8, 8\]"):
        StandaloneEvaluator(tiny_space, rgb, tiny_data)
    with pytest.raises(ValueError, match="'epochs' parameter of StandaloneEvaluator"):
        StandaloneEvaluator(tiny_space, tiny_data, tiny_data, epochs=0)


def test_refuses_other_space_and_bad_labels(tiny_space, tiny_data):
    from torch.utils.data import Subset

    from archgraph.spaces import get_search_space

    from .conftest import Unlabelled

    ev = StandaloneEvaluator(tiny_space, tiny_data, tiny_data, epochs=1, batch_size=16)
    with pytest.raises(ValueError, match="Expected an architecture of the 'tiny_chain' space"):
        ev.evaluate(get_search_space("macro").sample(1, rng=0))
    x, _ = tiny_data.tensors
    wrong = TensorDataset(x[:4], torch.tensor([0, 1, 2, 9]))
    for data in (Subset(wrong, range(4)), Unlabelled(wrong)):
        with pytest.raises(ValueError, match=r"'val_data' parameter of StandaloneEvaluator "
                                             r"must have labels in 0..3.*Got labels 0..9"):
            StandaloneEvaluator(tiny_space, tiny_data, data)

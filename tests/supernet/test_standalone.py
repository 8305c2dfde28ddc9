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

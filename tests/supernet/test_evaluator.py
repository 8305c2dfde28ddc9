import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from archgraph.evaluators import Evaluator
from archgraph.spaces import get_search_space
from supernet import SuperNet
from supernet.bn_recal import recalibrate_bn
from supernet.evaluator import SupernetEvaluator, accuracy
from supernet.samplers import UniformSampler
from supernet.train import train


@pytest.fixture
def trained(tiny_space, tiny_data):
    net = SuperNet(tiny_space, random_state=0)
    train(net, tiny_data, 2, sampler=UniformSampler(tiny_space, 0), batch_size=16,
          progress=False)
    return net


def test_protocol_determinism_and_no_side_effects(trained, tiny_space, tiny_data):
    ev = SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=2, batch_size=16)
    assert isinstance(ev, Evaluator) and ev.space is tiny_space
    archs = tiny_space.sample(5, rng=0)
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    acc = ev.evaluate(archs)
    assert acc.shape == (5,) and np.all((0 <= acc) & (acc <= 100))
    np.testing.assert_array_equal(ev.evaluate(archs[::-1])[::-1], acc)
    np.testing.assert_array_equal(ev.evaluate(archs[2:3]), acc[2:3])
    assert all(torch.equal(before[k], v) for k, v in trained.state_dict().items())


def test_matches_extract_recalibrate_evaluate(trained, tiny_space, tiny_data):
    ev = SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=2, batch_size=16)
    arch = tiny_space.sample(1, rng=4)[0]
    sub = recalibrate_bn(trained.extract_subnet(arch), ev.recal, 2).eval()
    x, y = tiny_data.tensors
    assert ev.evaluate([arch])[0] == pytest.approx(accuracy(sub, x, y, 16))


def test_without_recalibration_uses_supernet_stats(trained, tiny_space, tiny_data):
    ev = SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=None)
    arch = tiny_space.sample(1, rng=4)[0]
    x, y = tiny_data.tensors
    assert ev.evaluate([arch])[0] == pytest.approx(
        accuracy(lambda b: trained.eval()(b, arch), x, y, 256))


def test_bad_inputs(trained, tiny_space, tiny_data):
    with pytest.raises(ValueError, match=r"'recal_batches' parameter of SupernetEvaluator must "
                                         r"be an int in \[1, inf\]. Got 0"):
        SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=0)
    wrong = TensorDataset(torch.randn(4, 1, 8, 8), torch.full((4,), 9))
    with pytest.raises(ValueError, match="'val_data' parameter of SupernetEvaluator must have "
                                         "labels in 0..3"):
        SupernetEvaluator(trained, tiny_data, wrong)
    ev = SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=1)
    with pytest.raises(ValueError, match="Expected an architecture of the 'tiny_chain' space"):
        ev.evaluate(get_search_space("macro").sample(1, rng=0))
    with pytest.raises(TypeError, match="'supernet' parameter of SupernetEvaluator"):
        SupernetEvaluator(torch.nn.Linear(2, 2), tiny_data, tiny_data)


def test_any_torch_dataset_works(trained, tiny_space, tiny_data):
    from torch.utils.data import Subset

    ev = SupernetEvaluator(trained, Subset(tiny_data, range(32)), Subset(tiny_data, range(16)),
                           recal_batches=1, batch_size=16)
    assert ev.evaluate(tiny_space.sample(2, rng=0)).shape == (2,)

import functools

import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from archgraph.spaces import get_search_space
from supernet import build_supernet
from supernet.samplers import StrictFairSampler, UniformSampler
from supernet.train import train

from .conftest import Unlabelled


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                 b.state_dict().values()))


@pytest.mark.parametrize("sampler_cls", [UniformSampler, StrictFairSampler])
def test_resume_equals_uninterrupted(tiny_space, tiny_data, tmp_path, sampler_cls):
    kw = dict(batch_size=16, label_smoothing=0.1, progress=False, random_state=3)
    ref = build_supernet(tiny_space, random_state=0)
    hist = train(ref, tiny_data, 3, sampler=sampler_cls(tiny_space, 1), **kw)
    ck = tmp_path / "ck.pt"
    net = build_supernet(tiny_space, random_state=0)
    train(net, tiny_data, 3, sampler=sampler_cls(tiny_space, 1), checkpoint=ck, stop_after=1,
          **kw)
    assert not same_weights(net, ref)
    net = build_supernet(tiny_space, random_state=0)  # a new process: fresh model and sampler
    resumed = train(net, tiny_data, 3, sampler=sampler_cls(tiny_space, 1), checkpoint=ck, **kw)
    assert same_weights(net, ref)
    assert [h["loss"] for h in resumed] == [h["loss"] for h in hist]
    assert hist[-1]["lr"] == pytest.approx(0.0)


def test_training_lowers_the_loss_and_user_optimizer(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
    adam = functools.partial(torch.optim.Adam, lr=1e-2)
    hist = train(net, tiny_data, 6, sampler=UniformSampler(tiny_space, 0), batch_size=16,
                 optimizer=adam, progress=False)
    assert hist[-1]["loss"] < hist[0]["loss"]
    with pytest.raises(ValueError, match=r"\['lr'\] parameter\(s\) of train apply to the "
                                         r"default SGD only"):
        train(net, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), optimizer=adam, lr=0.1)


def test_data_must_fit_the_config(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
    sampler = UniformSampler(tiny_space, 0)
    big = TensorDataset(torch.randn(8, 1, 16, 16), torch.zeros(8, dtype=torch.long))
    with pytest.raises(ValueError, match=r"images of shape \[1, 8, 8\].*Got images of shape "
                                         r"\[1, 16, 16\]"):
        train(net, big, 1, sampler=sampler)
    many = TensorDataset(torch.randn(8, 1, 8, 8), torch.arange(8))
    with pytest.raises(ValueError, match=r"labels in 0..3 \(num_classes.*Got labels 0..7"):
        train(net, many, 1, sampler=sampler)
    with pytest.raises(ValueError, match="'label_smoothing' parameter of train"):
        train(net, tiny_data, 1, sampler=sampler, label_smoothing=1.5)
    with pytest.raises(ValueError, match="'sampler' parameter of train samples the 'macro' "
                                         "space. Expected the model's 'tiny_chain' space"):
        train(net, tiny_data, 1, sampler=UniformSampler(get_search_space("macro"), 0))
    with pytest.raises(TypeError, match="'epochs' parameter of train"):
        train(net, tiny_data, 1.0, sampler=sampler)


def test_labels_of_any_dataset_are_checked(tiny_space, tiny_data):
    x, _ = tiny_data.tensors
    wrong = TensorDataset(x[:8], torch.tensor([0, 1, 2, 3, 0, 1, 2, 9]))
    for data in (Subset(wrong, range(8)), Unlabelled(wrong)):
        net = build_supernet(tiny_space, random_state=0)
        with pytest.raises(ValueError, match=r"'train_data' parameter of train must have labels "
                                             r"in 0..3.*Got labels 0..9"):
            train(net, data, 1, sampler=UniformSampler(tiny_space, 0), batch_size=8,
                  progress=False)

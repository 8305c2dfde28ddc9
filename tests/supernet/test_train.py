import functools

import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from archgraph.spaces import get_search_space
from supernet import SupernetConfig, build_supernet
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


def test_refuses_checkpoint_of_other_config(tiny_space, tiny_data, tmp_path):
    ck = tmp_path / "ck.pt"
    net = build_supernet(tiny_space, random_state=0)
    train(net, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), checkpoint=ck,
          progress=False)
    other = build_supernet(tiny_space, random_state=0)
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match="different training setup.*'lr' is 0.05 there, 0.1 here"):
        train(other, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), checkpoint=ck,
              lr=0.1, progress=False)
    assert all(torch.equal(before[k], v) for k, v in other.state_dict().items())


def test_refuses_corrupted_checkpoint(tiny_space, tiny_data, tmp_path):
    ck = tmp_path / "ck.pt"
    net = build_supernet(tiny_space, random_state=0)
    train(net, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), checkpoint=ck,
          progress=False)
    ck.write_bytes(ck.read_bytes()[:300])
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ValueError, match="is corrupted or not a checkpoint of supernet.train"):
        train(net, tiny_data, 2, sampler=UniformSampler(tiny_space, 0), checkpoint=ck,
              progress=False)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    torch.save({"format": "something else"}, ck)
    with pytest.raises(ValueError, match="expected a dict with format"):
        train(net, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), checkpoint=ck,
              progress=False)


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


def test_refuses_user_optimizer_with_other_hyperparameters(tiny_space, tiny_data, tmp_path):
    ck = tmp_path / "ck.pt"
    kw = dict(sampler=UniformSampler(tiny_space, 0), batch_size=16, checkpoint=ck,
              progress=False)
    adam = functools.partial(torch.optim.Adam, lr=1e-2)
    train(build_supernet(tiny_space, random_state=0), tiny_data, 2, optimizer=adam, stop_after=1,
          **kw)
    for other in (functools.partial(torch.optim.Adam, lr=1e-3),
                  functools.partial(torch.optim.Adam, lr=1e-2, betas=(0.5, 0.999))):
        with pytest.raises(ValueError, match=r"different training setup.*optimizer_groups "
                                             r"differ"):
            train(build_supernet(tiny_space, random_state=0), tiny_data, 2, optimizer=other, **kw)
    assert len(train(build_supernet(tiny_space, random_state=0), tiny_data, 2, optimizer=adam,
                     **kw)) == 2


def test_refuses_checkpoint_of_other_supernet_config(tiny_space, tiny_data, tmp_path):
    ck = tmp_path / "ck.pt"
    train(build_supernet(tiny_space, random_state=0), tiny_data, 1,
          sampler=UniformSampler(tiny_space, 0), checkpoint=ck, progress=False)
    wide = build_supernet(tiny_space, SupernetConfig(width_mult=2.0), random_state=0)
    with pytest.raises(ValueError, match=r"different training setup.*config, parameters differ "
                                         r"\(e.g. 'config' is .*'width_mult': 1.0.* there, "
                                         r".*'width_mult': 2.0"):
        train(wide, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), checkpoint=ck,
              progress=False)


def test_tampered_checkpoint_leaves_the_model_unchanged(tiny_space, tiny_data, tmp_path):
    ck = tmp_path / "ck.pt"
    kw = dict(sampler=UniformSampler(tiny_space, 0), checkpoint=ck, progress=False)
    train(build_supernet(tiny_space, random_state=0), tiny_data, 2, stop_after=1, **kw)
    state = torch.load(ck, weights_only=True)
    # every tensor changed, the last one also of another shape: it loads, but only in part
    state["model"] = {k: v + 1 for k, v in state["model"].items()}
    state["model"]["classifier.bias"] = torch.zeros(7)
    torch.save(state, ck)
    net = build_supernet(tiny_space, random_state=5)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(ValueError, match=r"(?s)Checkpoint '.*ck.pt' is corrupted: "
                                         r"RuntimeError.*size mismatch for classifier.bias"):
        train(net, tiny_data, 2, **kw)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


class Payload:
    """Unpickling it runs code: creates the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def test_pickled_code_in_checkpoint_is_refused_not_run(tiny_space, tiny_data, tmp_path):
    from supernet.evaluator import SupernetEvaluator

    ck, marker = tmp_path / "ck.pt", tmp_path / "ran"
    kw = dict(sampler=UniformSampler(tiny_space, 0), checkpoint=ck, progress=False)
    train(build_supernet(tiny_space, random_state=0), tiny_data, 2, stop_after=1, **kw)
    state = torch.load(ck, weights_only=True)
    state["history"] = [Payload(marker)]
    torch.save(state, ck)
    with pytest.raises(ValueError, match=r"(?s)Checkpoint '.*ck.pt' is corrupted or not a "
                                         r"checkpoint of supernet.train: UnpicklingError"):
        train(build_supernet(tiny_space, random_state=0), tiny_data, 2, **kw)
    with pytest.raises(ValueError, match="is corrupted or not a checkpoint of supernet.train"):
        SupernetEvaluator.from_checkpoint(tiny_space, ck)
    assert not marker.exists()
    torch.load(ck, weights_only=False)  # the payload is live: a plain pickle load runs it
    assert marker.exists()

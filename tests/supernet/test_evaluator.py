import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import TensorDataset

from archgraph.datasets.predictor_dataset import build_predictor_dataset, read_table
from archgraph.evaluators import Evaluator
from archgraph.spaces import get_search_space
from archgraph.utils.io import state_digest
from supernet import SupernetConfig, build_supernet
from supernet.bn_recal import recalibrate_bn
from supernet.evaluator import SupernetEvaluator, accuracy
from supernet.samplers import UniformSampler
from supernet.train import train

from .conftest import Unlabelled


@pytest.fixture
def trained(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
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


def test_labels_and_images_of_any_dataset_are_checked(trained, tiny_data):
    from torch.utils.data import Subset

    x, _ = tiny_data.tensors
    wrong = TensorDataset(x[:8], torch.tensor([0, 1, 2, 3, 0, 1, 2, 9]))
    for data in (Subset(wrong, range(8)), Unlabelled(wrong)):
        with pytest.raises(ValueError, match=r"'val_data' parameter of SupernetEvaluator must "
                                             r"have labels in 0..3.*Got labels 0..9"):
            SupernetEvaluator(trained, tiny_data, data)
    big = TensorDataset(torch.randn(4, 1, 16, 16), torch.zeros(4, dtype=torch.long))
    for kw in (dict(train_data=big, val_data=tiny_data), dict(train_data=tiny_data, val_data=big)):
        name = "train_data" if kw["train_data"] is big else "val_data"
        with pytest.raises(ValueError, match=rf"'{name}' parameter of SupernetEvaluator must "
                                             r"hold images of shape \[1, 8, 8\].*Got images of "
                                             r"shape \[1, 16, 16\]"):
            SupernetEvaluator(trained, **kw)


def test_weights_fingerprint_keeps_predictor_datasets_apart(tiny_space, tiny_data, tmp_path):
    a, b = build_supernet(tiny_space, random_state=0), build_supernet(tiny_space, random_state=1)
    assert a.config == b.config
    kw = dict(recal_batches=1, batch_size=16)
    ev_a = SupernetEvaluator(a, tiny_data, tiny_data, **kw)
    assert SupernetEvaluator(a, tiny_data, tiny_data, **kw).metadata == ev_a.metadata
    path = tmp_path / "t.csv"
    table = build_predictor_dataset(tiny_space, ev_a, 3, path, progress=False)
    with pytest.raises(ValueError, match="Cannot resume .* its 'evaluator' column holds"):
        build_predictor_dataset(tiny_space, SupernetEvaluator(b, tiny_data, tiny_data, **kw), 3,
                                path, progress=False)
    pd.testing.assert_frame_equal(read_table(path), table)  # nothing mixed in
    again = build_predictor_dataset(tiny_space, SupernetEvaluator(a, tiny_data, tiny_data, **kw),
                                    3, path, progress=False)
    pd.testing.assert_frame_equal(again, table)


@pytest.fixture
def checkpoint(tiny_space, tiny_data, tmp_path):
    """A tiny-space supernet with 10 classes (the digits data), trained one epoch."""
    net = build_supernet(tiny_space, SupernetConfig(num_classes=10), random_state=0)
    path = tmp_path / "ck.pt"
    train(net, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), batch_size=16,
          checkpoint=path, progress=False)
    return path


def test_from_checkpoint(checkpoint, tiny_space):
    ev = SupernetEvaluator.from_checkpoint(tiny_space, checkpoint, recal_batches=1)
    state = torch.load(checkpoint, weights_only=True)
    assert all(torch.equal(state["model"][k], v) for k, v in ev.supernet.state_dict().items())
    assert ev.evaluate(tiny_space.sample(2, rng=0)).shape == (2,)


def test_from_checkpoint_refuses_other_space_corrupted_and_tampered(checkpoint, tiny_space):
    with pytest.raises(ValueError, match=r"'checkpoint' parameter of SupernetEvaluator."
                                         r"from_checkpoint must hold a supernet of the 'macro' "
                                         r"space. Got one of 'tiny_chain'"):
        SupernetEvaluator.from_checkpoint(get_search_space("macro"), checkpoint)
    state = torch.load(checkpoint, weights_only=True)
    key = next(k for k in state["model"] if k.endswith("weight"))
    state["model"][key] = torch.zeros(3, 3)
    tampered = checkpoint.with_name("tampered.pt")
    torch.save(state, tampered)
    with pytest.raises(ValueError, match=r"Checkpoint '.*tampered.pt' is corrupted: its content "
                                         r"does not match its sha256 checksum"):
        SupernetEvaluator.from_checkpoint(tiny_space, tampered)
    state.pop("sha256")
    state["sha256"] = state_digest(state)  # a deliberate edit with a recomputed checksum
    torch.save(state, tampered)
    with pytest.raises(ValueError, match=rf"(?s)Checkpoint '.*tampered.pt' is corrupted: its "
                                         rf"weights do not fit the supernet of its config: "
                                         rf"RuntimeError.*size mismatch for {key}"):
        SupernetEvaluator.from_checkpoint(tiny_space, tampered)
    corrupted = checkpoint.with_name("corrupted.pt")
    corrupted.write_bytes(checkpoint.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"Checkpoint '.*corrupted.pt' is corrupted or not a "
                                         r"checkpoint of supernet.train"):
        SupernetEvaluator.from_checkpoint(tiny_space, corrupted)
    with pytest.raises(FileNotFoundError):
        SupernetEvaluator.from_checkpoint(tiny_space, checkpoint.with_name("absent.pt"))


def test_recalibration_uses_exactly_recal_batches(trained, tiny_data):
    # 48 images in batches of 16: three per pass, so seven batches take three passes
    short = SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=3, batch_size=16)
    long = SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=7, batch_size=16)
    assert len(long.recal) == 7 and long.recal_passes == 3 and short.recal_passes == 1
    assert all(torch.equal(a, b) for a, b in zip(short.recal, long.recal))  # same first pass
    assert not torch.equal(long.recal[3], long.recal[0])  # the next pass is shuffled anew
    assert "recal_passes" not in short.metadata and long.metadata["recal_passes"] == 3
    assert SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=None).recal_passes == 0


def test_paper_recalibration_updates_the_supernet_statistics(trained, tiny_space, tiny_data):
    from supernet.evaluator import PAPER_RECALIBRATION

    assert PAPER_RECALIBRATION == dict(recal_batches=20, reset_bn=False)
    ev = SupernetEvaluator(trained, tiny_data, tiny_data, batch_size=16, **PAPER_RECALIBRATION)
    assert len(ev.recal) == 20
    x, y = tiny_data.tensors
    for arch in tiny_space.sample(3, rng=2):
        # the subnet inherits the supernet's statistics, and 20 batches update them
        sub = recalibrate_bn(trained.extract_subnet(arch), ev.recal, 20, reset=False).eval()
        assert ev.evaluate([arch])[0] == pytest.approx(accuracy(sub, x, y, 16))

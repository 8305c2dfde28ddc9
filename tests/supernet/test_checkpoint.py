"""Checkpoints of training: the fingerprint that guards a resume, refused and corrupted files
(nothing half-loaded, no pickled code run)."""
import functools

import pytest
import torch

from archgraph.utils.io import CHECKSUM_KEY, state_digest
from supernet import SupernetConfig, build_supernet
from supernet.checkpoint import CHECKPOINT_FORMAT, load_checkpoint
from supernet.evaluator import SupernetEvaluator
from supernet.samplers import UniformSampler
from supernet.train import train


def resign(state: dict) -> dict:
    """Recompute the checksum of an edited checkpoint (what a deliberate edit would do)."""
    state.pop(CHECKSUM_KEY, None)
    state[CHECKSUM_KEY] = state_digest(state)
    return state


def test_fingerprint_holds_the_settings_as_given(tiny_space, tiny_data, tmp_path):
    # read before the schedule touches the optimizer: no 'initial_lr', the initial lr; the
    # entries are those of every checkpoint written so far, which therefore still resume
    ck = tmp_path / "ck.pt"
    train(build_supernet(tiny_space), tiny_data, 1, sampler=UniformSampler(tiny_space, 0),
          lr=0.1, checkpoint=ck, progress=False)
    state = load_checkpoint(ck)
    assert state["format"] == CHECKPOINT_FORMAT == "supernet.train/1"
    fp = state["fingerprint"]
    assert set(fp) == {"model", "space", "config", "parameters", "epochs", "batch_size", "lr",
                       "momentum", "weight_decay", "label_smoothing", "optimizer",
                       "optimizer_groups", "sampler", "random_state", "num_train"}
    (group,) = fp["optimizer_groups"]
    assert "initial_lr" not in group and group["lr"] == fp["lr"] == 0.1
    assert group["nesterov"] is True and fp["optimizer"] == "SGD" and fp["num_train"] == 48
    assert fp["model"] == "ChainSupernet" and fp["space"] == "tiny_chain"


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
    torch.save(resign(state), ck)
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


def test_byte_flips_in_weights_are_refused(tiny_space, tiny_data, tmp_path):
    import numpy as np

    ck = tmp_path / "ck.pt"
    kw = dict(sampler=UniformSampler(tiny_space, 0), checkpoint=ck, progress=False)
    train(build_supernet(tiny_space, random_state=0), tiny_data, 2, stop_after=1, **kw)
    raw = ck.read_bytes()
    state = torch.load(ck, weights_only=True)
    blobs = [raw.find(v.numpy().tobytes()) for v in state["model"].values()
             if v.is_floating_point() and v.numel() >= 8]
    blobs = [(at, at + v.numel() * 4) for at, v in zip(blobs, (
        v for v in state["model"].values() if v.is_floating_point() and v.numel() >= 8)) if at > 0]
    assert len(blobs) >= 3
    rng = np.random.default_rng(0)
    for trial in range(20):
        lo, hi = blobs[rng.integers(len(blobs))]
        at = int(rng.integers(lo, hi))
        flipped = bytearray(raw)
        flipped[at] ^= 1 << int(rng.integers(8))
        bad = tmp_path / f"flip{trial}.pt"
        bad.write_bytes(bytes(flipped))
        with pytest.raises(ValueError, match=rf"Checkpoint '.*flip{trial}.pt' is corrupted"):
            load_checkpoint(bad)
        with pytest.raises(ValueError, match="is corrupted"):
            SupernetEvaluator.from_checkpoint(tiny_space, bad, allow_unfinished=True)
    assert load_checkpoint(ck)["fingerprint"]["epochs"] == 2  # the original still loads


def test_evaluator_refuses_unfinished_run_unless_allowed(tiny_space, tiny_data, tmp_path):
    ck = tmp_path / "ck.pt"
    net = build_supernet(tiny_space, SupernetConfig(num_classes=10), random_state=0)
    train(net, tiny_data, 2, stop_after=1, sampler=UniformSampler(tiny_space, 0), batch_size=16,
          checkpoint=ck, progress=False)
    with pytest.raises(ValueError, match=r"Checkpoint '.*ck.pt' is of an unfinished training "
                                         r"run \(1 of 2 epochs\).*allow_unfinished=True"):
        SupernetEvaluator.from_checkpoint(tiny_space, ck, recal_batches=1)
    ev = SupernetEvaluator.from_checkpoint(tiny_space, ck, recal_batches=1,
                                           allow_unfinished=True)
    assert ev.evaluate(tiny_space.sample(1, rng=0)).shape == (1,)


def test_refusals_are_one_line(tiny_space, tiny_data, tmp_path):
    ck = tmp_path / "ck.pt"
    train(build_supernet(tiny_space, random_state=0), tiny_data, 1,
          sampler=UniformSampler(tiny_space, 0), checkpoint=ck, progress=False)
    raw = ck.read_bytes()
    state = torch.load(ck, weights_only=True)
    state["history"] = [Payload(tmp_path / "ran")]
    torch.save(state, tmp_path / "code.pt")
    (tmp_path / "cut.pt").write_bytes(raw[:len(raw) // 2])
    (tmp_path / "text.pt").write_text("not a checkpoint\n")
    for name in ("code.pt", "cut.pt", "text.pt"):
        with pytest.raises(ValueError) as info:
            load_checkpoint(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value), str(info.value)
    assert not (tmp_path / "ran").exists()

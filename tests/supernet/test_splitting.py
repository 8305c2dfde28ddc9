import copy

import numpy as np
import pytest
import torch

from archgraph.spaces.choice_arch import ChoiceArch
from supernet import build_supernet
from supernet.evaluator import SupernetEvaluator
from supernet.samplers import UniformSampler
from supernet.splitting import SplitSupernet, fine_tune_split, gradient_matching_scores
from supernet.train import train

from .conftest import OPTIONS


@pytest.fixture
def trained(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
    train(net, tiny_data, 1, sampler=UniformSampler(tiny_space, 0), batch_size=16,
          progress=False)
    return net


def test_scores_finite_bounded_deterministic_and_side_effect_free(trained, tiny_data):
    before = {k: v.clone() for k, v in trained.state_dict().items()}
    grads = [None if p.grad is None else p.grad.clone() for p in trained.parameters()]
    s = gradient_matching_scores(trained, tiny_data, batch_size=16)
    assert s.shape == (3,) and np.all(np.isfinite(s)) and np.all((-1 <= s) & (s <= 1))
    np.testing.assert_array_equal(gradient_matching_scores(trained, tiny_data, batch_size=16), s)
    np.testing.assert_array_equal(
        gradient_matching_scores(trained, tiny_data, layers=[2], batch_size=16), s[2:])
    assert all(torch.equal(before[k], v) for k, v in trained.state_dict().items())
    assert all((g is None and p.grad is None) or torch.equal(g, p.grad)
               for g, p in zip(grads, trained.parameters()))


def test_identical_options_score_one(trained, tiny_data):
    # every option of layer 1 becomes a copy of its option 1: nothing to gain from splitting it
    trained.blocks[1] = torch.nn.ModuleList(copy.deepcopy(trained.blocks[1][1]) for _ in OPTIONS)
    s = gradient_matching_scores(trained, tiny_data, batch_size=16)
    assert s[1] == pytest.approx(1.0, abs=1e-6)
    assert s[0] < 1 - 1e-3 and s[2] < 1 - 1e-3


def test_split_routes_and_matches_parent(trained, tiny_space, tiny_data):
    split = SplitSupernet(trained, layers=1)
    assert len(split.supernets) == 3 and split.space is tiny_space
    assert split.supernets[0].space is tiny_space
    x = tiny_data.tensors[0][:8]
    trained.eval()
    split.eval()
    with torch.no_grad():
        for arch in tiny_space.sample(6, rng=0):
            k = split.owner(arch)
            assert k == arch.choices[1] and arch in split.partition(k)
            out = split(x, arch)
            torch.testing.assert_close(out, split.supernets[k](x, arch), rtol=0, atol=0)
            torch.testing.assert_close(out, trained(x, arch), rtol=0, atol=0)
            torch.testing.assert_close(split.extract_subnet(arch)(x), out)


def test_split_on_two_layers_partitions_the_space(trained, tiny_space):
    split = SplitSupernet(trained, [0, 2])
    assert split.part_shape == (3, 3) and len(split.supernets) == 9
    parts = [set(split.partition(k).enumerate()) for k in range(9)]
    assert sum(map(len, parts)) == len(tiny_space) and set.union(*parts) == set(
        tiny_space.enumerate())
    for k, part in enumerate(parts):
        assert all(split.owner(a) == k for a in part)


def test_split_of_a_subspace_supernet(tiny_space, tiny_data):
    sub = tiny_space.subspace([0, 2], tiny_space.decode([[1, 2, 1]])[0])
    split = SplitSupernet(build_supernet(sub, random_state=0), 1)  # factor 1 = parent layer 2
    assert len(split.supernets) == 3
    arch = tiny_space.decode([[0, 2, 1]])[0]
    assert split.owner(arch) == 1 and set(split.partition(1).enumerate()) == {
        tiny_space.decode([[c, 2, 1]])[0] for c in range(3)}
    fine_tune_split(split, tiny_data, 1, parts=[1], batch_size=16, progress=False)


def test_fine_tuning_one_part_changes_only_it(trained, tiny_data):
    split = SplitSupernet(trained, 1)
    before = [{k: v.clone() for k, v in s.state_dict().items()} for s in split.supernets]
    hist = fine_tune_split(split, tiny_data, 1, parts=[2], batch_size=16, progress=False)
    assert len(hist) == 1 and len(hist[0]) == 1
    changed = [any(not torch.equal(b[k], v) for k, v in s.state_dict().items())
               for b, s in zip(before, split.supernets)]
    assert changed == [False, False, True]
    # only the options of the partition's paths moved: layer 1 keeps option 2 alone
    sub = split.supernets[2]
    for o in (0, 1):
        for k, v in sub.blocks[1][o].state_dict().items():
            assert torch.equal(v, before[2][f"blocks.1.{o}.{k}"])


def test_fine_tune_split_checkpoints_per_part(trained, tiny_data, tmp_path):
    split = SplitSupernet(trained, 0)
    fine_tune_split(split, tiny_data, 1, parts=[0, 1], batch_size=16, progress=False,
                    checkpoint=str(tmp_path / "sn_{part}.pt"))
    # hidden files beside them are the writers' locks (archgraph.utils.locks)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "sn_0.pt", "sn_1.pt"]


def test_evaluator_runs_on_split(trained, tiny_space, tiny_data):
    split = SplitSupernet(trained, 1)
    archs = tiny_space.sample(4, rng=1)
    acc = SupernetEvaluator(split, tiny_data, tiny_data, recal_batches=2,
                            batch_size=16).evaluate(archs)
    ref = SupernetEvaluator(trained, tiny_data, tiny_data, recal_batches=2,
                            batch_size=16).evaluate(archs)
    np.testing.assert_array_equal(acc, ref)  # a fresh split computes what its parent does


def test_bad_inputs(trained, tiny_data):
    with pytest.raises(TypeError, match="'supernet' parameter of SplitSupernet must be a Sup"):
        SplitSupernet(torch.nn.Linear(2, 2), 0)
    with pytest.raises(ValueError, match=r"'layers' parameter of SplitSupernet must be an int "
                                         r"in \[0, 2\]. Got 3"):
        SplitSupernet(trained, 3)
    with pytest.raises(ValueError, match="must hold distinct layer indices"):
        SplitSupernet(trained, [1, 1])
    with pytest.raises(ValueError, match="must leave at least one of the 3 layers unsplit"):
        SplitSupernet(trained, [0, 1, 2])
    split = SplitSupernet(trained, 0)
    x = tiny_data.tensors[0][:2]
    with pytest.raises(ValueError, match="Expected an architecture of the 'tiny_chain' space"):
        split(x, ChoiceArch("other", (0, 0, 0)))
    with pytest.raises(ValueError, match="Choice 5 at layer 1"):
        split.extract_subnet(ChoiceArch("tiny_chain", (0, 5, 0)))
    with pytest.raises(ValueError, match="'k' parameter of SplitSupernet.partition"):
        split.partition(3)
    with pytest.raises(ValueError, match="'num_batches' parameter of gradient_matching_scores "
                                         "must be an int in \\[1, inf\\]. Got 0"):
        gradient_matching_scores(trained, tiny_data, num_batches=0)
    with pytest.raises(ValueError, match="'layers' parameter of gradient_matching_scores"):
        gradient_matching_scores(trained, tiny_data, layers=[-1])
    with pytest.raises(TypeError, match="'supernet' parameter of gradient_matching_scores"):
        gradient_matching_scores("net", tiny_data)
    with pytest.raises(TypeError, match="'split' parameter of fine_tune_split must be a Split"):
        fine_tune_split(trained, tiny_data, 1)
    with pytest.raises(ValueError, match="'parts' parameter of fine_tune_split"):
        fine_tune_split(split, tiny_data, 1, parts=[3])
    with pytest.raises(ValueError, match="path template with a '\\{part\\}' field"):
        fine_tune_split(split, tiny_data, 1, checkpoint="sn.pt")


def test_split_copies_leave_parent_untouched(trained):
    split = SplitSupernet(trained, 2)
    with torch.no_grad():
        split.supernets[0].classifier.weight.add_(1.0)
    assert not torch.equal(trained.classifier.weight, split.supernets[0].classifier.weight)
    assert torch.equal(trained.classifier.weight, split.supernets[1].classifier.weight)

import pytest
import torch

from supernet import build_supernet
from supernet.bn_recal import recalibrate_bn


def test_recalibration_changes_running_stats_and_nothing_else(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0).eval()
    arch = tiny_space.sample(1, rng=0)[0]
    before = {k: v.clone() for k, v in net.state_dict().items()}
    batches = [tiny_data.tensors[0][:16], tiny_data.tensors[0][16:32]]
    recalibrate_bn(net, batches, 2, arch=arch)
    after = net.state_dict()
    assert not net.training
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.split(".")[-1] in ("running_mean", "running_var",
                                                "num_batches_tracked") for k in changed)
    # only the chosen path's BatchNorms were touched
    for l, (block, c) in enumerate(zip(net.blocks, arch.choices)):
        for o in range(len(block)):
            touched = any(k.startswith(f"blocks.{l}.{o}.") for k in changed)
            assert touched == (o == c and len(list(block[o].parameters())) > 0), (l, o)
    # with reset, the statistics are exactly those of the batches (cumulative average)
    bn = net.stem[0][1]
    feats = net.stem[0][0](torch.cat(batches))
    torch.testing.assert_close(bn.running_mean, feats.mean(dim=(0, 2, 3)), atol=1e-5, rtol=1e-4)
    assert all(m.momentum == 0.1 for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_without_reset_updates_existing_stats(tiny_space, tiny_data):
    net = build_supernet(tiny_space, random_state=0)
    arch = tiny_space.sample(1, rng=0)[0]
    x = tiny_data.tensors[0][:16]
    a = recalibrate_bn(build_supernet(tiny_space, random_state=0), [x], 1, arch=arch, reset=True)
    b = recalibrate_bn(net, [x], 1, arch=arch, reset=False)
    assert not torch.equal(a.stem[0][1].running_mean, b.stem[0][1].running_mean)
    assert int(b.stem[0][1].num_batches_tracked) == 1


def test_zero_or_missing_batches(tiny_space):
    net = build_supernet(tiny_space, random_state=0)
    arch = tiny_space.sample(1, rng=0)[0]
    with pytest.raises(ValueError, match=r"'num_batches' parameter of recalibrate_bn must be an "
                                         r"int in \[1, inf\]. Got 0"):
        recalibrate_bn(net, [torch.randn(4, 1, 8, 8)], 0, arch=arch)
    with pytest.raises(ValueError, match="must yield at least one batch"):
        recalibrate_bn(net, [], 3, arch=arch)

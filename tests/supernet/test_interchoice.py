"""Inter-choice dependent weights (Laube & Zell): bias weights and split weights."""
import pytest
import torch

from archgraph.spaces import ChoiceArch, get_search_space
from archgraph.spaces.nasbench201 import NB201_OPS
from supernet import SupernetConfig, build_supernet
from supernet.interchoice import ChannelBias, InterChoiceBias, nb201_previous_edges
from supernet.samplers import StrictFairSampler, UniformSampler
from supernet.train import train

from .conftest import OPTIONS

PLAIN_FIELDS = ("width_mult", "input_resolution", "in_channels", "num_classes", "stem_stride",
                "cells_per_stage")


def same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                 b.state_dict().values()))


def op_inputs(net, arch, x):
    """What the chosen op of each layer receives, and what the layer before it put out."""
    got, put = {}, {}
    hooks = []
    for l in range(len(arch.choices)):
        op = net.option(l, arch.choices)
        hooks.append(op.register_forward_pre_hook(
            lambda m, a, l=l: got.__setitem__(l, a[0].detach())))
        hooks.append(op.register_forward_hook(
            lambda m, a, y, l=l: put.__setitem__(l, y.detach())))
    hooks.append(net.stem.register_forward_hook(lambda m, a, y: put.__setitem__(-1, y.detach())))
    with torch.no_grad():
        net(x, arch)
    for h in hooks:
        h.remove()
    return {l: got[l] - put[l - 1] for l in got}  # [B, C_l, R_l, R_l]: the added bias


@pytest.mark.parametrize("depth", [1, 2])
def test_joint_bias_indexes_the_combination_of_choices(tiny_space, depth):
    net = build_supernet(tiny_space, SupernetConfig(bias_weights=depth), random_state=0)
    channels = [4, 6, 6]  # inputs of the three layers (conftest)
    with torch.no_grad():  # vector k of a layer holds k*C .. (k+1)*C - 1 in C order
        for b in net.biases:
            b.weight.copy_(torch.arange(b.weight.numel(), dtype=torch.float).view_as(b.weight))
    arch = ChoiceArch("tiny_chain", (2, 0, 1))
    added = op_inputs(net, arch, torch.randn(2, 1, 8, 8))
    # by hand: layer 0 sees (c_0) = (2,), layer 1 (c_1, c_0) = (0, 2), layer 2 (1, 0) with
    # D = 1 and (1, 0, 2) with D = 2 (three options per layer, current choice first)
    flat = {0: 2, 1: 0 * 3 + 2, 2: 1 * 3 + 0 if depth == 1 else 1 * 9 + 0 * 3 + 2}
    assert [tuple(b.weight.shape) for b in net.biases] == [
        (3, 4), (3, 3, 6), (3, 3, 6) if depth == 1 else (3, 3, 3, 6)]
    for l, k in flat.items():
        c = channels[l]
        expected = torch.arange(k * c, (k + 1) * c, dtype=torch.float)[None, :, None, None]
        torch.testing.assert_close(added[l], expected.expand_as(added[l]), rtol=0, atol=1e-4)


def test_shared_bias_sums_one_vector_per_offset(tiny_space):
    net = build_supernet(tiny_space, SupernetConfig(bias_weights=2, bias="shared"),
                         random_state=0)
    with torch.no_grad():  # vector of offset k, choice c: 10**k * (c + 1) in every channel
        for b in net.biases:
            for k, w in enumerate(b.weights):
                w.copy_((10 ** k * (torch.arange(len(w)) + 1.0))[:, None].expand_as(w))
    assert [len(b.weights) for b in net.biases] == [1, 2, 3]
    added = op_inputs(net, ChoiceArch("tiny_chain", (2, 0, 1)), torch.randn(2, 1, 8, 8))
    # layer 0: c_0 = 2 -> 3; layer 1: (0, 2) -> 1 + 30; layer 2: (1, 0, 2) -> 2 + 10 + 300
    for l, v in {0: 3.0, 1: 31.0, 2: 312.0}.items():
        torch.testing.assert_close(added[l], torch.full_like(added[l], v), rtol=0, atol=1e-3)


def test_biases_start_at_zero_and_fresh_supernet_computes_the_plain_one(tiny_space):
    plain = build_supernet(tiny_space, random_state=0)
    x, arch = torch.randn(2, 1, 8, 8), tiny_space.sample(1, rng=0)[0]
    for kind in ("joint", "shared"):
        net = build_supernet(tiny_space, SupernetConfig(bias_weights=3, bias=kind),
                             random_state=0)
        assert all(not p.any() for p in net.biases.parameters())
        torch.testing.assert_close(net(x, arch), plain(x, arch), rtol=0, atol=0)


def perturbed(net, g):
    """Non-zero biases and split copies that differ from their originals."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            if "biases." in name or "copies." in name:
                p.add_(0.3 * torch.randn(p.shape, generator=g))
    return net


@pytest.mark.parametrize("space_name,config", [
    ("tiny", SupernetConfig(bias_weights=1)),
    ("tiny", SupernetConfig(bias_weights=3, bias="shared")),
    ("tiny", SupernetConfig(split_weights_epoch=0)),
    ("tiny", SupernetConfig(bias_weights=2, split_weights_epoch=0)),
    ("nasbench201", SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1,
                                   num_classes=4, cells_per_stage=1, bias_weights=2)),
    ("nasbench201", SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1,
                                   num_classes=4, cells_per_stage=1, bias_weights=1,
                                   bias="shared", split_weights_epoch=0)),
    ("nasbench201", SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1,
                                   num_classes=4, cells_per_stage=1, split_weights_epoch=0)),
])
def test_subnet_carries_biases_and_copies(tiny_space, space_name, config):
    space = tiny_space if space_name == "tiny" else get_search_space(space_name)
    net = build_supernet(space, config, random_state=0)
    if config.split_weights_epoch is not None:
        net.split_weights()
    g = torch.Generator().manual_seed(0)
    perturbed(net, g)
    archs = space.sample(4, rng=1)
    with torch.no_grad():  # BN statistics far from their defaults (mean 0, var 1)
        for _ in range(3):
            for arch in archs:
                net(3 * torch.randn(4, 1, 8, 8, generator=g) + 2, arch)
    x = torch.randn(3, 1, 8, 8, generator=g)
    net.eval()
    for arch in archs:
        sub = net.extract_subnet(arch).eval()
        torch.testing.assert_close(sub(x), net(x, arch), rtol=0, atol=1e-5)
        # the subnet's parameters: the plain subnet's plus one bias per layer or used edge
        biases = [m for m in sub.modules() if isinstance(m, ChannelBias)]
        used = (len(arch.choices) if space_name == "tiny"
                else 3 * sum(NB201_OPS[c] != "none" for c in arch.choices))
        assert len(biases) == (used if config.bias_weights else 0)
        plain = build_supernet(space, SupernetConfig(**{
            k: v for k, v in config.to_dict().items() if k in PLAIN_FIELDS}))
        assert sum(p.numel() for p in sub.parameters()) == sum(
            p.numel() for p in plain.extract_subnet(arch).parameters()) + sum(
            m.bias.numel() for m in biases)


def test_bias_history_must_fit():
    b = InterChoiceBias(4, (3, 3), "joint")
    assert b.vector((2, 1)).shape == (4,)
    with pytest.raises(ValueError, match=r"'history' parameter of InterChoiceBias.vector must "
                                         r"hold 2 choices .*Got \(2,\)"):
        b.vector((2,))


def test_nb201_previous_edges_are_earlier_edges_into_the_same_node():
    # NB201_EDGES = (0,1), (0,2), (1,2), (0,3), (1,3), (2,3)
    assert [nb201_previous_edges(e, 3) for e in range(6)] == [[], [], [1], [], [3], [4, 3]]
    assert nb201_previous_edges(5, 1) == [4]


def test_fairnas_bias_parameters_match_a_hand_count():
    space = get_search_space("fairnas")
    # the 19 searchable layers' input channels (FairNAS table, width 1.0), six options each
    inputs = [16, 32, 32, 40, 40, 40, 40, 80, 80, 80, 80, 96, 96, 96, 96, 192, 192, 192, 192]
    plain = 14_839_700  # the paper's Table 4 (100 classes), checked in test_supernet.py
    joint = 6 * inputs[0] + 6 * 6 * sum(inputs[1:])    # layer 0 has no previous layer
    shared = 6 * inputs[0] + 2 * 6 * sum(inputs[1:])
    assert (joint, shared) == (61_152, 20_448)
    for kind, extra in (("joint", joint), ("shared", shared)):
        net = build_supernet(space, SupernetConfig(num_classes=100, bias_weights=1, bias=kind))
        assert sum(p.numel() for p in net.parameters()) == plain + extra
        assert sum(p.numel() for p in net.biases.parameters()) == extra


def test_split_copies_start_equal_and_diverge(tiny_space, tiny_data):
    net = build_supernet(tiny_space, SupernetConfig(split_weights_epoch=1), random_state=0)
    kw = dict(batch_size=16, progress=False)
    train(net, tiny_data, 1, sampler=StrictFairSampler(tiny_space, 0), **kw)  # never splits
    assert not net.is_split
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    arch = tiny_space.sample(1, rng=0)[0]
    torch.nn.functional.cross_entropy(net(tiny_data.tensors[0][:8], arch),
                                      tiny_data.tensors[1][:8]).backward()
    opt.step()
    net.split_weights(opt)
    assert net.is_split and int(net.split_done) == 1
    for block, copies in zip(net.blocks[1:], net.copies):
        for op, op_copies in zip(block, copies):
            assert len(op_copies) == len(OPTIONS) - 1
            for c in op_copies:
                assert same_weights(op, c)  # weights and BatchNorm statistics
                for p, q in zip(op.parameters(), c.parameters()):  # and the momentum
                    assert (p in opt.state) == (q in opt.state)
                    if p in opt.state:
                        assert torch.equal(opt.state[p]["momentum_buffer"],
                                           opt.state[q]["momentum_buffer"])
                        assert opt.state[p]["momentum_buffer"] is not opt.state[q][
                            "momentum_buffer"]
    with pytest.raises(RuntimeError, match="already split"):
        net.split_weights()
    train(net, tiny_data, 3, sampler=StrictFairSampler(tiny_space, 1), **kw)
    # every option with weights of layers 1 and 2 now has versions that differ by the
    # previous layer's choice (strict-fair paths: 27 (option, previous choice) draws per layer)
    for block, copies in zip(net.blocks[1:], net.copies):
        for op, op_copies in zip(block, copies):
            if list(op.parameters()):
                assert not all(same_weights(op, c) for c in op_copies)


def test_split_routes_by_the_previous_choice(tiny_space):
    net = build_supernet(tiny_space, SupernetConfig(split_weights_epoch=0), random_state=0)
    a, b = ChoiceArch("tiny_chain", (0, 2, 1)), ChoiceArch("tiny_chain", (1, 2, 1))
    assert net.option(1, a.choices) is net.option(1, b.choices) is net.blocks[1][2]  # unsplit
    net.split_weights()
    assert net.option(1, a.choices) is net.blocks[1][2]
    assert net.option(1, b.choices) is net.copies[0][2][0]
    assert net.option(0, b.choices) is net.blocks[0][1]  # the first layer is never split


@pytest.mark.parametrize("stop", [1, 2])
def test_resume_across_the_split_equals_uninterrupted(tiny_space, tiny_data, tmp_path, stop):
    cfg = SupernetConfig(split_weights_epoch=1, bias_weights=1)
    kw = dict(batch_size=16, progress=False, random_state=3)
    ref = build_supernet(tiny_space, cfg, random_state=0)
    hist = train(ref, tiny_data, 3, sampler=UniformSampler(tiny_space, 1), **kw)
    assert ref.is_split
    ck = tmp_path / "ck.pt"
    net = build_supernet(tiny_space, cfg, random_state=0)
    train(net, tiny_data, 3, sampler=UniformSampler(tiny_space, 1), checkpoint=ck,
          stop_after=stop, **kw)
    assert net.is_split == (stop > 1)  # the split happens before epoch 2
    net = build_supernet(tiny_space, cfg, random_state=0)  # a new process
    resumed = train(net, tiny_data, 3, sampler=UniformSampler(tiny_space, 1), checkpoint=ck,
                    **kw)
    assert net.is_split and same_weights(net, ref)
    assert [h["loss"] for h in resumed] == [h["loss"] for h in hist]


def test_plain_config_dict_is_unchanged():
    assert tuple(SupernetConfig().to_dict()) == PLAIN_FIELDS
    cfg = SupernetConfig(bias_weights=2, bias="shared", split_weights_epoch=4)
    assert SupernetConfig(**cfg.to_dict()) == cfg


@pytest.mark.parametrize("kw,err,match", [
    (dict(bias_weights=4), ValueError, r"'bias_weights' parameter of SupernetConfig must be an "
                                       r"int in \[0, 3\]. Got 4"),
    (dict(bias_weights=1.0), TypeError, "'bias_weights' parameter"),
    (dict(bias_weights=1, bias="join"), ValueError, r"'bias' parameter of SupernetConfig must "
                                                    r"be one of 'joint', 'shared'.*'joint'\?"),
    (dict(bias="shared"), ValueError, "'bias' parameter of SupernetConfig applies with bias "
                                      "weights only"),
    (dict(split_weights_epoch=-1), ValueError, "'split_weights_epoch' parameter of "
                                               "SupernetConfig must be an int in \\[0, inf\\]"),
])
def test_bad_inter_choice_settings(kw, err, match):
    with pytest.raises(err, match=match):
        SupernetConfig(**kw)


def test_split_weights_needs_the_option():
    with pytest.raises(RuntimeError, match="ChainSupernet is built without split weights"):
        build_supernet(get_search_space("macro")).split_weights()


def test_nb201_split_routes_by_the_previous_edge(small_config):
    space = get_search_space("nasbench201")
    net = build_supernet(space, SupernetConfig(**{**small_config.to_dict(),
                                                  "split_weights_epoch": 0}))
    cell = net.stages[0]
    assert [len(c) for c in cell.copies] == [0, 0, 5, 0, 5, 5]
    choices = (3, 2, 3, 1, 2, 3)  # edge 1->2 follows 0->2, 1->3 follows 0->3, 2->3 follows 1->3
    assert all(cell.option(e, choices) is cell.edges[e][c] for e, c in enumerate(choices))
    net.split_weights()
    # op o of an edge whose previous edge chose p >= 1 is copies[e][o][p - 1]
    assert cell.option(2, choices, True) is cell.copies[2][3][1]
    assert cell.option(4, choices, True) is cell.copies[4][2][0]
    assert cell.option(5, choices, True) is cell.copies[5][3][1]
    assert cell.option(0, choices, True) is cell.edges[0][3]      # the first edge into node 1
    assert cell.option(2, (3, 0, 3, 1, 2, 3), True) is cell.edges[2][3]  # previous choice 0

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from supernet import SupernetConfig, SupernetEvaluator
from supernet.dcnas import (
    DCNASSupernet,
    _draw_copies,
    _seed,
    assign_layer,
    dcnas_schedule,
    lookahead_loss,
    matching_matrix,
    paired_gradients,
    random_assignment,
    train_dcnas,
)

from .conftest import make_tiny_space


def _randomize_meta(net, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.meta.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))


def _arch(space, choices):
    return space.decode(np.array([choices]))[0]


@pytest.fixture
def net(tiny_space):
    return DCNASSupernet(tiny_space, num_copies=2, random_state=0)


def test_structure_and_copies_are_independent(net, tiny_space):
    assert net.pool_choices.shape == (27, 3) and bool((net.assignment == -1).all())
    assert len(net.copies[1][2]) == 1 and len(net.meta[2]) == 3
    a, b = net.candidate(1, 2, 0), net.candidate(1, 2, 1)
    assert type(a) is type(b) and a is not b
    wa = torch.cat([p.flatten() for p in a.parameters()])
    wb = torch.cat([p.flatten() for p in b.parameters()])
    assert not torch.equal(wa, wb)  # a copy has weights of its own draw
    x = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    arch = _arch(tiny_space, [1, 2, 1])
    net.eval()
    assert not torch.allclose(net(x, arch, (0, 0, 0)), net(x, arch, (0, 1, 0)))
    # copy 0 of every layer computes the plain supernet path of the same weights
    sub = net.extract_subnet(arch, (0, 1, 0)).eval()
    torch.testing.assert_close(sub(x), net(x, arch, (0, 1, 0)))


def test_paired_update_equals_eq8_by_hand(net, tiny_space):
    _randomize_meta(net)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(6, 1, 8, 8, generator=g), torch.randint(0, 4, (6,), generator=g)
    a, b = _arch(tiny_space, [1, 2, 2]), _arch(tiny_space, [2, 2, 1])
    ca, cb = (0, 1, 0), (1, 1, 0)  # layer 1: same option, same copy; layer 0: other copy
    update, *_ = paired_gradients(net, x, y, a, b, ca, cb)
    ce = nn.CrossEntropyLoss()

    def grads(arch, copies):
        net.zero_grad(set_to_none=True)
        ce(net(x, arch, copies), y).backward()
        return {n: None if p.grad is None else p.grad.clone()
                for n, p in net.named_parameters() if not n.startswith("meta.")}

    ga, gb = grads(a, ca), grads(b, cb)
    with torch.no_grad():
        fa, fb = net.features(x, a, ca)[1], net.features(x, b, cb)[1]
        d = (fa[1].mean((2, 3)) - fb[1].mean((2, 3))).pow(2).mean(0).sqrt()  # RMS over images
        lam = torch.sigmoid(net.meta[1][2].weight[0] @ d + net.meta[1][2].bias[0])
    assert 0 < lam < 1 and abs(lam - 0.5) > 1e-3
    checked = set()
    for n, u in update.items():
        if n.startswith("copies.1.2.0."):                # shared by a and b: Eq. 8
            torch.testing.assert_close(u, ga[n] + lam * gb[n])
            checked.add("shared")
        elif ga[n] is None:                               # not on a's path: no update
            assert u is None
        else:                                             # a's own weights, stem, head
            torch.testing.assert_close(u, ga[n])
            checked.add("own")
    assert checked == {"shared", "own"}
    b_only = [n for n in update if n.startswith("copies.0.2.0.")]  # b's layer 0
    assert b_only and all(update[n] is None for n in b_only)


def test_training_step_applies_eq8(tiny_space):
    g = torch.Generator().manual_seed(2)
    data = TensorDataset(torch.randn(16, 1, 8, 8, generator=g),
                         torch.randint(0, 4, (16,), generator=g))
    net = DCNASSupernet(tiny_space, num_copies=2, random_state=0)
    _randomize_meta(net)
    before = copy.deepcopy(net)
    # one batch per epoch, layer phase of layer 0 first: one paired step, no momentum/decay
    train_dcnas(net, data, warmup_epochs=0, layer_epochs=1, finetune_epochs=0, batch_size=16,
                lr=0.1, momentum=0.0, weight_decay=0.0, meta_interval=1000, stop_after=1,
                random_state=3, progress=False)
    rng = np.random.default_rng(_seed(3, 7))
    pool = before.pool
    i = int(rng.integers(len(pool)))
    ci = _draw_copies(before, i, rng)
    choices = before.pool_choices.numpy()
    mates = np.flatnonzero(choices[:, 0] == choices[i, 0])
    mates = mates[mates != i]
    j = int(mates[rng.integers(len(mates))])
    cj = list(_draw_copies(before, j, rng))
    cj[0] = ci[0]
    gen = torch.Generator().manual_seed(3)
    order = list(torch.utils.data.RandomSampler(data, generator=gen))
    x, y = data.tensors[0][order], data.tensors[1][order]
    before.train()
    update, *_ = paired_gradients(before, x, y, pool[i], pool[j], ci, tuple(cj))
    after = dict(net.named_parameters())
    # the meta step at step 0 moved only the meta networks; the weights moved by Eq. 8
    for n, p in before.named_parameters():
        if n.startswith("meta."):
            continue
        expected = p if update[n] is None else p - 0.1 * update[n]
        torch.testing.assert_close(after[n], expected, rtol=1e-5, atol=1e-6)
    assert any(not torch.equal(after[n], p) for n, p in before.named_parameters()
               if n.startswith("meta."))


def test_lambda_is_zero_without_a_shared_option(net, tiny_space):
    _randomize_meta(net)
    d = 0.1 * torch.randn(4, net.input_channels[1], generator=torch.Generator().manual_seed(0))
    assert torch.equal(net.matching_degree(1, 0, 2, d), torch.zeros(4))
    lam = net.matching_degree(1, 2, 2, d)
    assert bool(((lam > 0) & (lam < 1)).all())
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(6, 1, 8, 8, generator=g), torch.randint(0, 4, (6,), generator=g)
    a, b = _arch(tiny_space, [0, 1, 2]), _arch(tiny_space, [0, 2, 2])
    lambdas = paired_gradients(net, x, y, a, b, (0, 0, 0), (0, 0, 1))[3][0]
    assert lambdas[0] > 0          # same option and copy
    assert lambdas[1] == 0         # other options
    assert lambdas[2] == 0         # same option, other copy: no shared weights


def test_kmeans_assignment_is_stable_and_complete(net, tiny_space):
    _randomize_meta(net, scale=5.0)
    images = [torch.randn(16, 1, 8, 8, generator=torch.Generator().manual_seed(s))
              for s in range(2)]
    other = copy.deepcopy(net)
    for layer in range(3):
        ids = assign_layer(net, layer, images, random_state=4)
        assert np.array_equal(ids, assign_layer(other, layer, images, random_state=4))
    a = net.assignment.numpy()
    assert a.shape == (27, 3) and a.min() >= 0 and a.max() < 2  # one id per layer each
    assert np.array_equal(a, other.assignment.numpy())
    assert np.all(a[:, 0] == 0)  # layer 0 sees the stem's output for every architecture
    lam = matching_matrix(net, 2, 1, images, np.flatnonzero(a[:, 2] >= 0)[:5])
    assert np.allclose(lam, lam.T)  # the pooled difference is symmetric
    assert len(np.unique(a[:, 2])) == 2  # the later layers use both copies
    lam = matching_matrix(net, 2, 1, images, np.flatnonzero(a[:, 2] >= 0)[:5])
    assert lam.shape == (5, 5) and np.allclose(np.diag(lam), np.diag(lam)[0])
    assert np.all((lam >= 0) & (lam <= 1))
    assert net.assigned_layers() == [0, 1, 2]


def test_meta_gradient_through_lookahead_matches_finite_differences(tiny_space):
    net = DCNASSupernet(tiny_space, num_copies=2, random_state=0).double()
    _randomize_meta(net, scale=0.5)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(8, 1, 8, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (8,), generator=g)
    a, b = _arch(tiny_space, [1, 2, 2]), _arch(tiny_space, [2, 2, 2])
    ca = cb = (0, 1, 1)
    net.train()
    grads = paired_gradients(net, x, y, a, b, ca, cb)
    w = net.meta[2][2].weight

    def loss():
        return lookahead_loss(net, x, y, a, b, ca, cb, lr=0.5, grads=grads)

    analytic = torch.autograd.grad(loss(), w)[0]
    assert analytic.abs().max() > 1e-8
    eps = 1e-6
    for k in range(w.shape[1]):
        with torch.no_grad():
            w[0, k] += eps
            up = loss().item()
            w[0, k] -= 2 * eps
            down = loss().item()
            w[0, k] += eps
        assert abs((up - down) / (2 * eps) - analytic[0, k].item()) < 1e-6 * max(
            1.0, abs(analytic[0, k].item()))
    # the module is unchanged by the look-ahead (BatchNorm buffers included)
    bn = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)][0]
    before = bn.running_mean.clone()
    loss()
    assert torch.equal(bn.running_mean, before)


def test_end_to_end_and_outside_the_pool(tiny_space, tiny_data):
    pool = tiny_space.sample(12, rng=0)
    net = DCNASSupernet(tiny_space, num_copies=2, pool=pool, random_state=0)
    hist = train_dcnas(net, tiny_data, warmup_epochs=1, layer_epochs=1, finetune_epochs=1,
                       batch_size=16, meta_interval=2, random_state=0, progress=False)
    assert [h["phase"] for h in hist] == ["warmup"] + ["layer"] * 3 + ["finetune"]
    assert all(np.isfinite(h["loss"]) for h in hist)
    assert all(0 < h["mean_lambda"] < 1 for h in hist[1:])
    assert net.assigned_layers() == [0, 1, 2]
    outside = [a for a in tiny_space.enumerate() if net.pool_index(a) is None]
    assert len(outside) == 15
    arch = outside[0]
    pool_c = net.pool_choices.numpy()
    codes = np.array(arch.choices)
    for l, c in enumerate(net.copies_of(arch)):
        same = np.flatnonzero(pool_c[:, l] == codes[l])
        if len(same):
            nearest = same[np.argmin((pool_c[same] != codes).sum(1))]
            assert c == net.assignment[nearest, l]
    est = SupernetEvaluator(net, tiny_data, tiny_data, recal_batches=1).evaluate(
        list(tiny_space.enumerate()))
    assert est.shape == (27,) and np.all((est >= 0) & (est <= 100))


def test_resume_is_bit_identical(tiny_space, tiny_data, tmp_path):
    kw = dict(warmup_epochs=1, layer_epochs=1, finetune_epochs=1, batch_size=16,
              meta_interval=2, random_state=1, progress=False)
    full = DCNASSupernet(tiny_space, num_copies=3, random_state=0)
    h_full = train_dcnas(full, tiny_data, **kw)
    ckpt = tmp_path / "dcnas.pt"
    part = DCNASSupernet(tiny_space, num_copies=3, random_state=0)
    train_dcnas(part, tiny_data, checkpoint=ckpt, stop_after=2, **kw)  # stops mid-layers
    resumed = DCNASSupernet(tiny_space, num_copies=3, random_state=0)
    h_res = train_dcnas(resumed, tiny_data, checkpoint=ckpt, **kw)
    assert [h["loss"] for h in h_res] == [h["loss"] for h in h_full]
    for (k, v), (k2, v2) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), k
    assert torch.equal(resumed.assignment, full.assignment)
    loaded = DCNASSupernet.from_checkpoint(tiny_space, ckpt)
    for (k, v), (k2, v2) in zip(full.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(v, v2), k
    assert loaded.num_copies == 3 and loaded.copies_of(loaded.pool[5]) == full.copies_of(
        full.pool[5])
    other = make_tiny_space("other_chain")
    with pytest.raises(ValueError, match="must hold a DCNASSupernet of the 'other_chain'"):
        DCNASSupernet.from_checkpoint(other, ckpt)
    with pytest.raises(ValueError, match="different training setup"):
        train_dcnas(DCNASSupernet(tiny_space, num_copies=3, random_state=0), tiny_data,
                    checkpoint=ckpt, **{**kw, "meta_interval": 3})


def test_random_assignment_variant(tiny_space, tiny_data):
    net = random_assignment(tiny_space, tiny_data, 2, 0, batch_size=16)
    a = net.assignment.numpy()
    assert a.min() == 0 and a.max() == 1 and net.assigned_layers() == [0, 1, 2]
    assert all(p.abs().sum() == 0 for p in net.meta.parameters())  # no meta updates


def test_schedule():
    assert dcnas_schedule(30, 5) == (10, 3, 5)
    for e in range(10, 60):
        w, t, f = dcnas_schedule(e, 5)
        assert w + 5 * t + f == e and t >= 1
    with pytest.raises(ValueError, match="at least one epoch per layer"):
        dcnas_schedule(5, 5)


def test_errors(tiny_space, tiny_data):
    with pytest.raises(ValueError, match="'num_copies' parameter of DCNASSupernet"):
        DCNASSupernet(tiny_space, num_copies=0)
    with pytest.raises(ValueError, match="inter-choice"):
        DCNASSupernet(tiny_space, SupernetConfig(bias_weights=1))
    arch = _arch(tiny_space, [0, 0, 0])
    with pytest.raises(ValueError, match="at least 2 distinct"):
        DCNASSupernet(tiny_space, pool=[arch, arch])
    with pytest.raises(ValueError, match="either 'pool' or 'pool_size'"):
        DCNASSupernet(tiny_space, pool=[arch], pool_size=3)
    with pytest.raises(TypeError, match="'pool' parameter"):
        DCNASSupernet(tiny_space, pool="000")
    net = DCNASSupernet(tiny_space, num_copies=2, pool_size=5)
    assert net.pool_choices.shape == (5, 3)
    with pytest.raises(ValueError, match="'copies' argument .* 0..1 per layer"):
        net(torch.randn(2, 1, 8, 8), arch, (0, 2, 0))
    with pytest.raises(TypeError, match="'net' parameter of train_dcnas"):
        train_dcnas(nn.Linear(2, 2), tiny_data, warmup_epochs=1, layer_epochs=1,
                    finetune_epochs=1)
    with pytest.raises(ValueError, match="'meta_interval' parameter"):
        train_dcnas(net, tiny_data, warmup_epochs=1, layer_epochs=1, finetune_epochs=1,
                    meta_interval=0)
    with pytest.raises(ValueError, match="'layer_epochs' parameter"):
        train_dcnas(net, tiny_data, warmup_epochs=1, layer_epochs=0, finetune_epochs=1)


def test_compare_harness_variants(tiny_space):
    import functools
    import pickle

    from torch.utils.data import Subset

    from archgraph.spaces import get_search_space
    from supernet.compare import GroundTruth, compare_supernets, dcnas, random_assignment, uniform
    from supernet.data import load_perturbed_digits

    space = get_search_space("digits5v2")
    archs = space.sample(6, 0)
    seeds = np.linspace(60, 80, 6)[:, None] + np.random.default_rng(0).normal(0, 0.5, (6, 2))
    truth = GroundTruth(space, archs, seeds, space.cost("flops", archs))
    train = Subset(load_perturbed_digits("train"), range(64))
    val = Subset(load_perturbed_digits("val"), range(32))
    variants = {"plain": uniform,
                "random": functools.partial(random_assignment, num_copies=2),
                "dcnas": functools.partial(dcnas, num_copies=2, batch_size=32)}
    for v in list(variants.values())[1:]:  # picklable: they can go to worker processes
        assert pickle.loads(pickle.dumps(v)).keywords == v.keywords
    result = compare_supernets(variants, truth, train, val, seeds=(0,), epochs=10,
                               recal_batches=1, progress=False)
    params = result.runs.set_index("variant")["parameters"]
    assert params["random"] == params["dcnas"] > params["plain"]  # copies and meta networks
    for est in result.estimates.values():
        assert est.shape == (6,) and np.all((est >= 0) & (est <= 100))


def test_evolutionary_search_over_the_pool_with_the_supernet(tiny_space, tiny_data):
    from archgraph.search import evolutionary_search

    pool = tiny_space.sample(15, rng=1)
    net = DCNASSupernet(tiny_space, num_copies=2, pool=pool, random_state=0)
    train_dcnas(net, tiny_data, warmup_epochs=1, layer_epochs=1, finetune_epochs=0,
                batch_size=16, random_state=0, progress=False)
    evaluator = SupernetEvaluator(net, tiny_data, tiny_data, recal_batches=1)
    bound = float(np.median(tiny_space.cost("flops", pool)))
    res = evolutionary_search(tiny_space, evaluator, population=4, budget=10, top_k=2,
                              candidates=net.pool, max_flops=bound, random_state=0)
    assert res.num_evaluations == min(10, sum(tiny_space.cost("flops", pool) <= bound))
    assert all(net.pool_index(a) is not None and tiny_space.flops(a) <= bound
               for a, _, _ in res.history)
    # the search's accuracies are the supernet's (BN recalibrated per sub-network)
    assert res.accuracy == evaluator.evaluate([res.arch])[0]

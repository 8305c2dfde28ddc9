import numpy as np
import pytest

from archgraph.spaces import get_search_space
from supernet.samplers import StrictFairSampler, UniformSampler


def test_strict_fair_uses_each_option_exactly_once_per_step(tiny_space):
    sampler = StrictFairSampler(tiny_space, rng=0)
    for _ in range(20):
        paths = sampler.sample()
        choices = tiny_space.encode(paths)  # [O, L]
        assert len(paths) == 3
        for l in range(tiny_space.num_layers):
            assert sorted(choices[:, l]) == [0, 1, 2]


def test_samplers_are_reproducible_and_cover_the_space(tiny_space):
    a, b = UniformSampler(tiny_space, 7), UniformSampler(tiny_space, 7)
    draws = [a.sample() for _ in range(300)]
    assert draws == [b.sample() for _ in range(300)]
    assert all(len(d) == 1 for d in draws)
    counts = np.bincount(tiny_space.indices([d[0] for d in draws]), minlength=27)
    assert counts.min() > 0


def test_strict_fair_needs_equal_option_counts():
    with pytest.raises(ValueError, match="same number of options in every layer"):
        StrictFairSampler(get_search_space("proxylessnas"), 0)
    with pytest.raises(TypeError, match="'space' parameter of UniformSampler"):
        UniformSampler("macro", 0)


def test_one_strict_fair_step_reaches_every_option(tiny_space):
    import torch

    from supernet import build_supernet

    net = build_supernet(tiny_space, random_state=0)
    x = torch.randn(4, 1, 8, 8)
    for arch in StrictFairSampler(tiny_space, 0).sample():  # gradients accumulate over paths
        net(x, arch).sum().backward()
    for block in net.blocks:
        for op in block:
            assert all(p.grad is not None for p in op.parameters())

"""Path samplers for supernet training, each drawing from an explicit ``rng``.

A sampler's :meth:`sample` returns the paths of ONE training step; the training loop
accumulates their gradients before a single optimizer step.
"""
from __future__ import annotations

import numpy as np

from archgraph.spaces.choice_arch import ChoiceArch
from archgraph.spaces.product_space import ProductSpace
from archgraph.utils.validation import check_random_state


class _Sampler:
    def __init__(self, space: ProductSpace, rng=None):
        if not isinstance(space, ProductSpace):
            raise TypeError(f"The 'space' parameter of {type(self).__name__} must be a "
                            f"ProductSpace. Got {type(space).__name__} instead.")
        self.space = space
        self.rng = check_random_state(rng)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(space={self.space.name!r})"


class UniformSampler(_Sampler):
    """Single-path uniform sampling (Guo et al., ECCV 2020, SPOS): one architecture per step,
    every architecture of ``space`` equally likely.

    Args:
        space: the (sub)space to sample.
        rng: seed or ``numpy.random.Generator``.
    """

    def sample(self) -> list[ChoiceArch]:
        return self.space.sample(1, self.rng, replace=True)


class StrictFairSampler(_Sampler):
    r"""Strict-fair sampling (Chu et al., ICCV 2021, FairNAS): each step draws ``O`` paths
    that, together, use every option of every layer exactly once.

    For each layer an independent random permutation :math:`\pi_l` of its ``O`` options is
    drawn; path ``k`` picks option :math:`\pi_l(k)` at layer ``l``. Needs the same number of
    options ``O`` in every layer.

    Args:
        space: the (sub)space to sample.
        rng: seed or ``numpy.random.Generator``.
    """

    def __init__(self, space: ProductSpace, rng=None):
        super().__init__(space, rng)
        if len(set(space.num_options)) != 1:
            raise ValueError(f"StrictFairSampler needs the same number of options in every layer "
                             f"of the 'space' parameter. Got {space.num_options} for "
                             f"{space.name!r}; use UniformSampler instead.")

    def sample(self) -> list[ChoiceArch]:
        o = self.space.num_options[0]
        perms = np.stack([self.rng.permutation(o) for _ in range(self.space.num_layers)],
                         axis=1)  # [O, L]: row k is path k
        return self.space.decode(perms)

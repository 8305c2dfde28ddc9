r"""``SyntheticBenchmark``: known accuracies for every architecture of any product space.

A stand-in for a benchmark table where none exists (FairNAS, toy spaces of tests): the accuracy
of an architecture with choices :math:`c_1, \dots, c_L` is

.. math::
    \mathrm{acc}(c) = \mathrm{offset} + \sum_l a_l[c_l] + \sum_{l<L} p_l[c_l, c_{l+1}]

with additive effects :math:`a_l \sim N(0, \mathrm{additive}^2)`, one per option of layer
:math:`l`, and pairwise effects :math:`p_l \sim N(0, \mathrm{pairwise}^2)`, one per pair of
options of neighbouring layers, drawn from ``random_state`` in that order (every :math:`a_l`,
then every :math:`p_l`). It is an :class:`~archgraph.spaces.Evaluator`: :meth:`evaluate` adds
Gaussian noise as :class:`~archgraph.evaluators.TableEvaluator` does.
"""
from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import pandas as pd

from archgraph.spaces.product_space import ProductSpace
from archgraph.utils.validation import check_one_of, check_positive, check_random_state

#: largest space whose ``noise="fixed"`` draws (one float per architecture) are made up front
MAX_FIXED_NOISE = 2 ** 26
#: rows of a choice matrix evaluated at once by :meth:`SyntheticBenchmark.accuracies`
_CHUNK = 2 ** 16


class SyntheticBenchmark:
    r"""Synthetic accuracies of a product space: additive plus pairwise effects plus noise.

    Noise modes (as in :class:`~archgraph.evaluators.TableEvaluator`):

    * ``"fixed"`` (default): one draw per architecture, made once (after the effects) in
      :meth:`~archgraph.spaces.ProductSpace.index` order; evaluating an architecture again gives
      the same value. Spaces of up to :data:`MAX_FIXED_NOISE` architectures.
    * ``"fresh"``: new draws on every :meth:`evaluate` call, continuing the generator of the
      effects (so one call on ``archs`` right after construction is a fixed function of the
      seed), for spaces of any size.

    Args:
        space: the product space (or subspace: its layers are its factors).
        additive: standard deviation of the additive effects.
        pairwise: standard deviation of the pairwise effects of neighbouring layers.
        offset: constant added to every accuracy.
        noise_std: standard deviation of the noise of :meth:`evaluate`.
        noise: ``"fixed"`` or ``"fresh"``.
        random_state: seed or ``numpy.random.Generator`` of the effects and the noise.

    Attributes:
        additive_effects: per layer, its effects ``[O_l]``.
        pairwise_effects: per pair of neighbouring layers ``(l, l + 1)``, ``[O_l, O_{l+1}]``.
        num_evaluations_: architectures evaluated so far by :meth:`evaluate`.

    Example::

        bench = SyntheticBenchmark(space, pairwise=0.3, noise_std=1.0, random_state=0)
        y = bench.evaluate(space.sample(100, rng=0))         # noisy, like a supernet
        truth = bench.accuracies()                           # every architecture, exact
    """

    def __init__(self, space: ProductSpace, *, additive: float = 1.0, pairwise: float = 0.0,
                 offset: float = 0.0, noise_std: float = 0.0, noise: str = "fixed",
                 random_state=None):
        owner = "SyntheticBenchmark"
        if not isinstance(space, ProductSpace):
            raise TypeError(f"The 'space' parameter of {owner} must be a ProductSpace. "
                            f"Got {type(space).__name__} instead.")
        self.space = space
        self.additive = check_positive(additive, "additive", owner, allow_zero=True)
        self.pairwise = check_positive(pairwise, "pairwise", owner, allow_zero=True)
        if (not isinstance(offset, numbers.Real) or isinstance(offset, bool)
                or not np.isfinite(offset)):
            raise TypeError(f"The 'offset' parameter of {owner} must be a finite float. "
                            f"Got {offset!r} instead.")
        self.offset = float(offset)
        self.noise_std = check_positive(noise_std, "noise_std", owner, allow_zero=True)
        self.noise = check_one_of(noise, "noise", ("fixed", "fresh"), owner)
        self.random_state = random_state
        fixed = self.noise == "fixed" and self.noise_std > 0
        if fixed and space.size > MAX_FIXED_NOISE:
            raise ValueError(f"The 'noise' parameter of {owner} is 'fixed', which draws one value "
                             f"per architecture, but the space has {space.size} (more than "
                             f"{MAX_FIXED_NOISE}). Use noise='fresh' or a subspace.")
        self._rng = check_random_state(random_state)
        sizes = space.num_options
        self.additive_effects = [self._rng.normal(scale=self.additive, size=o) for o in sizes]
        self.pairwise_effects = [self._rng.normal(scale=self.pairwise, size=(a, b))
                                 for a, b in zip(sizes[:-1], sizes[1:])]
        self._flat = np.concatenate(self.additive_effects)  # [sum O_l]
        self._starts = np.cumsum([0, *sizes[:-1]])  # [L]: position of layer l's first effect
        self._noise = (self._rng.normal(0.0, self.noise_std, size=space.size)  # [len(space)]
                       if fixed else None)
        self.num_evaluations_ = 0

    def accuracies(self, choices=None) -> np.ndarray:
        """Noise-free accuracies of a choice matrix ``[n, L]`` (default: every architecture, in
        index order)."""
        if choices is None:
            n, shape = self.space.size, self.space.num_options
            return np.concatenate([  # in chunks of rows, never the whole choice matrix
                self._accuracies(np.stack(np.unravel_index(np.arange(
                    start, min(start + _CHUNK, n), dtype=np.int64), shape), axis=1))
                for start in range(0, n, _CHUNK)])
        return self._accuracies(self.space.check_choices(choices))

    def _accuracies(self, choices: np.ndarray) -> np.ndarray:
        y = self._flat[choices + self._starts].sum(1)  # [n]
        pairs = sum(p[choices[:, l], choices[:, l + 1]]
                    for l, p in enumerate(self.pairwise_effects))
        return y + pairs + self.offset

    def true_accuracy(self, archs: Sequence) -> np.ndarray:
        """Noise-free accuracies ``[len(archs)]`` (not counted as evaluations)."""
        return self.accuracies(self.space.encode(archs))

    def evaluate(self, archs: Sequence) -> np.ndarray:
        """Accuracies ``[len(archs)]`` plus the noise; counts the evaluations."""
        archs = list(archs)
        out = self.true_accuracy(archs)
        if self._noise is not None:
            out += self._noise[self.space.indices(archs)]
        elif self.noise == "fresh" and self.noise_std > 0:
            out += self._rng.normal(scale=self.noise_std, size=len(archs))
        self.num_evaluations_ += len(archs)
        return out

    def table(self) -> pd.DataFrame:
        """Every architecture (``arch``: the space's string) with its noise-free ``accuracy``
        and the space's costs, in index order."""
        frame = pd.DataFrame({"arch": [self.space.to_str(a) for a in self.space.enumerate()],
                              "accuracy": self.accuracies()})
        for metric in self.space.cost_metrics:
            frame[metric] = self.space.costs(metric)
        return frame

    @property
    def metadata(self) -> dict:
        """The settings that determine the accuracies (stored by predictor-dataset builds, so a
        table of another seed or setting is not resumed with this one)."""
        seed = self.random_state
        return dict(evaluator="synthetic", space=self.space.name, additive=self.additive,
                    pairwise=self.pairwise, offset=self.offset, noise_std=self.noise_std,
                    noise=self.noise,
                    random_state=seed if isinstance(seed, (int, np.integer)) else repr(seed))

    def __repr__(self) -> str:
        return (f"SyntheticBenchmark(space={self.space.name!r}, additive={self.additive}, "
                f"pairwise={self.pairwise}, offset={self.offset}, noise_std={self.noise_std}, "
                f"noise={self.noise!r})")

"""The ``synthetic`` evaluator: :class:`~archgraph.datasets.SyntheticBenchmark` accuracies of any
product space, so that datasets can be built without benchmark files (demos, tests, CI)."""
from __future__ import annotations

from archgraph.datasets.synthetic import SyntheticBenchmark
from archgraph.evaluators.registry import register_evaluator


@register_evaluator("synthetic")
def synthetic_evaluator(space, additive: float = 1.0, pairwise: float = 0.0,
                        offset: float = 50.0, noise_std: float = 0.0, noise: str = "fixed",
                        random_state: int = 0) -> SyntheticBenchmark:
    """The ``synthetic`` evaluator of a product ``space``: additive and pairwise effects around
    ``offset`` (default 50), plus optional noise; options as in
    :class:`~archgraph.datasets.SyntheticBenchmark`."""
    return SyntheticBenchmark(space, additive=additive, pairwise=pairwise, offset=offset,
                              noise_std=noise_std, noise=noise, random_state=random_state)

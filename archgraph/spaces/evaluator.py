"""The ``Evaluator`` protocol: anything that turns architectures into accuracies.

A search loop or a predictor-dataset builder calls ``evaluator.evaluate(archs)`` without knowing
whether a benchmark table (:class:`~archgraph.evaluators.TableEvaluator`), a weight-sharing
supernet (``supernet``) or training from scratch is behind it. The protocol sits with the spaces
it evaluates, below every layer that produces or consumes accuracies (datasets, evaluators,
search, ``supernet``); ``archgraph.evaluators`` exports it too.
"""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from archgraph.spaces.search_space import SearchSpace


@runtime_checkable
class Evaluator(Protocol):
    """Estimates the accuracy of architectures of :attr:`space`.

    ``evaluate(archs)`` returns a float array ``[len(archs)]``, higher is better, in the order
    of ``archs``. ``isinstance(obj, Evaluator)`` checks that both members exist.
    """

    #: the search space whose architectures :meth:`evaluate` accepts
    space: SearchSpace

    def evaluate(self, archs: Sequence) -> np.ndarray:
        """Accuracies ``[len(archs)]`` of ``archs``."""
        ...


def check_evaluator(space, evaluator, owner: str) -> None:
    """Raise unless ``space`` is a search space and ``evaluator`` evaluates its architectures."""
    if not isinstance(space, SearchSpace):
        raise TypeError(f"The 'space' parameter of {owner} must be a SearchSpace. "
                        f"Got {type(space).__name__} instead.")
    if not callable(getattr(evaluator, "evaluate", None)):
        raise TypeError(f"The 'evaluator' parameter of {owner} must have an evaluate(archs) "
                        f"method (the Evaluator protocol). Got {type(evaluator).__name__}.")
    other = getattr(getattr(evaluator, "space", None), "name", None)
    if other is not None and other != getattr(space, "root", space).name:
        raise ValueError(f"The 'evaluator' of {owner} evaluates the {other!r} space, but "
                         f"'space' is {space.name!r}.")

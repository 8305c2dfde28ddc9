"""The ``Evaluator`` protocol: anything that turns architectures into accuracies.

A search loop or a predictor-dataset builder calls ``evaluator.evaluate(archs)`` without knowing
whether a benchmark table (:class:`~archgraph.evaluators.TableEvaluator`), a weight-sharing
supernet (``supernet``) or training from scratch is behind it.
"""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from archgraph.spaces.base import SearchSpace


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

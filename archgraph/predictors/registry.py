"""The registry of predictors: ``register_predictor``, ``get_predictor``, ``list_predictors``.
Registering a class adds it to the contract test (``tests/predictors/test_contract.py``); export
it from ``archgraph.predictors`` too (``tests/predictors/test_registry.py`` checks)."""
from __future__ import annotations

from typing import Callable

from archgraph.utils.registry import Registry

#: registered predictor classes
PREDICTORS = Registry("predictor")


def register_predictor(name: str) -> Callable:
    """Class decorator registering a predictor under ``name``."""
    return PREDICTORS.register(name)


def list_predictors(pattern: str | None = None) -> list[str]:
    """Registered names, sorted, optionally filtered by a shell-style ``pattern``."""
    return PREDICTORS.list(pattern)


def get_predictor(name: str, **kwargs):
    """A new (unfitted) predictor ``name`` built with ``kwargs``; unknown names list the
    valid ones."""
    return PREDICTORS.get(name, owner="get_predictor")(**kwargs)

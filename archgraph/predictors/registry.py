"""A small registry of predictors: ``register_predictor``, ``get_predictor``,
``list_predictors``. Registering a class adds it to the contract test
(``tests/predictors/test_contract.py``)."""
from __future__ import annotations

import fnmatch
from typing import Callable

from archgraph.utils.validation import check_one_of

_REGISTRY: dict[str, Callable] = {}


def register_predictor(name: str) -> Callable:
    """Class decorator registering a predictor under ``name``."""
    def deco(cls: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"A predictor named {name!r} is already registered.")
        _REGISTRY[name] = cls
        return cls
    return deco


def list_predictors(pattern: str | None = None) -> list[str]:
    """Registered names, sorted, optionally filtered by a shell-style ``pattern``."""
    return [n for n in sorted(_REGISTRY) if pattern is None or fnmatch.fnmatch(n, pattern)]


def get_predictor(name: str, **kwargs):
    """A new (unfitted) predictor ``name`` built with ``kwargs``; unknown names list the
    valid ones."""
    if not isinstance(name, str):
        raise TypeError(f"The 'name' parameter of get_predictor must be a str. "
                        f"Got {type(name).__name__} instead.")
    check_one_of(name, "name", list_predictors(), owner="get_predictor")
    return _REGISTRY[name](**kwargs)

"""A small registry of search spaces: ``register_search_space``, ``get_search_space``,
``list_search_spaces``."""
from __future__ import annotations

import fnmatch
from typing import Callable

from archgraph.utils.validation import check_one_of

_REGISTRY: dict[str, Callable] = {}


def register_search_space(name: str) -> Callable:
    """Decorator registering a zero-argument-constructible factory under ``name``."""
    def deco(factory: Callable) -> Callable:
        if name in _REGISTRY:
            raise ValueError(f"A search space named {name!r} is already registered.")
        _REGISTRY[name] = factory
        return factory
    return deco


def list_search_spaces(pattern: str | None = None) -> list[str]:
    """Registered names, sorted, optionally filtered by a shell-style ``pattern``."""
    names = sorted(_REGISTRY)
    return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]


def get_search_space(name: str, **kwargs):
    """Build the registered search space ``name``; unknown names list the valid ones."""
    if not isinstance(name, str):
        raise TypeError(f"The 'name' parameter of get_search_space must be a str. "
                        f"Got {type(name).__name__} instead.")
    check_one_of(name, "name", list_search_spaces(), owner="get_search_space")
    return _REGISTRY[name](**kwargs)

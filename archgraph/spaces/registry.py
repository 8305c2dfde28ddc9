"""The registry of search spaces: ``register_search_space``, ``get_search_space``,
``list_search_spaces``."""
from __future__ import annotations

from typing import Callable

from archgraph.utils.registry import Registry

#: registered factories of search spaces (constructible without arguments)
SEARCH_SPACES = Registry("search space")


def register_search_space(name: str) -> Callable:
    """Decorator registering a zero-argument-constructible factory under ``name``."""
    return SEARCH_SPACES.register(name)


def list_search_spaces(pattern: str | None = None) -> list[str]:
    """Registered names, sorted, optionally filtered by a shell-style ``pattern``."""
    return SEARCH_SPACES.list(pattern)


def get_search_space(name: str, **kwargs):
    """Build the registered search space ``name``; unknown names list the valid ones."""
    return SEARCH_SPACES.get(name, owner="get_search_space")(**kwargs)

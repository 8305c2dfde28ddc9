"""The registry of evaluators: factories ``factory(space, **options) -> Evaluator`` by name.

Evaluators of this package register with :func:`register_evaluator`; other packages add theirs
as entry points of the group ``archgraph.evaluators`` (``supernet`` ships ``supernet`` and
``standalone``), offered by the same :func:`get_evaluator` / :func:`list_evaluators`.
"""
from __future__ import annotations

from typing import Callable

from archgraph.utils.registry import Registry

#: entry-point group of evaluator plugins
ENTRY_POINT_GROUP = "archgraph.evaluators"
#: evaluator factories by name (this package's and the installed plugins)
EVALUATORS = Registry("evaluator", entry_point_group=ENTRY_POINT_GROUP)


def register_evaluator(name: str) -> Callable:
    """Decorator registering an evaluator factory ``factory(space, **options)`` under ``name``."""
    return EVALUATORS.register(name)


def list_evaluators(pattern: str | None = None) -> list[str]:
    """Names of the registered and installed evaluators, sorted, optionally filtered by a
    shell-style ``pattern``."""
    return EVALUATORS.list(pattern)


def get_evaluator(name: str, space, **options):
    """The evaluator ``name`` of ``space`` built with ``options``; unknown names list the valid
    ones."""
    return EVALUATORS.get(name, owner="get_evaluator")(space, **options)

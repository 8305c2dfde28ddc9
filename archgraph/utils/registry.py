"""One small registry for every kind of registered thing (search spaces, predictors, evaluators).

>>> SPACES = Registry("search space")
>>> @SPACES.register("toy")
... def toy(): ...
>>> SPACES.list()
['toy']

Unknown names raise a ``ValueError`` listing the valid ones and the close matches. A registry
may also read the plugins installed under an entry-point group (loaded on first use; names
registered in the package win over plugins of the same name).
"""
from __future__ import annotations

import difflib
import fnmatch
from importlib.metadata import entry_points
from typing import Any, Callable


class Registry:
    """Names -> registered objects of one ``kind`` (the word used in error messages).

    Args:
        kind: what is registered, e.g. ``"predictor"``.
        entry_point_group: also offer the objects of the installed entry points of this group.
    """

    def __init__(self, kind: str, entry_point_group: str | None = None):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._items: dict[str, Any] = {}

    def register(self, name: str) -> Callable:
        """Decorator registering the decorated object under ``name`` (and returning it)."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"A {self.kind} must be registered under a non-empty str. "
                            f"Got {name!r} instead.")

        def deco(obj):
            if name in self._items:
                raise ValueError(f"A {self.kind} named {name!r} is already registered.")
            self._items[name] = obj
            return obj
        return deco

    def _plugins(self) -> dict:
        if self.entry_point_group is None:
            return {}
        return {ep.name: ep for ep in entry_points(group=self.entry_point_group)
                if ep.name not in self._items}

    def list(self, pattern: str | None = None) -> list[str]:
        """Registered names, sorted, optionally filtered by a shell-style ``pattern``."""
        names = sorted({*self._items, *self._plugins()})
        return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]

    def get(self, name: str, owner: str | None = None, param: str = "name"):
        """The object registered as ``name``; error messages call it the ``param`` parameter
        of ``owner``."""
        owner = owner or f"the {self.kind} registry"
        if not isinstance(name, str):
            raise TypeError(f"The '{param}' parameter of {owner} must be a str. "
                            f"Got {type(name).__name__} instead.")
        if name in self._items:
            return self._items[name]
        plugins = self._plugins()
        if name in plugins:
            return plugins[name].load()
        valid = self.list()
        close = difflib.get_close_matches(name, valid, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"The '{param}' parameter of {owner} must be one of "
                         f"{', '.join(repr(v) for v in valid)}. Got {name!r} instead.{hint}")

    def __contains__(self, name) -> bool:
        return name in self.list()

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, names={self.list()})"

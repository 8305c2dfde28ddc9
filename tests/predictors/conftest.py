"""Tests parametrized over the registered predictors (``name``) skip, saying why, the
predictors whose optional dependency is not installed."""
from __future__ import annotations

import functools
import importlib

import pytest

#: registered predictor -> (module it needs, the extra that installs it)
OPTIONAL = {"xgboost": ("xgboost", "xgboost")}


@functools.cache
def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = getattr(getattr(item, "callspec", None), "params", {}).get("name")
        if name in OPTIONAL and not _importable(OPTIONAL[name][0]):
            module, extra = OPTIONAL[name]
            item.add_marker(pytest.mark.skip(reason=f"the {name!r} predictor needs {module}: "
                                                    f"pip install 'archgraph[{extra}]'"))

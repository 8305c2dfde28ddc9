"""Argument checks with one error template, and random states.

Every message names the argument, what was expected and what was received, e.g.
``The 'lr' parameter of NeuralPredictor must be a float in (0, inf). Got -1 instead.``
"""
from __future__ import annotations

import difflib
import numbers
from typing import Iterable

import numpy as np


def _owner(owner: str | None) -> str:
    return f" of {owner}" if owner else ""


def check_int(value, name: str, owner: str | None = None, low: int | None = None,
              high: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in ``[low, high]``, else raise."""
    lo = "-inf" if low is None else str(low)
    hi = "inf" if high is None else str(high)
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not ok:
        raise TypeError(f"The '{name}' parameter{_owner(owner)} must be an int in [{lo}, {hi}]. "
                        f"Got {value!r} ({type(value).__name__}) instead.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"The '{name}' parameter{_owner(owner)} must be an int in [{lo}, {hi}]. "
                         f"Got {value!r} instead.")
    return int(value)


def check_positive(value, name: str, owner: str | None = None, allow_zero: bool = False) -> float:
    """Return ``value`` as float if it is a finite real number > 0 (>= 0 with ``allow_zero``)."""
    interval = "[0, inf)" if allow_zero else "(0, inf)"
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"The '{name}' parameter{_owner(owner)} must be a float in {interval}. "
                        f"Got {value!r} ({type(value).__name__}) instead.")
    try:
        v = float(value)
    except OverflowError:  # an int beyond float64: not a finite float
        v = float("inf")
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"The '{name}' parameter{_owner(owner)} must be a float in {interval}. "
                         f"Got {value!r} instead.")
    return v


def check_fraction(value, name: str, owner: str | None = None) -> float:
    """Return ``value`` as float if it lies in the open interval (0, 1)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"The '{name}' parameter{_owner(owner)} must be a float in (0, 1). "
                        f"Got {value!r} ({type(value).__name__}) instead.")
    if not 0 < value < 1:  # compared as given: a huge int is not converted first
        raise ValueError(f"The '{name}' parameter{_owner(owner)} must be a float in (0, 1). "
                         f"Got {value!r} instead.")
    return float(value)


def check_one_of(value, name: str, options: Iterable, owner: str | None = None):
    """Return ``value`` if it is one of ``options``; the error lists them and close matches."""
    options = list(options)
    if value in options:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [str(o) for o in options], n=3)
        if close:
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?"
    raise ValueError(f"The '{name}' parameter{_owner(owner)} must be one of "
                     f"{', '.join(repr(o) for o in options)}. Got {value!r} instead.{hint}")


def check_finite(values, name: str, owner: str | None = None) -> np.ndarray:
    """Return ``values`` as a 1-D float array, rejecting NaN/inf with their positions."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"The '{name}' parameter{_owner(owner)} must be a sequence of numbers. "
                        f"Got {type(values).__name__} {values!r:.40} instead.")
    try:
        arr = np.asarray(values, dtype=float)
    except OverflowError as exc:  # a Python int beyond float64 (e.g. 10**400)
        raise ValueError(f"The '{name}' parameter{_owner(owner)} must contain only finite "
                         f"numbers. Got an integer too large for float64 (|x| > 1.8e308) "
                         f"instead.") from exc
    except (TypeError, ValueError) as exc:
        raise TypeError(f"The '{name}' parameter{_owner(owner)} must be a sequence of numbers. "
                        f"Got {type(values).__name__} instead.") from exc
    if arr.ndim != 1:
        raise ValueError(f"The '{name}' parameter{_owner(owner)} must be 1-dimensional. "
                         f"Got shape {arr.shape} instead.")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"The '{name}' parameter{_owner(owner)} must contain only finite numbers. "
                         f"Got {arr[bad[0]]} at position {bad[0]} ({bad.size} non-finite in all).")
    return arr


def check_random_state(seed) -> np.random.Generator:
    """Turn ``None``, an int, a ``Generator`` or a legacy ``RandomState`` (which seeds a new
    ``Generator`` and advances) into a ``np.random.Generator``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(2 ** 31))
    if seed is None or (isinstance(seed, (numbers.Integral, np.random.SeedSequence))
                        and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise TypeError(f"The 'random_state' parameter must be None, an int, a "
                    f"numpy.random.Generator or a numpy.random.RandomState. "
                    f"Got {type(seed).__name__} instead.")


def check_bound(value, name: str, owner: str | None = None) -> float:
    """Return a budget/threshold ``value`` as float64: any real number but NaN.

    ``inf``/``-inf`` are kept (no bound / nothing passes); an int beyond float64 (e.g.
    ``10**400``) becomes ``+-inf``, which compares with every float64 exactly as the int does.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"The '{name}' parameter{_owner(owner)} must be a float. "
                        f"Got {value!r:.60} ({type(value).__name__}) instead.")
    try:
        v = float(value)
    except OverflowError:
        v = float("inf") if value > 0 else float("-inf")
    if v != v:
        raise ValueError(f"The '{name}' parameter{_owner(owner)} must be a float, not NaN. "
                         f"Got {value!r} instead.")
    return v

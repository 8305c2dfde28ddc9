"""Predictor files without pickle: ``predictor.save(path)`` and :func:`load`.

A predictor file is a `safetensors <https://github.com/huggingface/safetensors>`_ file: the
fitted arrays and tensors as named tensors, and in its string metadata a JSON header
(``archgraph``) with the format name and version, the estimator's name (its registered name,
``"two_stage"``, ...), its hyperparameters (``get_params(deep=False)``), its fitted attributes
(plain numbers and strings, names of the stored tensors) and the signature of its search space,
plus a SHA-256 (``sha256``) of the header and every tensor, checked on load. Nothing in a
predictor file is executed on load: classes are looked up among the registered predictors and
the estimators already imported, spaces are rebuilt from the registry of search spaces.

Values are encoded as JSON with tagged objects for what JSON lacks: ``{"__tuple__": [...]}``,
``{"__dict__": {...}}``, ``{"__array__": name}`` (a numpy array stored as tensor ``name``),
``{"__tensor__": name}`` (a torch tensor), ``{"__device__": "cpu"}``, ``{"__space__":
signature}``, ``{"__estimator__": header}`` (a nested estimator: the stages of
:class:`~archgraph.predictors.TwoStagePredictor`), ``{"__float__": "nan"}``,
``{"__generator__": state}`` (a ``numpy.random.Generator``).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator

from archgraph.predictors.registry import PREDICTORS
from archgraph.spaces.product_space import ProductSpace, Subspace
from archgraph.spaces.search_space import SearchSpace
from archgraph.spaces.signature import space_from_signature, space_signature
from archgraph.utils.io import CHECKSUM_KEY, atomic_write, state_digest

__all__ = ["FORMAT", "VERSION", "load", "save"]

#: the ``format`` entry of every predictor file's header
FORMAT = "archgraph.predictor"
#: version of the file layout this code writes and reads
VERSION = 1
_HEADER_KEY = "archgraph"


def estimator_name(est) -> str:
    """The name a file stores for the class of ``est``: its registered predictor name, else
    ``module:qualname`` (resolved on load only among classes already imported)."""
    cls = type(est)
    for name in PREDICTORS.list():
        if PREDICTORS._items.get(name) is cls:
            return name
    return f"{cls.__module__}:{cls.__qualname__}"


def _all_subclasses(cls) -> list[type]:
    out, todo = [], [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            out.append(sub)
            todo.append(sub)
    return out


def estimator_class(name: str, what: str) -> type:
    """The class a file names (see :func:`estimator_name`); nothing is imported."""
    if not isinstance(name, str):
        raise ValueError(f"{what} names no estimator class.")
    if ":" not in name:
        if name not in PREDICTORS:
            raise ValueError(f"{what} holds a {name!r} predictor, which is not registered "
                             f"(registered: {', '.join(PREDICTORS.list())}).")
        return PREDICTORS.get(name)
    for cls in _all_subclasses(BaseEstimator):
        if f"{cls.__module__}:{cls.__qualname__}" == name:
            return cls
    raise ValueError(f"{what} holds an estimator of class {name!r}, which is not loaded "
                     f"(import the module defining it first).")


# -- encoding --------------------------------------------------------------------------------
class _Encoder:
    """Turns values into JSON, collecting arrays under dotted names."""

    def __init__(self, owner: str):
        self.owner = owner
        self.arrays: dict[str, np.ndarray] = {}

    def __call__(self, value, key: str):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
            return int(value)
        if isinstance(value, (float, np.floating)):
            value = float(value)
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, tuple):
            return {"__tuple__": [self(v, f"{key}.{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self(v, f"{key}.{i}") for i, v in enumerate(value)]
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError(f"{self.owner}: {key!r} is a dict with non-str keys; it cannot "
                                f"be saved.")
            return {"__dict__": {k: self(v, f"{key}.{k}") for k, v in value.items()}}
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "biuf":
                self.arrays[key] = np.ascontiguousarray(value)
                return {"__array__": key}
            return {"__list_array__": value.tolist(), "dtype": value.dtype.str}
        if isinstance(value, torch.Tensor):
            self.arrays[key] = value.detach().cpu().contiguous().numpy()
            return {"__tensor__": key, "dtype": str(value.dtype).removeprefix("torch.")}
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        if isinstance(value, SearchSpace):
            return {"__space__": space_signature(value)}
        if isinstance(value, np.random.Generator):
            return {"__generator__": self(value.bit_generator.state, f"{key}.state")}
        if isinstance(value, BaseEstimator):
            return {"__estimator__": encode_estimator(value, self, f"{key}.")}
        raise TypeError(f"{self.owner}: {key!r} is a {type(value).__name__}, which cannot be "
                        f"saved without pickle (use an int random_state, plain numbers, "
                        f"arrays or estimators of archgraph.predictors).")


def encode_estimator(est, encoder: _Encoder, prefix: str = "") -> dict:
    """The header of ``est`` (its name, parameters and, if fitted, its fitted state)."""
    params = {k: encoder(v, f"{prefix}params.{k}") for k, v in est.get_params(deep=False).items()}
    state_fn = getattr(est, "_fitted_state", None)
    fitted = [k for k in vars(est) if k.endswith("_") and not k.startswith("_")]
    out = {"estimator": estimator_name(est), "params": params}
    if fitted:
        if state_fn is None:
            raise TypeError(f"{encoder.owner}: the fitted {type(est).__name__} has no "
                            f"_fitted_state; it cannot be saved without pickle.")
        out["state"] = {k: encoder(v, f"{prefix}state.{k}") for k, v in state_fn().items()}
    return out


# -- decoding --------------------------------------------------------------------------------
class _Decoder:
    def __init__(self, what: str, arrays: dict, space: SearchSpace | None):
        self.what = what
        self.arrays = arrays
        self.space = space
        self.spaces: dict[str, SearchSpace] = {}
        if space is not None:
            self.spaces[json.dumps(space_signature(space), sort_keys=True)] = space

    def space_of(self, signature) -> SearchSpace:
        """The space of a stored signature: the given space if it is that space, a subspace
        built on the given space if it is the stored subspace's root, else (no space given)
        rebuilt from the registry."""
        key = json.dumps(signature, sort_keys=True)
        if key not in self.spaces:
            given = self.space
            if given is None:
                self.spaces[key] = space_from_signature(signature, self.what)
            elif (isinstance(given, ProductSpace) and given is given.root
                  and isinstance(signature, dict) and "factors" in signature
                  and signature.get("space") == given.name):
                try:
                    built = Subspace(given, given.from_str(signature["base"]),
                                     [(tuple(l), [tuple(o) for o in opts])
                                      for l, opts in signature["factors"]],
                                     names=signature.get("layers"),
                                     option_names=signature.get("options"))
                except (KeyError, TypeError, ValueError) as exc:
                    raise ValueError(f"{self.what} stores a subspace that does not fit the "
                                     f"given {given.name!r} space: {exc}") from exc
                self.spaces[key] = space_from_signature(signature, self.what, built)
            else:  # neither the given space nor its subspace: refused, naming what differs
                self.spaces[key] = space_from_signature(signature, self.what, given)
        return self.spaces[key]

    def array(self, name: str) -> np.ndarray:
        if name not in self.arrays:
            raise ValueError(f"{self.what} lacks the tensor {name!r} its header names.")
        return self.arrays[name]

    def __call__(self, value):
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tuple__" in value:
            return tuple(self(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: self(v) for k, v in value["__dict__"].items()}
        if "__float__" in value:
            return float(value["__float__"])
        if "__array__" in value:
            return self.array(value["__array__"]).copy()
        if "__list_array__" in value:
            return np.asarray(value["__list_array__"], dtype=np.dtype(value["dtype"]))
        if "__tensor__" in value:
            return torch.from_numpy(self.array(value["__tensor__"]).copy())
        if "__device__" in value:
            return torch.device(value["__device__"])
        if "__space__" in value:
            return self.space_of(value["__space__"])
        if "__generator__" in value:
            state = self(value["__generator__"])
            gen = np.random.Generator(getattr(np.random, state["bit_generator"])())
            gen.bit_generator.state = state
            return gen
        if "__estimator__" in value:
            return decode_estimator(value["__estimator__"], self)
        raise ValueError(f"{self.what} holds an unknown value {sorted(value)!r}.")


def decode_estimator(header: dict, decoder: _Decoder):
    """The estimator of a header written by :func:`encode_estimator`."""
    what = decoder.what
    if not isinstance(header, dict) or not isinstance(header.get("params"), dict):
        raise ValueError(f"{what} has a malformed estimator header.")
    cls = estimator_class(header.get("estimator"), what)
    params = {k: decoder(v) for k, v in header["params"].items()}
    try:
        est = cls(**params)
    except TypeError as exc:
        raise ValueError(f"{what}: the stored parameters do not fit {cls.__name__}: "
                         f"{exc}") from exc
    if "state" in header:
        state = {k: decoder(v) for k, v in header["state"].items()}
        try:
            est._restore_fitted(state)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:  # missing entries,
            # bad shapes, numbers the predictor's own checks refuse
            raise ValueError(f"{what}: its fitted state does not fit {cls.__name__} "
                             f"({type(exc).__name__}: {str(exc).splitlines()[0]}).") from exc
    return est


# -- files -----------------------------------------------------------------------------------
def _digest(header_json: str, arrays: dict) -> str:
    return state_digest({"header": header_json, "arrays": arrays})


def save(est, path) -> Path:
    """Write ``est`` (fitted or not) to ``path`` (see the module docstring), atomically."""
    from safetensors.numpy import save as st_save

    owner = f"{type(est).__name__}.save"
    if not isinstance(path, (str, Path)):
        raise TypeError(f"The 'path' parameter of {owner} must be a str or Path. Got "
                        f"{type(path).__name__} instead.")
    encoder = _Encoder(owner)
    header = encode_estimator(est, encoder)
    space = getattr(est, "space_", None) or getattr(est, "space", None)
    header = {"format": FORMAT, "version": VERSION,
              "space": space_signature(space) if isinstance(space, SearchSpace) else None,
              **header}
    header_json = json.dumps(header, sort_keys=True)
    meta = {_HEADER_KEY: header_json, CHECKSUM_KEY: _digest(header_json, encoder.arrays)}
    data = st_save(encoder.arrays, metadata=meta)
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def _read(path: Path) -> tuple[dict, dict, dict]:
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load

    what = f"Predictor file {str(path)!r}"
    try:
        raw = path.read_bytes()
        if len(raw) < 8:
            raise ValueError(f"{len(raw)} bytes, shorter than a safetensors header")
        size = int.from_bytes(raw[:8], "little")
        if size > len(raw) - 8:
            raise ValueError(f"its header claims {size} bytes, the file holds {len(raw) - 8}")
        meta = json.loads(raw[8:8 + size]).get("__metadata__") or {}
        arrays = st_load(raw)
    except (OSError, ValueError, UnicodeDecodeError, AttributeError, SafetensorError) as exc:
        text = str(exc).strip().splitlines()
        raise ValueError(f"{what} is unreadable (truncated, damaged or not a predictor file): "
                         f"{text[0] if text else type(exc).__name__}") from exc
    if _HEADER_KEY not in meta:
        raise ValueError(f"{what} is not an archgraph predictor file: its metadata lacks the "
                         f"header written by predictor.save.")
    try:
        header = json.loads(meta[_HEADER_KEY])
    except ValueError as exc:
        raise ValueError(f"{what} has an unreadable header: {exc}") from exc
    return header, arrays, meta


def load(path, space: SearchSpace | None = None):
    """Read a predictor written by ``predictor.save(path)``.

    Args:
        path: the file.
        space: the search space of the predictor; needed for spaces that are not registered
            (a custom chain space), else checked against the stored signature. ``None``:
            rebuilt from the registry of search spaces.

    Raises:
        ValueError: one line naming the file if it is truncated, altered (SHA-256), of another
            format or version, of an unregistered predictor, or of another space.
    """
    from archgraph.utils.io import check_digest

    if not isinstance(path, (str, Path)):
        raise TypeError(f"The 'path' parameter of archgraph.predictors.load must be a str or "
                        f"Path. Got {type(path).__name__} instead.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No predictor file at {path}.")
    what = f"Predictor file {str(path)!r}"
    header, arrays, meta = _read(path)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{what} is not an archgraph predictor file (format "
                         f"{header.get('format') if isinstance(header, dict) else None!r}, "
                         f"expected {FORMAT!r}).")
    if header.get("version") != VERSION:
        raise ValueError(f"{what} is of format version {header.get('version')!r}; this "
                         f"archgraph reads version {VERSION}.")
    check_digest(path, meta.get(CHECKSUM_KEY), _digest(meta[_HEADER_KEY], arrays),
                 "predictor file")
    decoder = _Decoder(what, arrays, space)
    if space is not None and header.get("space") is not None:
        decoder.space_of(header["space"])  # a file of another space: refused here
    return decode_estimator(header, decoder)

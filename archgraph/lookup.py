"""Lookup tables: predicted accuracy and costs of every architecture of a (sub)space, queried
under budgets.

A :class:`LookupTable` is a pandas DataFrame underneath with one row per architecture:

* one int column per layer (factor) of the space, named by ``space.layer_names``, holding the
  option index (``int8`` when options fit), so a table of 10M architectures of 8 layers costs
  ~80 MB of choices plus 8 bytes per number column;
* ``accuracy`` (predicted), the cost columns (``flops``, ``params``, ...), optional extra
  columns (``latency``, ...);
* ``arch``, the space's string form, stored when the table was built from a list of
  architectures; for whole-space tables it is made only for query results (it needs the space).

For a whole-space table, row ``i`` is architecture ``space.from_index(i)``; query results keep
the row numbers as their index.
"""
from __future__ import annotations

import json
import numbers
from collections import deque
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from archgraph.spaces.product_space import ProductSpace
from archgraph.spaces.search_space import SearchSpace
from archgraph.utils.io import atomic_path, atomic_write
from archgraph.utils.validation import check_finite, check_int

__all__ = ["LookupTable", "pareto_mask", "soft_pareto_mask"]

_FORMAT = "archgraph.LookupTable"
_CSV_HEADER = "# archgraph-lookup-table "
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def _check_pair(cost, accuracy, owner: str) -> tuple[np.ndarray, np.ndarray]:
    cost = check_finite(cost, "cost", owner)
    accuracy = check_finite(accuracy, "accuracy", owner)
    if len(cost) != len(accuracy):
        raise ValueError(f"The 'cost' and 'accuracy' parameters of {owner} must have the same "
                         f"length. Got {len(cost)} and {len(accuracy)} instead.")
    return cost, accuracy


def pareto_mask(cost, accuracy) -> np.ndarray:
    """Boolean mask ``[n]`` of the non-dominated rows (low cost, high accuracy).

    Sorted by cost ascending (ties: accuracy descending), a row is kept iff its accuracy is
    strictly above the running maximum of all rows before it. So every dropped row has a kept
    row at most as costly and at least as accurate; of exact duplicates only the first is kept.
    """
    cost, accuracy = _check_pair(cost, accuracy, "pareto_mask")
    order = np.lexsort((-accuracy, cost))  # cost asc, then accuracy desc
    acc = accuracy[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(acc)[:-1]])
    mask = np.zeros(len(acc), dtype=bool)
    mask[order] = acc > best_before
    return mask


def soft_pareto_mask(cost, accuracy, J: int, chunk: int = 65536) -> np.ndarray:
    """Boolean mask ``[n]`` of a "soft" Pareto front of width ``J``.

    Latency-constrained selection after Wen et al., "Neural Predictor for Neural Architecture
    Search" (ECCV 2020): rather than only the strict front, keep models that are nearly as good
    as their cheaper neighbours, so that the front holds several candidates per budget. Rule:
    sort by cost ascending (ties: accuracy descending) and scan; the first model is kept, and
    each later one is kept iff its accuracy is strictly above the minimum accuracy of the last
    ``J`` kept models (all kept ones while fewer than ``J``). ``J = 1`` is the strict front
    (:func:`pareto_mask`); a larger ``J`` keeps a superset of it.

    The threshold never decreases, so the scan skips whole chunks below it with one vectorized
    comparison; only rows above the threshold are visited one by one.
    """
    owner = "soft_pareto_mask"
    cost, accuracy = _check_pair(cost, accuracy, owner)
    J = check_int(J, "J", owner, low=1)
    order = np.lexsort((-accuracy, cost))
    acc = accuracy[order]
    kept = np.zeros(len(acc), dtype=bool)
    window: deque = deque(maxlen=J)
    threshold = -np.inf
    for start in range(0, len(acc), chunk):
        block = acc[start:start + chunk]
        for i in np.flatnonzero(block > threshold):  # candidates; threshold may rise meanwhile
            if block[i] > threshold:
                kept[start + i] = True
                window.append(block[i])
                threshold = min(window)
    mask = np.zeros(len(acc), dtype=bool)
    mask[order] = kept
    return mask


def _choice_dtype(num_options: Sequence[int]):
    top = max(num_options) - 1
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if top <= np.iinfo(t).max)


class LookupTable:
    """Predicted accuracy and costs of architectures, queried under budgets.

    Build one with :meth:`from_predictions` or :meth:`load`. Query results are DataFrames with
    the ``arch`` strings (when stored, or when the table knows its ``space``), the layer
    columns, ``accuracy`` and the cost columns.

    Args:
        frame: the table (column ``accuracy`` required; see the module docstring).
        layers: names of the layer-choice columns.
        space: the search space of the rows (needed to make ``arch`` strings of whole-space
            tables); optional.
        space_name: name of the space when ``space`` is not given (e.g. after loading).

    Example::

        table = LookupTable.from_predictions(space, None, predictor_output)  # whole space
        table.query(max_flops=300e6, top_k=5)
        table.pareto("flops")
        table.save("lut.parquet"); LookupTable.load("lut.parquet", space=space)
    """

    def __init__(self, frame: pd.DataFrame, layers: Sequence[str] = (),
                 space: SearchSpace | None = None, space_name: str | None = None):
        owner = "LookupTable"
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"The 'frame' parameter of {owner} must be a pandas DataFrame. "
                            f"Got {type(frame).__name__} instead.")
        self.layers = tuple(layers)
        missing = [c for c in ("accuracy", *self.layers) if c not in frame.columns]
        if missing:
            raise ValueError(f"The 'frame' parameter of {owner} must have the columns "
                             f"'accuracy' and the layer columns. Missing {missing}; got "
                             f"{list(frame.columns)}.")
        if space is not None and not isinstance(space, SearchSpace):
            raise TypeError(f"The 'space' parameter of {owner} must be a SearchSpace or None. "
                            f"Got {type(space).__name__} instead.")
        self.frame = frame
        self.space = space
        self.space_name = space.name if space is not None else space_name

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_predictions(cls, space: SearchSpace, archs: Sequence | None, accuracy,
                         costs: Sequence[str] = ("flops", "params"),
                         columns: Mapping[str, Sequence] | None = None) -> "LookupTable":
        """Table of predicted accuracies, costed by the space's cost models.

        Args:
            space: the search space (a :class:`ProductSpace` or subspace for ``archs=None``).
            archs: the architectures of the rows, or ``None`` for the whole space in
                :meth:`ProductSpace.index` order (vectorized: no architecture objects or
                strings are made, so 10M rows fit in memory).
            accuracy: predicted accuracies ``[n]`` in the order of the rows.
            costs: cost models of the space to add as columns (``space.cost_metrics``).
            columns: further columns ``{name: values [n]}``, e.g. measured ``latency``.
        """
        owner = "LookupTable.from_predictions"
        if not isinstance(space, SearchSpace):
            raise TypeError(f"The 'space' parameter of {owner} must be a SearchSpace. "
                            f"Got {type(space).__name__} instead.")
        if isinstance(costs, str):
            raise TypeError(f"The 'costs' parameter of {owner} must be a sequence of cost "
                            f"names. Got the str {costs!r} instead; wrap it in a tuple.")
        data: dict[str, object] = {}
        layers: tuple[str, ...] = ()
        if archs is None:
            if not isinstance(space, ProductSpace):
                raise ValueError(f"The 'archs' parameter of {owner} may be None (the whole "
                                 f"space) only for a ProductSpace. The {space.name!r} space "
                                 f"({type(space).__name__}) needs a list of architectures.")
            n = len(space)
            choices = space.all_choices(dtype=_choice_dtype(space.num_options))  # [n, L]
            layers = space.layer_names
            cost_values = {m: space.costs(m) for m in costs}
        else:
            archs = list(archs)
            n = len(archs)
            data["arch"] = [space.to_str(a) for a in archs]
            if isinstance(space, ProductSpace):
                choices = space.encode(archs).astype(_choice_dtype(space.num_options))
                layers = space.layer_names
                cost_values = {m: space.costs(m, choices) for m in costs}
            else:
                choices = None
                cost_values = {m: cls._arch_costs(space, m, archs) for m in costs}
        accuracy = check_finite(accuracy, "accuracy", owner)
        if len(accuracy) != n:
            raise ValueError(f"The 'accuracy' parameter of {owner} must have one value per "
                             f"architecture ({n}). Got {len(accuracy)} instead.")
        names = ["arch"] * ("arch" in data) + list(layers) + ["accuracy", *cost_values,
                                                               *(columns or {})]
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise ValueError(f"Column names of {owner} must be distinct: layer names, "
                             f"'accuracy', costs and columns. Got {dup} more than once.")
        for l, name in enumerate(layers):
            data[name] = choices[:, l]
        data["accuracy"] = accuracy
        data.update(cost_values)
        for name, values in (columns or {}).items():
            values = np.asarray(values)
            if values.shape != (n,):
                raise ValueError(f"Column {name!r} in the 'columns' parameter of {owner} must "
                                 f"have shape ({n},). Got {values.shape} instead.")
            data[name] = values
        return cls(pd.DataFrame(data, copy=False), layers, space=space)

    @staticmethod
    def _arch_costs(space: SearchSpace, metric: str, archs: list) -> np.ndarray:
        if metric not in ("flops", "params"):
            raise ValueError(f"The 'costs' parameter of LookupTable.from_predictions must name "
                             f"'flops' or 'params' for the {space.name!r} space. Got "
                             f"{metric!r} instead.")
        return np.array([getattr(space, metric)(a) for a in archs], dtype=np.float64)

    # -- inspection ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frame)

    @property
    def cost_columns(self) -> tuple[str, ...]:
        """Numeric columns other than the layers and ``accuracy`` (constrainable costs)."""
        skip = {"accuracy", *self.layers}
        return tuple(c for c in self.frame.columns
                     if c not in skip and pd.api.types.is_numeric_dtype(self.frame[c]))

    def _column(self, name: str, argument: str, owner: str) -> np.ndarray:
        if name not in self.cost_columns:
            raise ValueError(f"The '{argument}' parameter of LookupTable.{owner} refers to the "
                             f"cost column {name!r}, which this table lacks. Available cost "
                             f"columns: {', '.join(map(repr, self.cost_columns)) or 'none'}.")
        return self.frame[name].to_numpy(dtype=np.float64)

    def _result(self, rows: np.ndarray) -> pd.DataFrame:
        """Rows (positions) of the table as a DataFrame, with ``arch`` strings if obtainable."""
        out = self.frame.iloc[rows]
        if "arch" not in out.columns and self.space is not None and self.layers:
            archs = self.space.decode(out[list(self.layers)].to_numpy())
            out = out.copy()
            out.insert(0, "arch", [self.space.to_str(a) for a in archs])
        return out

    # -- queries ---------------------------------------------------------------------------
    def query(self, max_flops: float | None = None, max_params: float | None = None,
              max_latency: float | None = None, min_accuracy: float | None = None,
              top_k: int | None = 10, constraints: Mapping[str, float] | None = None
              ) -> pd.DataFrame:
        """The ``top_k`` most accurate architectures within budgets, most accurate first.

        ``max_flops``/``max_params``/``max_latency`` bound the columns ``flops``/``params``/
        ``latency``; ``constraints`` bounds any other cost column (``{column: max}``);
        ``top_k=None`` returns every row that qualifies. Ties keep the row order.
        """
        bounds = {"flops": ("max_flops", max_flops), "params": ("max_params", max_params),
                  "latency": ("max_latency", max_latency)}
        bounds = {c: (a, v) for c, (a, v) in bounds.items() if v is not None}
        for column, value in (constraints or {}).items():
            bounds[column] = ("constraints", value)
        mask = np.ones(len(self), dtype=bool)
        for column, (argument, value) in bounds.items():
            mask &= self._column(column, argument, "query") <= self._bound(value, argument)
        accuracy = self.frame["accuracy"].to_numpy(dtype=np.float64)
        if min_accuracy is not None:
            mask &= accuracy >= self._bound(min_accuracy, "min_accuracy")
        rows = np.flatnonzero(mask)
        if top_k is not None:
            top_k = check_int(top_k, "top_k", "LookupTable.query", low=1)
            if top_k < len(rows):  # keep rows at least as accurate as the k-th best (and ties)
                kth = np.partition(accuracy[rows], len(rows) - top_k)[len(rows) - top_k]
                rows = rows[accuracy[rows] >= kth]
        rows = rows[np.lexsort((rows, -accuracy[rows]))][:top_k]  # accuracy desc, row order
        return self._result(rows)

    @staticmethod
    def _bound(value, argument: str) -> float:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"The '{argument}' parameter of LookupTable.query must be a float. "
                            f"Got {value!r} ({type(value).__name__}) instead.")
        return float(value)

    def pareto(self, cost: str = "flops") -> pd.DataFrame:
        """Non-dominated rows (lower ``cost``, higher accuracy), by cost ascending
        (:func:`pareto_mask`)."""
        return self._front(cost, None)

    def soft_pareto(self, J: int, cost: str = "flops") -> pd.DataFrame:
        """Soft Pareto front of width ``J`` (:func:`soft_pareto_mask`), by cost ascending."""
        J = check_int(J, "J", "LookupTable.soft_pareto", low=1)
        return self._front(cost, J)

    def _front(self, cost: str, J: int | None) -> pd.DataFrame:
        name = "pareto" if J is None else "soft_pareto"
        values = self._column(cost, "cost", name)
        if not np.isfinite(values).all():
            raise ValueError(f"The cost column {cost!r} holds non-finite values; "
                             f"LookupTable.{name} needs every row costed.")
        accuracy = self.frame["accuracy"].to_numpy(dtype=np.float64)
        mask = (pareto_mask(values, accuracy) if J is None
                else soft_pareto_mask(values, accuracy, J))
        rows = np.flatnonzero(mask)
        rows = rows[np.lexsort((-accuracy[rows], values[rows]))]
        return self._result(rows)

    # -- files -----------------------------------------------------------------------------
    def _metadata(self) -> dict:
        meta = {"format": _FORMAT, "version": 1, "space": self.space_name,
                "layers": list(self.layers)}
        if isinstance(self.space, ProductSpace):
            meta["signature"] = self.space.signature()
        return meta

    @staticmethod
    def _format(path, owner: str) -> str:
        suffix = Path(path).suffix.lower()
        if suffix not in _SUFFIXES:
            raise ValueError(f"The 'path' parameter of LookupTable.{owner} must end in "
                             f"{', '.join(map(repr, _SUFFIXES))}. Got {str(path)!r} instead.")
        return _SUFFIXES[suffix]

    def save(self, path) -> Path:
        """Write the table as Parquet (``.parquet``/``.pq``) or CSV (``.csv``), atomically.

        The space name, layer columns and the space's :meth:`~ProductSpace.signature` (options,
        and a subspace's base and factors) travel with it: Parquet key-value metadata
        ``archgraph``; CSV a first line ``# archgraph-lookup-table {json}``. The row index is
        not stored: a loaded table is numbered ``0..n-1``.
        """
        fmt = self._format(path, "save")
        meta = json.dumps(self._metadata())
        if fmt == "parquet":
            pa, pq = _pyarrow()
            table = pa.Table.from_pandas(self.frame, preserve_index=False)
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), b"archgraph": meta.encode()})
            with atomic_path(path) as tmp:
                pq.write_table(table, tmp)
        else:
            with atomic_write(path, "w") as fh:
                fh.write(_CSV_HEADER + meta + "\n")
                self.frame.to_csv(fh, index=False)
        return Path(path)

    @classmethod
    def load(cls, path, space: SearchSpace | None = None) -> "LookupTable":
        """Read a table written by :meth:`save`; ``space`` (optional) must match its name and
        layers, and enables ``arch`` strings in results of whole-space tables."""
        fmt = cls._format(path, "load")
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No lookup table at {path}.")
        if fmt == "parquet":
            pa, pq = _pyarrow()
            table = pq.read_table(path)
            raw = (table.schema.metadata or {}).get(b"archgraph")
            meta = json.loads(raw) if raw else None
            frame = table.to_pandas()
        else:
            with open(path, encoding="utf-8") as fh:
                first = fh.readline()
                meta = (json.loads(first[len(_CSV_HEADER):])
                        if first.startswith(_CSV_HEADER) else None)
                frame = pd.read_csv(fh, dtype={"arch": str}) if meta else None
        if meta is None or meta.get("format") != _FORMAT:
            raise ValueError(f"{path} is not an archgraph lookup table: its "
                             f"{'Parquet metadata' if fmt == 'parquet' else 'first line'} "
                             f"lacks the archgraph header written by LookupTable.save.")
        layers = meta["layers"]
        for name in layers:  # CSV reads them as int64
            frame[name] = pd.to_numeric(frame[name], downcast="integer")
        if space is not None:
            if space.name != meta["space"] or list(getattr(space, "layer_names", [])) != layers:
                raise ValueError(f"The 'space' parameter of LookupTable.load does not match "
                                 f"{path}: the table is of the {meta['space']!r} space with "
                                 f"layers {layers}. Got the {space.name!r} space with layers "
                                 f"{list(getattr(space, 'layer_names', []))}.")
            saved = meta.get("signature")
            given = space.signature() if isinstance(space, ProductSpace) else None
            if saved is not None and given is not None and given != saved:
                differ = [k for k in sorted(set(saved) | set(given))
                          if saved.get(k) != given.get(k)]
                raise ValueError(f"The 'space' parameter of LookupTable.load does not match "
                                 f"{path}: same name and layers, but its rows number another "
                                 f"(sub)space ({', '.join(differ)} differ). The table's: "
                                 f"base {saved.get('base')!r}; got base {given.get('base')!r}.")
        return cls(frame, layers, space=space, space_name=meta["space"])

    def __repr__(self) -> str:
        return (f"LookupTable(space={self.space_name!r}, rows={len(self)}, "
                f"columns={list(self.frame.columns)})")


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Parquet lookup tables need pyarrow: pip install 'archgraph[io]' "
                          "(or pip install pyarrow), or save as .csv.") from exc
    return pa, pq

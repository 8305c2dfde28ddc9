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

Queries walk an index: the rows ordered by accuracy, descending (ties by row), built at the first
query and stored in saved files. A top-k query reads that order block by block and stops as soon
as ``k`` rows pass its budgets: under a median FLOPs budget it reads ~30k rows of a 10M-row
table.
"""
from __future__ import annotations

import io
import json
import warnings
from collections import deque
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from archgraph.spaces.product_space import ProductSpace
from archgraph.spaces.search_space import SearchSpace
from archgraph.utils.io import (
    CHECKSUM_KEY,
    atomic_path,
    atomic_write,
    bytes_digest,
    check_digest,
    frame_digest,
    read_errors,
)
from archgraph.utils.memory import check_memory
from archgraph.utils.validation import check_bound, check_finite, check_int

__all__ = ["EmptyQueryWarning", "LookupTable", "pareto_mask", "soft_pareto_mask"]


class EmptyQueryWarning(UserWarning):
    """A query of a non-empty table returned no row; the message names the constraint that
    emptied it and the table's range of its column."""

_FORMAT = "archgraph.LookupTable"
_CSV_HEADER = "# archgraph-lookup-table "
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_VERSION = 3  # 2: the accuracy order is stored as a column named by the "order" key
#             3: a SHA-256 of the content under "sha256" (Parquet: of the values; CSV: of the
#                text after the header line), required from this version on
_ORDER_COLUMN = "accuracy_order"
_TABLE_HINT = "Tabulate a subspace (space.subspace(layers, base)) or raise 'max_memory_gb'."
_FIRST_BLOCK = 4096  # rows a top-k query checks first; each next block is twice larger
_WALK_SHARE = 1 / 16  # past this share of the rows, a top-k query scans every row instead
_COST_BINS = 4096  # cost bins of the Pareto fronts' vectorized prefilter


def _check_pair(cost, accuracy, owner: str) -> tuple[np.ndarray, np.ndarray]:
    cost = check_finite(cost, "cost", owner)
    accuracy = check_finite(accuracy, "accuracy", owner)
    if len(cost) != len(accuracy):
        raise ValueError(f"The 'cost' and 'accuracy' parameters of {owner} must have the same "
                         f"length. Got {len(cost)} and {len(accuracy)} instead.")
    return cost, accuracy


def _cost_bins(cost: np.ndarray) -> tuple[np.ndarray, int]:
    """Equal-width cost bins ``[n]`` (and their number), non-decreasing in cost: a row of a
    lower bin is strictly cheaper than every row of a higher one, and equal costs share a bin."""
    nbins = max(1, min(_COST_BINS, len(cost) // 16))
    if nbins == 1:
        return np.zeros(len(cost), dtype=np.int16), 1
    lo = cost.min()
    with np.errstate(over="ignore", divide="ignore"):  # one cost, too wide or narrow: inf
        scale = nbins / (cost.max() - lo)
    if not 0 < scale < np.inf:  # one cost, or a range that cannot be scaled: one bin
        return np.zeros(len(cost), dtype=np.int16), 1
    scaled = cost - lo
    scaled *= scale  # monotone in cost: subtraction and scaling round monotonically
    bins = scaled.astype(np.int16)
    np.minimum(bins, nbins - 1, out=bins)
    return bins, nbins


def pareto_mask(cost, accuracy) -> np.ndarray:
    """Boolean mask ``[n]`` of the non-dominated rows (low cost, high accuracy).

    Sorted by cost ascending (ties: accuracy descending), a row is kept iff its accuracy is
    strictly above the running maximum of all rows before it. So every dropped row has a kept
    row at most as costly and at least as accurate; of exact duplicates only the first is kept.

    Only rows more accurate than every row of the cheaper cost bins are sorted: any other row
    is dominated by a strictly cheaper one, which the scan meets first (O(n) prefilter, then a
    sort of the few survivors).
    """
    cost, accuracy = _check_pair(cost, accuracy, "pareto_mask")
    bins, nbins = _cost_bins(cost)
    best = np.full(nbins, -np.inf)
    np.maximum.at(best, bins, accuracy)  # best accuracy per bin
    best_below = np.concatenate([[-np.inf], np.maximum.accumulate(best)[:-1]])
    rows = np.flatnonzero(accuracy > best_below[bins])
    order = rows[np.lexsort((-accuracy[rows], cost[rows]))]  # cost asc, then accuracy desc
    acc = accuracy[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(acc)[:-1]])
    mask = np.zeros(len(accuracy), dtype=bool)
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

    The threshold never decreases, so the scan goes through cost bins in order and sorts only
    the rows of a bin above the threshold at its start; of those, it re-checks ``chunk`` rows
    at a time with one vectorized comparison and visits only rows above the threshold.
    """
    owner = "soft_pareto_mask"
    cost, accuracy = _check_pair(cost, accuracy, owner)
    J = check_int(J, "J", owner, low=1)
    bins, nbins = _cost_bins(cost)
    by_bin = np.argsort(bins, kind="stable")  # rows grouped by bin, by row within (radix sort)
    ends = np.cumsum(np.bincount(bins, minlength=nbins))
    kept = np.zeros(len(accuracy), dtype=bool)
    window: deque = deque(maxlen=J)
    threshold = -np.inf
    for start, end in zip(np.concatenate([[0], ends[:-1]]), ends):
        rows = by_bin[start:end]
        rows = rows[accuracy[rows] > threshold]  # the others are never kept
        rows = rows[np.lexsort((-accuracy[rows], cost[rows]))]  # scan order; ties by row
        acc = accuracy[rows]
        for first in range(0, len(rows), chunk):
            block = acc[first:first + chunk]
            for i in np.flatnonzero(block > threshold):  # candidates; threshold may rise
                if block[i] > threshold:
                    kept[rows[first + i]] = True
                    window.append(block[i])
                    threshold = min(window)
    return kept


def _at_most(values: np.ndarray, bound: float) -> np.ndarray:
    """``values <= bound`` compared as float64 (as if the column were read as float64)."""
    return values.astype(np.float64, copy=False) <= bound


def _choice_dtype(num_options: Sequence[int]):
    top = max(num_options) - 1
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if top <= np.iinfo(t).max)


class LookupTable:
    """Predicted accuracy and costs of architectures, queried under budgets.

    Build one with :meth:`from_predictions` or :meth:`load`. Query results are DataFrames with
    the ``arch`` strings (when stored, or when the table knows its ``space``), the layer
    columns, ``accuracy`` and the cost columns. Queries read :attr:`accuracy_order`, built at
    the first query (a stable sort: ~2 s for 10M rows) and stored by :meth:`save`.

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

    @property
    def frame(self) -> pd.DataFrame:
        """The table. Assigning a new frame resets the accuracy order; do not edit its
        ``accuracy`` column in place (the order would not follow)."""
        return self._frame

    @frame.setter
    def frame(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._order: np.ndarray | None = None

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_predictions(cls, space: SearchSpace, archs: Sequence | None, accuracy,
                         costs: Sequence[str] = ("flops", "params"),
                         columns: Mapping[str, Sequence] | None = None,
                         max_memory_gb: float | None = None) -> "LookupTable":
        """Table of predicted accuracies, costed by the space's cost models.

        Args:
            space: the search space (a :class:`ProductSpace` or subspace for ``archs=None``).
            archs: the architectures of the rows, or ``None`` for the whole space in
                :meth:`ProductSpace.index` order (vectorized: no architecture objects or
                strings are made, so 10M rows fit in memory).
            accuracy: predicted accuracies ``[n]`` in the order of the rows.
            costs: cost models of the space to add as columns (``space.cost_metrics``).
            columns: further columns ``{name: values [n]}``, e.g. measured ``latency``.
            max_memory_gb: memory budget of a whole-space table (``archs=None``), checked
                before anything is allocated; ``None``: 90% of what the process may use.
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
            n = space.size
            if np.ndim(accuracy) != 1 or len(accuracy) != n:  # before allocating the table
                got = len(accuracy) if np.ndim(accuracy) == 1 else f"shape {np.shape(accuracy)}"
                raise ValueError(f"The 'accuracy' parameter of {owner} must have one value per "
                                 f"architecture ({n}). Got {got} instead.")
            check_memory(cls.memory_estimate_gb(space, len(costs), len(columns or {})),
                         max_memory_gb, f"{owner} over {n:,} architectures of {space.name!r}",
                         hint=_TABLE_HINT)
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

    @classmethod
    def build(cls, predictor, space: ProductSpace | None = None, *,
              costs: Sequence[str] | None = None,
              columns: Mapping[str, Sequence] | None = None, chunk_size: int = 65536,
              progress: bool = False, max_memory_gb: float | None = None) -> "LookupTable":
        """Whole-(sub)space table of a fitted predictor, predicted straight from the space's
        choice matrix in chunks (``predictor.predict_space``): no architecture object per
        row, and the table's memory is estimated and checked before predicting.

        Args:
            predictor: a fitted predictor of ``archgraph.predictors``.
            space: the predictor's product space or a subspace of it (default: its own).
            costs: cost models to add as columns (default: all of the space's).
            columns: further columns ``{name: values [n]}`` in index order.
            chunk_size: architectures per prediction chunk.
            progress: show a progress bar over the chunks.
            max_memory_gb: memory budget in GiB (``None``: 90% of what the process may use).
        """
        owner = "LookupTable.build"
        if not callable(getattr(predictor, "predict_space", None)):
            raise TypeError(f"The 'predictor' argument of {owner} must be a predictor of "
                            f"archgraph.predictors (with predict_space). Got "
                            f"{type(predictor).__name__} instead.")
        if space is None:  # the fitted space (transductive predictors), else the declared one
            space = getattr(predictor, "space_", None)
            space = getattr(predictor, "space", None) if space is None else space
        if not isinstance(space, ProductSpace):
            raise TypeError(f"The 'space' argument of {owner} must be a ProductSpace or a "
                            f"subspace of one. Got {type(space).__name__} instead.")
        costs = tuple(space.cost_metrics if costs is None else costs)
        table_gb = cls.memory_estimate_gb(space, len(costs), len(columns or {}))
        check_memory(table_gb, max_memory_gb, f"{owner} over {space.size:,} architectures",
                     hint=_TABLE_HINT)
        budget = None if max_memory_gb is None else max_memory_gb - table_gb
        accuracy = predictor.predict_space(space, chunk_size=chunk_size, progress=progress,
                                           max_memory_gb=budget)
        return cls.from_predictions(space, None, accuracy, costs=costs, columns=columns,
                                    max_memory_gb=max_memory_gb)

    @staticmethod
    def memory_estimate_gb(space: ProductSpace, num_costs: int, num_columns: int = 0) -> float:
        """Peak GiB of a whole-space table: choice columns (1-2 bytes each, plus the int64
        positions they are computed from), accuracy, cost and extra columns of 8 bytes, and the
        DataFrame's copy of them."""
        n = space.size
        itemsize = np.dtype(_choice_dtype(space.num_options)).itemsize
        per_row = 2 * itemsize * space.num_layers + 16 + 16 * (1 + num_costs + num_columns)
        return n * per_row / 2 ** 30

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
        """The cost column ``name`` as a numpy array of its own dtype (no copy where possible);
        compare it as float64 (:func:`_at_most`)."""
        if name not in self.cost_columns:
            raise ValueError(f"The '{argument}' parameter of LookupTable.{owner} refers to the "
                             f"cost column {name!r}, which this table lacks. Available cost "
                             f"columns: {', '.join(map(repr, self.cost_columns)) or 'none'}.")
        values = self.frame[name].to_numpy()
        return values if values.dtype.kind in "biuf" else self.frame[name].to_numpy(np.float64)

    def _accuracy(self) -> np.ndarray:
        return self.frame["accuracy"].to_numpy(dtype=np.float64)

    @property
    def accuracy_order(self) -> np.ndarray:
        """Row positions ``[n]`` by accuracy, descending; ties by row (built once, read-only)."""
        if self._order is None:
            accuracy = self._accuracy()
            nan = np.flatnonzero(np.isnan(accuracy))
            if nan.size:
                raise ValueError(f"The 'accuracy' column of the table must hold numbers to be "
                                 f"queried. Got NaN at row {nan[0]} ({nan.size} NaN in all).")
            self._order = np.argsort(-accuracy, kind="stable")
            self._order.flags.writeable = False
        return self._order

    def _result(self, rows: np.ndarray) -> pd.DataFrame:
        """Rows (positions) of the table as a DataFrame, with ``arch`` strings if obtainable."""
        out = self.frame.iloc[rows]  # a new frame (take): inserting leaves the table alone
        if "arch" not in out.columns and self.space is not None and self.layers:
            choices = np.stack([out[name].to_numpy() for name in self.layers], axis=1)
            out.insert(0, "arch", [self.space.to_str(a) for a in self.space.decode(choices)])
        return out

    def get(self, arch) -> dict:
        """Every column of one architecture's row (predicted accuracy, costs, latency, ...),
        as a dict with its ``arch`` string; ``arch`` is an architecture or its string.

        Whole-space tables find the row by the space's index (no search); tables with an
        ``arch`` column by that column. Raises ``ValueError`` if the table lacks it."""
        space = self.space
        if isinstance(arch, str) and space is not None:
            arch = space.from_str(arch)
        if "arch" in self.frame.columns:
            key = arch if isinstance(arch, str) else (space.to_str(arch) if space is not None
                                                      else str(arch))
            rows = np.flatnonzero(self.frame["arch"].to_numpy() == key)
            row = int(rows[0]) if rows.size else None
        elif isinstance(space, ProductSpace) and len(self) == space.size:
            row = int(space.index(arch))
        else:
            raise ValueError("LookupTable.get needs the table's space (LookupTable.load(path, "
                             "space=...)) or an 'arch' column to find an architecture.")
        if row is None:
            raise ValueError(f"The architecture {arch if isinstance(arch, str) else key!r} is "
                             f"not in this table ({len(self)} rows).")
        out = self._result(np.array([row])).iloc[0].to_dict()
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in out.items()}

    # -- queries ---------------------------------------------------------------------------
    def query(self, max_flops: float | None = None, max_params: float | None = None,
              max_latency: float | None = None, min_accuracy: float | None = None,
              top_k: int | None = 10, constraints: Mapping[str, float] | None = None
              ) -> pd.DataFrame:
        """The ``top_k`` most accurate architectures within budgets, most accurate first.

        ``max_flops``/``max_params``/``max_latency`` bound the columns ``flops``/``params``/
        ``latency``; ``constraints`` bounds any other cost column (``{column: max}``);
        ``top_k=None`` returns every row that qualifies. Ties keep the row order.

        A top-k query walks :attr:`accuracy_order` in blocks (4096 rows, then twice more each
        time), from its start or up to the last row at ``min_accuracy`` (bisection), and stops
        once ``top_k`` rows pass the budgets. Budgets so tight that the walk would pass 1/16 of
        the rows are met by a scan of every row instead: a random read along the order costs up
        to ~20 sequential ones, so such a query costs at most about two scans.
        """
        bounds = {"flops": ("max_flops", max_flops), "params": ("max_params", max_params),
                  "latency": ("max_latency", max_latency)}
        bounds = {c: (a, v) for c, (a, v) in bounds.items() if v is not None}
        if constraints is not None:
            if not isinstance(constraints, Mapping):
                raise TypeError(f"The 'constraints' parameter of LookupTable.query must be a "
                                f"mapping {{cost column: max}}. Got {constraints!r:.60} "
                                f"({type(constraints).__name__}) instead.")
            for column, value in constraints.items():
                if not isinstance(column, str):
                    raise TypeError(f"The 'constraints' parameter of LookupTable.query must "
                                    f"map column names (str) to maxima. Got the key "
                                    f"{column!r:.60} ({type(column).__name__}) instead.")
                if column in bounds:  # never drop one of two bounds on one column
                    raise ValueError(f"The column {column!r} is bounded twice in "
                                     f"LookupTable.query: by '{bounds[column][0]}' and by "
                                     f"'constraints'. Give one of them.")
                bounds[column] = ("constraints", value)
        checks = [(self._column(column, argument, "query"), self._budget(value, argument))
                  for column, (argument, value) in bounds.items()]
        if min_accuracy is not None:
            min_accuracy = self._bound(min_accuracy, "min_accuracy")
            top = (float(self.frame["accuracy"].iloc[self.accuracy_order[0]])
                   if len(self) else 0.0)  # the best row, from the order (no scan)
            if 0 < min_accuracy <= 1 < top:
                raise ValueError(f"The 'min_accuracy' parameter of LookupTable.query is in the "
                                 f"units of the table's accuracy column, percent (up to "
                                 f"{top:.2f} here): {100 * min_accuracy:g} for "
                                 f"{100 * min_accuracy:g}%. Got {min_accuracy!r}, a fraction.")
        result = self._query(checks, min_accuracy, top_k)
        if not len(result) and len(self):
            warnings.warn(self._empty_reason(bounds, checks, min_accuracy), EmptyQueryWarning,
                          stacklevel=2)
        return result

    def _budget(self, value, argument: str) -> float:
        value = self._bound(value, argument)
        if value < 0:
            raise ValueError(f"The '{argument}' parameter of LookupTable.query must be a budget "
                             f">= 0. Got {value!r} instead.")
        return value

    def _empty_reason(self, bounds: dict, checks: list, min_accuracy) -> str:
        """Which constraint of an empty query emptied it, with the table's range of its
        column."""
        parts = [(argument, column, values, bound) for (column, (argument, _)), (values, bound)
                 in zip(bounds.items(), checks)]
        if min_accuracy is not None:
            parts.append(("min_accuracy", "accuracy", self._accuracy(), min_accuracy))
        for argument, column, values, bound in parts:
            v = values.astype(np.float64, copy=False)
            passing = (v >= bound) if argument == "min_accuracy" else _at_most(values, bound)
            if not passing.any():
                return (f"No architecture of the table satisfies {argument}={bound:g}: its "
                        f"{column!r} column ranges over [{v.min():g}, {v.max():g}] "
                        f"({len(self)} rows). Budgets are in the column's own units (FLOPs "
                        f"and params as counts: 6e7 or '60M' on the command line, latency "
                        f"in ms, accuracy in percent).")
        ranges = "; ".join(f"{c!r} in [{np.min(v):g}, {np.max(v):g}]"
                           for _, c, v, _ in parts)
        given = ", ".join(f"{a}={b:g}" for a, _, _, b in parts)
        return (f"No architecture of the table satisfies {given} together (each alone is met "
                f"by some rows); the table has {ranges}.")

    def _query(self, checks: list, min_accuracy, top_k) -> pd.DataFrame:
        if top_k is not None:
            top_k = check_int(top_k, "top_k", "LookupTable.query", low=1)
        order = self.accuracy_order
        end = len(order) if min_accuracy is None else self._count_at_least(min_accuracy)
        if top_k is None:  # every row: one vectorized mask per budget, read in order
            rows = order[:end]
            if checks:
                rows = rows[self._mask(checks)[rows]]
            return self._result(rows)
        found, need, start, block = [], top_k, 0, _FIRST_BLOCK
        while start < end and need > 0:  # walk the order until top_k rows pass
            if start and start + block > len(order) * _WALK_SHARE:  # selective budgets
                return self._result(self._scan(checks, min_accuracy, top_k))
            rows = order[start:min(start + block, end)]
            for values, bound in checks:
                rows = rows[_at_most(values[rows], bound)]
            found.append(rows[:need])
            need -= len(found[-1])
            start, block = start + block, 2 * block
        return self._result(np.concatenate(found) if found else order[:0])

    @staticmethod
    def _mask(checks) -> np.ndarray:
        mask = _at_most(*checks[0])
        for values, bound in checks[1:]:
            mask &= _at_most(values, bound)
        return mask

    def _scan(self, checks, min_accuracy: float | None, top_k: int) -> np.ndarray:
        """Rows of a top-k query from masks of every row (sequential reads, not the order's
        random ones): the k best by accuracy, ties by row, as the walk would find them."""
        accuracy = self._accuracy()
        mask = self._mask(checks) if checks else np.ones(len(accuracy), dtype=bool)
        if min_accuracy is not None:
            mask &= accuracy >= min_accuracy
        rows = np.flatnonzero(mask)
        if top_k < len(rows):  # keep rows at least as accurate as the k-th best (and ties)
            kth = np.partition(accuracy[rows], len(rows) - top_k)[len(rows) - top_k]
            rows = rows[accuracy[rows] >= kth]
        return rows[np.lexsort((rows, -accuracy[rows]))][:top_k]  # accuracy desc, row order

    def _count_at_least(self, min_accuracy: float) -> int:
        """Number of rows with ``accuracy >= min_accuracy``: a prefix of the order (bisection)."""
        order, accuracy = self.accuracy_order, self.frame["accuracy"].to_numpy()
        lo, hi = 0, len(order)
        while lo < hi:
            mid = (lo + hi) // 2
            if float(accuracy[order[mid]]) >= min_accuracy:  # as float64, like the order
                lo = mid + 1
            else:
                hi = mid
        return lo

    @staticmethod
    def _bound(value, argument: str) -> float:
        """A budget as float64: NaN refused, ints beyond float64 as +-inf (exact comparisons)."""
        return check_bound(value, argument, "LookupTable.query")

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
        values = self._column(cost, "cost", name).astype(np.float64, copy=False)
        if not np.isfinite(values).all():
            raise ValueError(f"The cost column {cost!r} holds non-finite values; "
                             f"LookupTable.{name} needs every row costed.")
        accuracy = self._accuracy()
        mask = (pareto_mask(values, accuracy) if J is None
                else soft_pareto_mask(values, accuracy, J))
        rows = np.flatnonzero(mask)
        rows = rows[np.lexsort((-accuracy[rows], values[rows]))]
        return self._result(rows)

    # -- files -----------------------------------------------------------------------------
    def _metadata(self) -> dict:
        meta = {"format": _FORMAT, "version": _VERSION, "space": self.space_name,
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
        not stored: a loaded table is numbered ``0..n-1``. The :attr:`accuracy_order` is
        stored as one more column (``accuracy_order``; named by the metadata key ``order``), so
        a loaded table is queried without sorting again.
        """
        fmt = self._format(path, "save")
        meta, frame = self._metadata(), self.frame
        if not np.isnan(self._accuracy()).any():  # else no order: queries refuse NaN
            meta["order"] = _ORDER_COLUMN
            while meta["order"] in frame.columns:
                meta["order"] = "_" + meta["order"]
            order = self.accuracy_order
            order = order.astype(np.int32 if len(order) <= np.iinfo(np.int32).max else np.int64)
            frame = frame.assign(**{meta["order"]: order})  # no copy of the columns
        if fmt == "parquet":
            pa, pq = _pyarrow()
            table = pa.Table.from_pandas(frame, preserve_index=False)
            meta[CHECKSUM_KEY] = frame_digest(frame)
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), b"archgraph": json.dumps(meta).encode()})
            with atomic_path(path) as tmp:
                pq.write_table(table, tmp)
        else:
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False)
            body = buffer.getvalue()
            meta[CHECKSUM_KEY] = bytes_digest(body.encode("utf-8"))
            with atomic_write(path, "w") as fh:
                fh.write(_CSV_HEADER + json.dumps(meta) + "\n")
                fh.write(body)
        return Path(path)

    @classmethod
    def load(cls, path, space: SearchSpace | None = None) -> "LookupTable":
        """Read a table written by :meth:`save`; ``space`` (optional) must match its name and
        layers, and enables ``arch`` strings in results of whole-space tables.

        A stored accuracy order is checked (a permutation of the rows, by accuracy descending,
        ties by row); one that fails is dropped with a warning and rebuilt at the first query.
        Files without one (version 1) load too.
        """
        fmt = cls._format(path, "load")
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"No lookup table at {path}.")
        try:
            if fmt == "parquet":
                pa, pq = _pyarrow()
                table = pq.read_table(path)
                raw = (table.schema.metadata or {}).get(b"archgraph")
                meta = json.loads(raw) if raw else None
                frame = table.to_pandas()
                actual = frame_digest(frame)
            else:
                with open(path, encoding="utf-8", newline="") as fh:
                    first = fh.readline()
                    body = fh.read() if first.startswith(_CSV_HEADER) else ""
                meta = (json.loads(first[len(_CSV_HEADER):])
                        if first.startswith(_CSV_HEADER) else None)
                actual = bytes_digest(body.encode("utf-8"))
        except read_errors() as exc:  # JSON, thrift, Arrow, text, a damaged pandas schema
            text = str(exc).strip().splitlines()
            raise ValueError(f"Lookup table {str(path)!r} is unreadable (corrupted or not a "
                             f"{fmt} file): {type(exc).__name__}: {text[0] if text else ''}"
                             ) from exc
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ValueError(f"{path} is not an archgraph lookup table: its "
                             f"{'Parquet metadata' if fmt == 'parquet' else 'first line'} "
                             f"lacks the archgraph header written by LookupTable.save.")
        version = meta.get("version")
        if CHECKSUM_KEY in meta or not isinstance(version, int) or version >= 3:
            check_digest(path, meta.get(CHECKSUM_KEY), actual, "lookup table")
        if fmt == "csv":
            try:
                frame = pd.read_csv(io.StringIO(body), dtype={"arch": str})
            except (ValueError, pd.errors.ParserError) as exc:
                raise ValueError(f"Lookup table {str(path)!r} is unreadable: "
                                 f"{type(exc).__name__}: {exc}") from exc
        missing = [c for c in [*meta.get("layers", []), meta.get("order")]
                   if c is not None and c not in frame]
        if missing or not isinstance(meta.get("layers"), list) or "space" not in meta:
            raise ValueError(f"Lookup table {str(path)!r} lacks the columns or header entries "
                             f"its header names: {missing or ['layers', 'space']}.")
        order = frame.pop(meta["order"]).to_numpy() if "order" in meta else None
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
        accuracy = pd.to_numeric(frame["accuracy"], errors="coerce").to_numpy(np.float64) \
            if "accuracy" in frame else None
        if accuracy is not None:
            bad = np.flatnonzero(~np.isfinite(accuracy))
            if bad.size:
                raise ValueError(f"Lookup table {str(path)!r}, row {bad[0]}: accuracy is "
                                 f"{frame['accuracy'].iloc[bad[0]]!r}, not a finite number "
                                 f"({bad.size} such rows).")
        signature = meta.get("signature")
        if "arch" not in frame and isinstance(signature, dict) and "options" in signature:
            size = int(np.prod([len(o) for o in signature["options"]], dtype=object))
            if len(frame) != size:  # a whole-space table: row i is architecture i
                raise ValueError(f"Lookup table {str(path)!r} is a whole-space table of "
                                 f"{size:,} architectures of {meta['space']!r} but holds "
                                 f"{len(frame):,} rows (cut or extended).")
        if space is None and isinstance(signature, dict):
            space = _registered_space(signature, path)
        table = cls(frame, layers, space=space, space_name=meta["space"])
        if order is not None:
            problem = _order_problem(order, table._accuracy())
            if problem:
                warnings.warn(f"The accuracy order stored in {path} {problem}; it is dropped "
                              f"and rebuilt at the first query.", stacklevel=2)
            else:
                table._order = order.astype(np.intp, copy=False)
                table._order.flags.writeable = False
        return table

    def __repr__(self) -> str:
        return (f"LookupTable(space={self.space_name!r}, rows={len(self)}, "
                f"columns={list(self.frame.columns)})")


def _registered_space(signature: dict, path) -> SearchSpace | None:
    """The registered space a table's signature describes, or ``None`` (with no error) when
    it is not registered or differs: the table then loads without ``arch`` strings for
    whole-space rows, as before."""
    from archgraph.spaces.signature import space_from_signature

    try:
        return space_from_signature(signature, f"Lookup table {str(path)!r}")
    except (ValueError, TypeError):
        return None


def _order_problem(order: np.ndarray, accuracy: np.ndarray) -> str | None:
    """Why ``order`` is not the accuracy order of ``accuracy`` (``None`` if it is)."""
    n = len(accuracy)
    if order.dtype.kind not in "iu":
        return f"is not a column of integers (dtype {order.dtype})"
    if n and (order.min() < 0 or order.max() >= n):
        return f"holds row numbers outside 0..{n - 1}"
    acc = accuracy[order]
    # strictly increasing in (-accuracy, row): sorted as the order is built, hence no repeats
    ok = (acc[:-1] > acc[1:]) | ((acc[:-1] == acc[1:]) & (order[:-1] < order[1:]))
    if not ok.all():
        bad = int(np.argmin(ok))
        return (f"does not follow the accuracies (descending, ties by row) at position "
                f"{bad + 1}: row {order[bad + 1]} ({acc[bad + 1]}) after row {order[bad]} "
                f"({acc[bad]})")
    return None


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Parquet lookup tables need pyarrow: pip install 'archgraph[io]' "
                          "(or pip install pyarrow), or save as .csv.") from exc
    return pa, pq

"""An evaluator backed by a benchmark table: exact accuracies, optionally with injected noise."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from archgraph.datasets.benchmarks import BENCHMARKS
from archgraph.evaluators.registry import register_evaluator
from archgraph.spaces import SearchSpace, get_search_space
from archgraph.utils.validation import check_one_of, check_positive, check_random_state


class TableEvaluator:
    """Look architectures up in a benchmark table (a pandas DataFrame).

    Each architecture is mapped to its row by ``key(arch)`` (default ``space.to_str``) matched
    against ``table[arch_column]``; :meth:`evaluate` returns ``table[target_column]`` there,
    plus Gaussian noise of standard deviation ``noise_std`` if given, to emulate a cheap, noisy
    estimator such as a supernet.

    Noise modes:

    * ``"fixed"`` (default): one noise draw per table row, made once from ``random_state``.
      The same architecture always gets the same noisy value, as a supernet's deterministic
      (but wrong) estimate would, so evaluating it again does not average the noise away.
    * ``"fresh"``: a new draw on every evaluation (a stochastic estimator).

    Args:
        space: the search space of the architectures.
        table: one row per architecture.
        arch_column: column holding ``key(arch)`` of each row (unique).
        target_column: column of accuracies (higher is better).
        noise_std: standard deviation of the injected noise, in the target's unit.
        noise: ``"fixed"`` or ``"fresh"``.
        key: maps an architecture to its ``arch_column`` value; default ``space.to_str``.
        random_state: seed or ``numpy.random.Generator`` of the noise.

    Attributes:
        num_evaluations_: architectures evaluated so far (every call counts all its
            architectures, repeated ones included); :meth:`true_accuracy` does not count.
    """

    def __init__(self, space: SearchSpace, table: pd.DataFrame, arch_column: str,
                 target_column: str, noise_std: float = 0.0, noise: str = "fixed",
                 key: Callable | None = None, random_state=None):
        owner = "TableEvaluator"
        if not isinstance(space, SearchSpace):
            raise TypeError(f"The 'space' parameter of {owner} must be a SearchSpace. "
                            f"Got {type(space).__name__} instead.")
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"The 'table' parameter of {owner} must be a pandas DataFrame. "
                            f"Got {type(table).__name__} instead.")
        check_one_of(arch_column, "arch_column", list(table.columns), owner)
        check_one_of(target_column, "target_column", list(table.columns), owner)
        self.space = space
        self.table = table
        self.arch_column = arch_column
        self.target_column = target_column
        self.noise_std = check_positive(noise_std, "noise_std", owner, allow_zero=True)
        self.noise = check_one_of(noise, "noise", ("fixed", "fresh"), owner)
        self.key = space.to_str if key is None else key
        self.random_state = random_state
        try:
            self._values = table[target_column].to_numpy(dtype=np.float64)  # [n_rows]
        except (TypeError, ValueError) as exc:
            raise TypeError(f"The 'target_column' {target_column!r} of {owner} must hold "
                            f"numbers. Got dtype {table[target_column].dtype}.") from exc
        keys = table[arch_column]
        dup = keys[keys.duplicated()]
        if len(dup):
            raise ValueError(f"The 'arch_column' {arch_column!r} of {owner} must be unique. "
                             f"Got {dup.iloc[0]!r} more than once.")
        self._rows = dict(zip(keys, range(len(keys))))
        self._rng = check_random_state(random_state)
        self._noise = (self._rng.normal(0.0, self.noise_std, size=len(table))  # [n_rows]
                       if self.noise == "fixed" and self.noise_std > 0 else None)
        self.num_evaluations_ = 0

    @classmethod
    def from_benchmark(cls, name: str, target: str | None = None, data_dir=None,
                       noise_std: float = 0.0, noise: str = "fixed",
                       random_state=None) -> "TableEvaluator":
        """Evaluator over a shipped benchmark table (``archgraph.datasets.BENCHMARKS``).

        Args:
            name: ``"nasbench201"`` (target default ``cifar10_test_200``, %),
                ``"nasbench101"`` (``valid_acc_108``, read in percent; only its 1,000 tabulated
                cells) or ``"macro"`` (``mean_acc``, %).
            target: another column of the table (see ``archgraph.datasets.benchmarks``).
            data_dir: folder of the tables; default ``shared_data_dir()``.
        """
        bench = BENCHMARKS.get(name, owner="TableEvaluator.from_benchmark")
        space = get_search_space(name)
        key = None if bench.key == "to_str" else getattr(space, bench.key)
        target = bench.target if target is None else target
        if bench.metrics and target not in bench.metrics:
            raise ValueError(f"The 'target' option of the table evaluator must name a metric "
                             f"column of the {name} table: {', '.join(map(repr, bench.metrics))}."
                             f" Got {target!r} instead.")
        table = bench.load(data_dir)
        if bench.percent_scale != 1.0:  # fractions -> percent, like every other table
            table = table.assign(**{m: table[m] * bench.percent_scale for m in bench.metrics
                                    if m in table.columns})
        return cls(space, table, bench.key_column, target, noise_std=noise_std, noise=noise,
                   key=key, random_state=random_state)

    def sample(self, n: int, rng=None) -> list:
        """``n`` distinct architectures the table can score, drawn with ``rng``: the space's
        own :meth:`sample` when the table covers the whole space (so datasets equal those of
        any other evaluator), else a random subset of the table's rows (NAS-Bench-101: 1,000
        tabulated cells of 423k; ``n`` up to the table's size). For one seed, the sample of
        ``n`` is a prefix of the sample of any larger ``n``."""
        try:
            whole = len(self.space) == len(self.table)
        except (NotImplementedError, TypeError):
            whole = False
        if whole:
            return self.space.sample(n, rng)
        rows = np.flatnonzero(~np.isnan(self._values))  # rows with a target
        if not 1 <= n <= len(rows):
            raise ValueError(f"The 'n' parameter must be in [1, {len(rows)}] for the table "
                             f"evaluator of {self.space.name!r}: its table scores "
                             f"{len(rows)} architectures. Got {n} instead.")
        pick = rows[check_random_state(rng).permutation(len(rows))[:n]]
        column = "arch" if "arch" in self.table.columns else self.arch_column
        values = self.table[column].iloc[pick]
        return [self.space.from_str(v) if isinstance(v, str) else self.space.validate(v)
                for v in values]

    def _positions(self, archs: Sequence) -> np.ndarray:
        if isinstance(archs, (str, bytes)) or not isinstance(archs, Iterable):
            raise TypeError(f"The 'archs' parameter of TableEvaluator must be a sequence of "
                            f"architectures. Got {type(archs).__name__} instead.")
        rows = []
        for arch in archs:
            if isinstance(arch, str):  # the space's string of an architecture
                arch = self.space.from_str(arch)
            self.space.validate(arch)
            k = self.key(arch)
            if k not in self._rows:
                name = self.space.to_str(arch)
                key = "" if k == name else f" (key {k!r})"
                raise ValueError(f"Architecture {name!r}{key} is not in the table (column "
                                 f"{self.arch_column!r}, {len(self._rows)} rows).")
            rows.append(self._rows[k])
        rows = np.asarray(rows, dtype=np.int64)
        missing = np.flatnonzero(np.isnan(self._values[rows]))
        if missing.size:
            raise ValueError(f"Architecture {self.table[self.arch_column].iloc[rows[missing[0]]]!r}"
                             f" has no {self.target_column!r} value (NaN) in the table.")
        return rows

    def true_accuracy(self, archs: Sequence) -> np.ndarray:
        """Noise-free table values ``[len(archs)]`` (not counted as evaluations)."""
        return self._values[self._positions(archs)].copy()

    def evaluate(self, archs: Sequence) -> np.ndarray:
        """Table values ``[len(archs)]`` plus the injected noise; counts the evaluations."""
        rows = self._positions(archs)
        out = self._values[rows].copy()
        if self._noise is not None:
            out += self._noise[rows]
        elif self.noise == "fresh" and self.noise_std > 0:
            out += self._rng.normal(0.0, self.noise_std, size=len(rows))
        self.num_evaluations_ += len(rows)
        return out

    def __repr__(self) -> str:
        return (f"TableEvaluator(space={self.space.name!r}, target={self.target_column!r}, "
                f"rows={len(self.table)}, noise_std={self.noise_std}, noise={self.noise!r})")


@register_evaluator("table")
def table_evaluator(space, target=None, noise_std: float = 0.0, noise: str = "fixed",
                    random_state=None, data_dir=None) -> TableEvaluator:
    """The ``table`` evaluator: :meth:`TableEvaluator.from_benchmark` of ``space``'s benchmark."""
    return TableEvaluator.from_benchmark(space.name, target=target, data_dir=data_dir,
                                         noise_std=noise_std, noise=noise,
                                         random_state=random_state)

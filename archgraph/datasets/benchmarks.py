"""Loaders of the published NAS benchmark tables as pandas DataFrames.

The tables are not shipped with the package: they are read from ``data_dir``, by default the
folder found by :func:`archgraph.utils.paths.shared_data_dir` (``$ARCHGRAPH_DATA``, else
``../shared/data`` beside the project). Layout expected inside it::

    nasbench201/nb201_accuracy.csv      NAS-Bench-201 (Dong & Yang, ICLR 2020), all 15,625 cells
    nasbench201/nb201_latency_ms.csv    latency on 11 devices (HELP / HW-NAS-Bench)
    nasbench201/nb201_cost_subset.csv   FLOPs / params of ~725 cells per dataset
    nasbench101/nb101_1k.json           1,000 NAS-Bench-101 cells (Ying et al., ICML 2019)
    macro/nas_bench_macro_cifar10.csv   NAS-Bench-Macro (Su et al., 2021), all 6,561 archs

:data:`BENCHMARKS` registers each table under the name of its search space, with its loader,
default target column and key column; ``TableEvaluator.from_benchmark``, the ``table``
evaluator and ``ArchGraphDataset`` read it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from archgraph.spaces import get_search_space
from archgraph.utils.paths import shared_data_dir
from archgraph.utils.registry import Registry
from archgraph.utils.validation import check_one_of

__all__ = ["BENCHMARKS", "Benchmark", "NB201_COST_DATASETS", "load_macro", "load_nasbench101",
           "load_nasbench201"]

#: dataset names of ``nb201_cost_subset.csv`` (the ``cost_dataset`` of :func:`load_nasbench201`)
NB201_COST_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def _find(data_dir, relative: str) -> Path:
    """Path of a benchmark file; a clear ``FileNotFoundError`` saying where it looked."""
    if data_dir is None:
        data_dir = shared_data_dir()
        if data_dir is None:
            env = os.environ.get("ARCHGRAPH_DATA")
            raise FileNotFoundError(
                "The NAS benchmark tables were not found: looked in $ARCHGRAPH_DATA "
                f"({env or 'unset'}) and in ../shared/data beside the project and the working "
                "directory. Set ARCHGRAPH_DATA (or pass data_dir) to the folder holding "
                f"{relative.split('/')[0]}/.")
    path = Path(data_dir) / relative
    if not path.is_file():
        raise FileNotFoundError(f"Benchmark table {relative!r} not found: {path} does not exist. "
                                f"Pass data_dir (or set ARCHGRAPH_DATA) to the folder holding "
                                f"{relative.split('/')[0]}/.")
    return path


def load_nasbench201(data_dir=None, latency: bool = False,
                     cost_dataset: str | None = None) -> pd.DataFrame:
    """NAS-Bench-201 accuracies of all 15,625 cells, row ``i`` = official index ``i``.

    Columns: ``index``, ``arch`` (official string ``|op~0|+|op~0|op~1|+|...|``),
    ``{cifar10,cifar100,imagenet16}_test_200`` (mean test accuracy in %, 200 epochs) and
    ``*_valid_12``/``*_test_12`` (the 12-epoch low-fidelity results).

    Args:
        data_dir: folder holding ``nasbench201/``; default :func:`shared_data_dir`.
        latency: also join the measured latencies as ``latency_<device>`` columns (ms; note
            ``pixel3``/``raspi4`` hold a few near-zero failed measurements upstream).
        cost_dataset: also join ``valid_acc_200``, ``flops_m`` and ``params_m`` (millions) of
            that dataset's cost subset (one of :data:`NB201_COST_DATASETS`); ``NaN`` for the
            ~14,900 cells outside the subset.
    """
    frame = pd.read_csv(_find(data_dir, "nasbench201/nb201_accuracy.csv"))
    if latency:
        lat = pd.read_csv(_find(data_dir, "nasbench201/nb201_latency_ms.csv"))
        devices = [c for c in lat.columns if c != "index"]
        lat = lat.astype({c: float for c in devices})
        lat = lat.rename(columns={c: f"latency_{c}" for c in devices})
        frame = frame.merge(lat, on="index", how="left", validate="one_to_one")
    if cost_dataset is not None:
        check_one_of(cost_dataset, "cost_dataset", NB201_COST_DATASETS, owner="load_nasbench201")
        cost = pd.read_csv(_find(data_dir, "nasbench201/nb201_cost_subset.csv"))
        cost = cost.loc[cost["dataset"] == cost_dataset,
                        ["index", "valid_acc_200", "flops_m", "params_m"]]
        frame = frame.merge(cost, on="index", how="left", validate="one_to_one")
    return frame


def load_nasbench101(data_dir=None) -> pd.DataFrame:
    """1,000 NAS-Bench-101 cells with their official module hash and training results.

    Columns: ``arch`` (``NB101Cell`` of the ``nasbench101`` space), ``hash``,
    ``trainable_parameters``, ``valid_acc_4``, ``valid_acc_12``, ``valid_acc_36``,
    ``valid_acc_108`` (validation accuracy as a fraction after that many epochs) and
    ``training_time_108`` (seconds).
    """
    path = _find(data_dir, "nasbench101/nb101_1k.json")
    with open(path, encoding="utf-8") as fh:
        records = json.load(fh)
    space = get_search_space("nasbench101")
    frame = pd.DataFrame.from_records(records)
    frame.insert(0, "arch", [space.from_spec(r["adjacency"], r["ops"]) for r in records])
    return frame.drop(columns=["ops", "adjacency"])


def load_macro(data_dir=None) -> pd.DataFrame:
    """NAS-Bench-Macro: all 6,561 architectures of 8 layers x 3 choices on CIFAR-10.

    Columns: ``arch`` (8-digit string, layer 1 first, kept as a string: ``"00000000"``),
    ``test_acc_seed{0,1,2}``, ``mean_acc``, ``std`` (%), ``params`` and ``flops`` (exact counts;
    FLOPs are multiply-accumulates).
    """
    return pd.read_csv(_find(data_dir, "macro/nas_bench_macro_cifar10.csv"),
                       dtype={"arch": str})


@dataclass(frozen=True)
class Benchmark:
    """A shipped benchmark table of the registered search space ``name``.

    Attributes:
        name: the benchmark and its search space (``get_search_space(name)``).
        loader: ``loader(data_dir=None) -> DataFrame``, one row per architecture.
        target: default target column (accuracy, higher is better).
        key_column: column identifying a row's architecture.
        key: method of the space mapping an architecture to its ``key_column`` value.
        metrics: the columns that may be targets (accuracies); others (row index, costs,
            training times) may not.
        percent_scale: factor bringing the metrics to percent (100 for tables of fractions,
            NAS-Bench-101's).
    """

    name: str
    loader: Callable[..., pd.DataFrame]
    target: str
    key_column: str = "arch"
    key: str = "to_str"
    metrics: tuple[str, ...] = ()
    percent_scale: float = 1.0

    def load(self, data_dir=None) -> pd.DataFrame:
        """The table, read from ``data_dir`` (default :func:`shared_data_dir`)."""
        return self.loader(data_dir)


#: the shipped benchmark tables by name
BENCHMARKS = Registry("benchmark")
_NB201_METRICS = tuple(f"{d}_{s}_{e}" for d in ("cifar10", "cifar100", "imagenet16")
                       for s, e in (("test", 200), ("valid", 12), ("test", 12)))
for _bench in (Benchmark("nasbench201", load_nasbench201, "cifar10_test_200",
                         metrics=_NB201_METRICS),
               # NB101 cells are matched by the official (isomorphism-invariant) module hash;
               # its accuracies are fractions, read in percent like every other table
               Benchmark("nasbench101", load_nasbench101, "valid_acc_108", "hash", "hash",
                         metrics=tuple(f"valid_acc_{e}" for e in (4, 12, 36, 108)),
                         percent_scale=100.0),
               Benchmark("macro", load_macro, "mean_acc",
                         metrics=("mean_acc", "test_acc_seed0", "test_acc_seed1",
                                  "test_acc_seed2"))):
    BENCHMARKS.register(_bench.name)(_bench)

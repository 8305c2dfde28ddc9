"""``ArchGraphDataset``: a predictor-dataset table (or a shipped benchmark) as PyG graphs."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from torch_geometric.data import Data, InMemoryDataset

from archgraph.datasets.benchmarks import BENCHMARKS
from archgraph.datasets.predictor_dataset import read_table
from archgraph.spaces.search_space import SearchSpace
from archgraph.utils.io import atomic_path
from archgraph.utils.validation import check_one_of


class ArchGraphDataset(InMemoryDataset):
    r"""Architecture graphs of a table's rows, one ``Data`` per architecture, target in ``y``.

    Reads a table written by :func:`~archgraph.datasets.predictor_dataset.build_predictor_dataset`
    (Parquet or CSV: column ``arch`` with the space's strings, a target column) or a shipped
    benchmark table by name (``"nasbench201"``, ``"nasbench101"``, ``"macro"``; read from
    :func:`~archgraph.utils.paths.shared_data_dir`), and turns each row into the graph
    ``space.to_graph(arch, y)`` (schema of :mod:`archgraph.spaces.arch_graph`). Processed graphs
    are cached under ``root/processed`` (the cache file name carries a hash of the table, so an
    updated table is processed again); a table file is first copied to ``root/raw``.

    Args:
        root: folder of the raw copy and the processed cache.
        space: the search space of the rows.
        table: path of a ``.parquet``/``.csv`` table, or a benchmark name.
        target: column of the targets (default ``accuracy``, or the benchmark's default:
            ``cifar10_test_200``, ``valid_acc_108``, ``mean_acc``).
        arch_column: column of the architectures (strings of ``space.from_str``, or
            architecture objects for the NAS-Bench-101 loader).
        transform, pre_transform, force_reload: as in every PyG dataset.

    Example::

        ds = ArchGraphDataset("runs/macro", get_search_space("macro"), "table.parquet")
        loader = torch_geometric.loader.DataLoader(ds, batch_size=32, shuffle=True)
    """

    def __init__(self, root, space: SearchSpace, table, target: str | None = None,
                 arch_column: str = "arch", transform: Callable | None = None,
                 pre_transform: Callable | None = None, force_reload: bool = False):
        owner = "ArchGraphDataset"
        if not isinstance(space, SearchSpace):
            raise TypeError(f"The 'space' parameter of {owner} must be a SearchSpace. "
                            f"Got {type(space).__name__} instead.")
        self.space = space
        is_benchmark = isinstance(table, str) and table in BENCHMARKS
        self.benchmark = BENCHMARKS.get(table) if is_benchmark else None
        if self.benchmark is None:
            path = Path(table)
            check_one_of(path.suffix, "table suffix", (".parquet", ".csv"), owner)
            if not path.is_file():
                raise FileNotFoundError(f"The 'table' parameter of {owner} names no file and no "
                                        f"benchmark ({', '.join(BENCHMARKS.list())}): "
                                        f"{str(path)!r}.")
            self.table_path = path.resolve()
            digest = hashlib.sha1(path.read_bytes()).hexdigest()[:10]
        else:
            self.table_path = None
            digest = "benchmark"
        self.target = target or (self.benchmark.target if self.benchmark else "accuracy")
        self.arch_column = arch_column
        self._cache = f"{space.name}_{Path(str(table)).stem}_{self.target}_{digest}.pt"
        super().__init__(str(root), transform, pre_transform, force_reload=force_reload)
        try:
            self.load(self.processed_paths[0])
        except ValueError:  # a cache that is not plain tensors is rebuilt, never unpickled
            self.process()
            self.load(self.processed_paths[0])

    @property
    def raw_file_names(self) -> list[str]:
        return [] if self.table_path is None else [self.table_path.name]

    @property
    def processed_file_names(self) -> list[str]:
        return [self._cache]

    def download(self) -> None:
        """Copy the table into ``raw_dir`` (nothing is fetched from the network; benchmark tables
        are read in place)."""
        if self.table_path is not None:
            shutil.copy(self.table_path, Path(self.raw_dir) / self.table_path.name)

    def _read(self) -> pd.DataFrame:
        if self.benchmark is not None:
            return self.benchmark.load()
        return read_table(Path(self.raw_dir) / self.table_path.name)

    def process(self) -> None:
        frame = self._read()
        owner = "ArchGraphDataset"
        check_one_of(self.target, "target", list(frame.columns), owner)
        check_one_of(self.arch_column, "arch_column", list(frame.columns), owner)
        archs = [self.space.from_str(a) if isinstance(a, str) else self.space.validate(a)
                 for a in frame[self.arch_column]]
        graphs = self.space.to_graphs(archs, frame[self.target].to_numpy(dtype=float))
        if self.pre_transform is not None:
            graphs = [self.pre_transform(g) for g in graphs]
        self.save(graphs, self.processed_paths[0])

    @classmethod
    def save(cls, data_list, path) -> None:
        """Write the collated graphs as plain tensors and lists (read back with
        ``torch.load(weights_only=True)``; no class reference is stored), atomically."""
        data, slices = cls.collate(data_list)
        with atomic_path(path) as tmp:
            torch.save((data.to_dict(), slices), tmp)

    def load(self, path, data_cls=Data) -> None:
        """Read a cache written by :meth:`save` with ``weights_only=True`` only (never a
        fallback that unpickles code); ``ValueError`` naming the file if it is not such a
        cache."""
        try:
            out = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"Processed cache {str(path)!r} is corrupted or not a cache of "
                             f"ArchGraphDataset: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}") from exc
        if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], dict)
                and isinstance(out[1], dict)):
            raise ValueError(f"Processed cache {str(path)!r} is not a cache of ArchGraphDataset: "
                             f"expected a (dict, dict) tuple of tensors.")
        data, self.slices = out
        self.data = data_cls.from_dict(data)

    def __repr__(self) -> str:
        return f"ArchGraphDataset({len(self)}, space={self.space.name!r}, target={self.target!r})"

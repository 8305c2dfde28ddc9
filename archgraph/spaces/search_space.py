"""``SearchSpace``: the contract every search space honours (see DESIGN.md)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterator, Sequence

import numpy as np
from torch_geometric.data import Data


class SearchSpace(ABC):
    """What every search space provides (see DESIGN.md)."""

    #: registered name of the space; architectures carry it
    name: str
    #: node-op vocabulary of :meth:`to_graph` (one-hot columns of ``x``)
    op_names: tuple[str, ...]

    @abstractmethod
    def from_str(self, s: str) -> Any:
        """Parse the space's string form of an architecture."""

    @abstractmethod
    def to_str(self, arch) -> str:
        """The space's string form of ``arch``."""

    @abstractmethod
    def validate(self, arch) -> Any:
        """Return ``arch`` if it belongs to the space, else raise ``ValueError``/``TypeError``."""

    @abstractmethod
    def sample(self, n: int, rng=None) -> list:
        """``n`` architectures drawn uniformly at random with ``rng`` (seed or Generator)."""

    @abstractmethod
    def to_graph(self, arch, y: float | None = None) -> Data:
        """The PyG graph of ``arch`` (schema in ``archgraph.spaces.arch_graph``)."""

    @abstractmethod
    def features(self, archs: Sequence) -> np.ndarray:
        """Fixed-length float encoding ``[n, d]`` of ``archs`` (for classical baselines)."""

    def enumerate(self) -> Iterator:
        raise NotImplementedError(f"The {self.name!r} space cannot be enumerated.")

    def __len__(self) -> int:
        raise NotImplementedError(f"The size of the {self.name!r} space is not known.")

    def index(self, arch) -> int:
        raise NotImplementedError(f"The {self.name!r} space has no enumeration index.")

    def __contains__(self, arch) -> bool:
        try:
            self.validate(arch)
        except (ValueError, TypeError):
            return False
        return True

    def to_graphs(self, archs: Sequence, y: Sequence[float] | None = None) -> list[Data]:
        """Graphs of many architectures (ready for ``torch_geometric.loader.DataLoader``)."""
        if y is None:
            return [self.to_graph(a) for a in archs]
        return [self.to_graph(a, float(t)) for a, t in zip(archs, y)]

    @property
    def num_ops(self) -> int:
        return len(self.op_names)

    def flops(self, arch) -> float:
        raise NotImplementedError(f"The {self.name!r} space has no FLOPs model.")

    def params(self, arch) -> float:
        raise NotImplementedError(f"The {self.name!r} space has no parameter-count model.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

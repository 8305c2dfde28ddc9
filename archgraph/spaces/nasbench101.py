"""The NAS-Bench-101 cell space (Ying et al., ICML 2019, https://arxiv.org/abs/1902.09635)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import permutations
from math import comb
from typing import Sequence

import numpy as np
from torch_geometric.data import Data

from archgraph.spaces.arch_graph import make_arch_graph
from archgraph.spaces.registry import register_search_space
from archgraph.spaces.search_space import SearchSpace
from archgraph.utils.validation import check_int, check_random_state

#: node ops of a NAS-Bench-101 cell
NB101_OPS = ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output")
#: ops of the inner nodes, in the order of the official hash labels 0, 1, 2
NB101_INNER_OPS = NB101_OPS[1:-1]
MAX_NODES = 7
MAX_EDGES = 9
#: number of distinct cells (by module hash) in the benchmark, as published
NUM_CELLS = 423_624
#: short op codes of :meth:`NASBench101Space.to_str`
_CODES = {"input": "in", "conv3x3-bn-relu": "c3", "conv1x1-bn-relu": "c1",
          "maxpool3x3": "mp", "output": "out"}
_OPS_OF_CODE = {c: op for op, c in _CODES.items()}


def _md5(s: str) -> str:
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def module_hash(adjacency: np.ndarray, ops: Sequence[str]) -> str:
    """The official NAS-Bench-101 module hash of a (pruned) cell: isomorphism-invariant.

    Each node starts from ``md5(str((out_degree, in_degree, label)))`` with label -1 for the
    input, -2 for the output and the index in :data:`NB101_INNER_OPS` otherwise; then, as many
    times as there are nodes, every node's hash becomes ``md5(sorted in-neighbour hashes joined
    + '|' + sorted out-neighbour hashes joined + '|' + own hash)``; the cell's hash is the md5 of
    ``str`` of the sorted list of node hashes.
    """
    a = np.asarray(adjacency, dtype=np.int64)  # [n, n]
    n = len(a)
    out_deg, in_deg = a.sum(1).tolist(), a.sum(0).tolist()
    if len(ops) != n or ops[0] != "input" or ops[-1] != "output" or \
            not set(ops[1:-1]) <= set(NB101_INNER_OPS):
        raise ValueError(f"A NAS-Bench-101 cell needs {n} ops ('input', inner ops from "
                         f"{', '.join(NB101_INNER_OPS)}, 'output'). Got {list(ops)}.")
    labels = [-1] + [NB101_INNER_OPS.index(op) for op in ops[1:-1]] + [-2]
    hashes = [_md5(str((o, i, l))) for o, i, l in zip(out_deg, in_deg, labels)]
    preds = [np.flatnonzero(a[:, v]).tolist() for v in range(n)]
    succs = [np.flatnonzero(a[v]).tolist() for v in range(n)]
    for _ in range(n):
        hashes = [_md5("".join(sorted(hashes[w] for w in preds[v])) + "|"
                       + "".join(sorted(hashes[w] for w in succs[v])) + "|" + hashes[v])
                  for v in range(n)]
    return _md5(str(sorted(hashes)))


def _proposals(rng: np.random.Generator, batch: int) -> list[tuple[np.ndarray, list[str]]]:
    """``batch`` labelled specs drawn uniformly, keeping (in draw order) those whose every node
    is on an input->output path."""
    sizes = [(m, k) for m in range(2, MAX_NODES + 1)
             for k in range(min(MAX_EDGES, m * (m - 1) // 2) + 1)]
    weights = np.array([comb(m * (m - 1) // 2, k) * 3.0 ** (m - 2) for m, k in sizes])
    draw = rng.choice(len(sizes), size=batch, p=weights / weights.sum())  # [batch]
    ms = np.array([sizes[d][0] for d in draw])
    ks = np.array([sizes[d][1] for d in draw])
    kept = []
    for m in range(2, MAX_NODES + 1):
        pos = np.flatnonzero(ms == m)
        iu = np.triu_indices(m, 1)
        ranks = rng.random((len(pos), len(iu[0]))).argsort(1).argsort(1)
        a = np.zeros((len(pos), m, m), dtype=np.int64)                    # [b, m, m]
        a[:, iu[0], iu[1]] = ranks < ks[pos, None]                       # k random edges
        inner = rng.integers(0, len(NB101_INNER_OPS), size=(len(pos), m - 2))
        fwd = np.zeros((len(pos), m), dtype=bool)                         # reached from input
        fwd[:, 0] = True
        for j in range(1, m):
            fwd[:, j] = np.any(a[:, :j, j].astype(bool) & fwd[:, :j], axis=1)
        bwd = np.zeros((len(pos), m), dtype=bool)                         # reaches the output
        bwd[:, -1] = True
        for i in range(m - 2, -1, -1):
            bwd[:, i] = np.any(a[:, i, i + 1:].astype(bool) & bwd[:, i + 1:], axis=1)
        for r in np.flatnonzero((fwd & bwd).all(1)):
            ops = ["input"] + [NB101_INNER_OPS[o] for o in inner[r]] + ["output"]
            kept.append((pos[r], a[r], ops))
    kept.sort(key=lambda t: t[0])
    return [(a, ops) for _, a, ops in kept]


def _num_labellings(a: np.ndarray, ops: Sequence[str]) -> int:
    """Number of distinct (upper-triangular adjacency, ops) specs of a cell: its node orders
    with the input first, the output last and every edge pointing forward."""
    m = len(ops)
    orders = np.array([[0, *p, m - 1] for p in permutations(range(1, m - 1))])  # [P, m]
    b = a[orders[:, :, None], orders[:, None, :]]                                # [P, m, m]
    forward = ~np.any(np.tril(np.ones((m, m), dtype=bool)) & (b > 0), axis=(1, 2))
    labels = np.array([NB101_OPS.index(op) for op in ops])[orders[forward]]     # [F, m]
    specs = np.concatenate([b[forward].reshape(-1, m * m), labels], axis=1)
    return len(np.unique(specs, axis=0))


@dataclass(frozen=True, eq=False)
class NB101Cell:
    """A NAS-Bench-101 cell: pruned upper-triangular ``adjacency`` and node ``ops``.

    Immutable; equality and ``hash()`` follow the official module hash (:attr:`module_hash`,
    computed once here), so isomorphic cells are equal. Build cells with
    :meth:`NASBench101Space.from_spec`, which prunes and validates.
    """

    adjacency: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]
    module_hash: str = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "adjacency", tuple(tuple(int(b) for b in row)
                                                    for row in self.adjacency))
        object.__setattr__(self, "ops", tuple(self.ops))
        object.__setattr__(self, "module_hash", module_hash(np.array(self.adjacency), self.ops))

    @property
    def num_nodes(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return int(sum(map(sum, self.adjacency)))

    def __eq__(self, other) -> bool:
        if not isinstance(other, NB101Cell):
            return NotImplemented
        return self.module_hash == other.module_hash

    def __hash__(self) -> int:
        return hash(self.module_hash)


@register_search_space("nasbench101")
class NASBench101Space(SearchSpace):
    """NAS-Bench-101: DAG cells of at most 7 nodes and 9 edges, inner nodes one of
    ``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3``; 423,624 distinct cells.

    Cells are :class:`NB101Cell` objects deduplicated by the official module hash. Nodes not on
    an input->output path are pruned on construction (as the benchmark does). The space is not
    enumerated and has no index; it has no cost model (the benchmark's parameter counts belong to
    its tables).

    String form (:meth:`to_str`): op codes of the nodes joined by ``,`` (``in``, ``c3`` =
    conv3x3-bn-relu, ``c1`` = conv1x1-bn-relu, ``mp`` = maxpool3x3, ``out``), a ``|``, then the
    strictly upper-triangular adjacency bits row by row (``(0,1), (0,2), ..., (n-2,n-1)``), e.g.
    ``in,c3,out|011`` is input -> conv3x3 -> output plus input -> output. The string keeps the
    node order of the cell, so isomorphic cells (equal cells) may have different strings.
    """

    name = "nasbench101"
    op_names = NB101_OPS

    # -- construction and validation ------------------------------------------------------
    def from_spec(self, adjacency, ops: Sequence[str]) -> NB101Cell:
        """Prune and validate a cell given as an adjacency matrix ``[n, n]`` and ``n`` ops."""
        owner = "NASBench101Space.from_spec"
        if isinstance(ops, str) or not isinstance(ops, Sequence) or \
                not all(isinstance(op, str) for op in ops):
            raise TypeError(f"The 'ops' parameter of {owner} must be a sequence of str. "
                            f"Got {ops!r} instead.")
        try:
            a = np.asarray(adjacency, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"The 'adjacency' parameter of {owner} must be a square 0/1 matrix. "
                            f"Got {type(adjacency).__name__} instead.") from exc
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] != len(ops):
            raise ValueError(f"The 'adjacency' parameter of {owner} must be a square matrix with "
                             f"one row per op ({len(ops)}). Got shape {a.shape} instead.")
        if not np.all((a == 0) | (a == 1)):
            raise ValueError(f"The 'adjacency' parameter of {owner} must hold only 0 and 1.")
        a = a.astype(np.int64)
        if np.any(np.tril(a)):
            raise ValueError(f"The 'adjacency' parameter of {owner} must be strictly upper "
                             f"triangular (edges i -> j with i < j, so the cell is acyclic). "
                             f"Got an edge {tuple(np.argwhere(np.tril(a))[0].tolist())}.")
        if len(ops) < 2 or ops[0] != "input" or ops[-1] != "output":
            raise ValueError(f"The 'ops' parameter of {owner} must start with 'input' and end "
                             f"with 'output'. Got {list(ops)}.")
        for op in ops[1:-1]:
            if op not in NB101_INNER_OPS:
                raise ValueError(f"Unknown NAS-Bench-101 op {op!r} for an inner node; valid ops "
                                 f"are {', '.join(NB101_INNER_OPS)}.")
        a, ops = self._prune(a, list(ops))
        if len(ops) > MAX_NODES:
            raise ValueError(f"A NAS-Bench-101 cell has at most {MAX_NODES} nodes after pruning. "
                             f"Got {len(ops)}.")
        if a.sum() > MAX_EDGES:
            raise ValueError(f"A NAS-Bench-101 cell has at most {MAX_EDGES} edges after pruning. "
                             f"Got {int(a.sum())}.")
        return NB101Cell(a, ops)

    @staticmethod
    def _prune(a: np.ndarray, ops: list[str]) -> tuple[np.ndarray, list[str]]:
        """Drop nodes not on an input->output path; raise if the output is unreachable."""
        n = len(ops)
        fwd = np.zeros(n, dtype=bool)
        fwd[0] = True
        for j in range(1, n):  # topological order: predecessors come first
            fwd[j] = bool(np.any(a[:j, j] & fwd[:j]))
        bwd = np.zeros(n, dtype=bool)
        bwd[-1] = True
        for i in range(n - 2, -1, -1):
            bwd[i] = bool(np.any(a[i, i + 1:] & bwd[i + 1:]))
        if not fwd[-1]:
            raise ValueError(f"The input of a NAS-Bench-101 cell must be connected to its "
                             f"output. No path from node 0 to node {n - 1}.")
        keep = np.flatnonzero(fwd & bwd)
        return a[np.ix_(keep, keep)], [ops[k] for k in keep]

    def validate(self, arch) -> NB101Cell:
        if not isinstance(arch, NB101Cell):
            raise TypeError(f"Expected an architecture of the 'nasbench101' space (NB101Cell). "
                            f"Got {type(arch).__name__} instead.")
        pruned = self.from_spec(arch.adjacency, arch.ops)
        if pruned.num_nodes != arch.num_nodes:
            raise ValueError(f"NB101Cell has {arch.num_nodes - pruned.num_nodes} node(s) not on "
                             f"an input->output path; build it with from_spec to prune them.")
        return arch

    def hash(self, arch) -> str:
        """The official NAS-Bench-101 module hash of ``arch`` (hex md5)."""
        return self.validate(arch).module_hash

    def __len__(self) -> int:
        return NUM_CELLS  # distinct cells by module hash, counted by the benchmark's authors

    # -- strings ----------------------------------------------------------------------------
    def to_str(self, arch) -> str:
        arch = self.validate(arch)
        n = arch.num_nodes
        bits = "".join(str(arch.adjacency[i][j]) for i in range(n) for j in range(i + 1, n))
        return ",".join(_CODES[op] for op in arch.ops) + "|" + bits

    def from_str(self, s: str) -> NB101Cell:
        """Parse :meth:`to_str`'s form, e.g. ``in,c3,mp,out|110101``; a string of another form
        of a cell (unpruned, other node order) is refused with its canonical string."""
        if not isinstance(s, str):
            raise TypeError(f"The 's' parameter of NASBench101Space.from_str must be a str. "
                            f"Got {type(s).__name__} instead.")
        parts = s.split("|")
        if len(parts) != 2:
            raise ValueError(f"Malformed NAS-Bench-101 string {s!r}: expected "
                             f"'<op codes joined by ,>|<upper-triangular adjacency bits>', "
                             f"e.g. 'in,c3,out|011'.")
        codes, bits = parts
        ops = []
        for c in codes.split(","):
            if c not in _OPS_OF_CODE:
                raise ValueError(f"Unknown NAS-Bench-101 op code {c!r} in {s!r}; valid codes "
                                 f"are {', '.join(f'{k} ({v})' for k, v in _OPS_OF_CODE.items())}.")
            ops.append(_OPS_OF_CODE[c])
        n = len(ops)
        if len(bits) != n * (n - 1) // 2 or set(bits) - {"0", "1"}:
            raise ValueError(f"The adjacency part of {s!r} must be {n * (n - 1) // 2} bits "
                             f"(0/1) for {n} nodes. Got {bits!r}.")
        a = np.zeros((n, n), dtype=np.int64)
        a[np.triu_indices(n, 1)] = [int(b) for b in bits]
        cell = self.from_spec(a, ops)
        canonical = self.to_str(cell)
        if canonical != s:  # one string per cell: table keys and duplicate checks rely on it
            raise ValueError(f"The NAS-Bench-101 string {s!r} is not in canonical form (nodes "
                             f"off every input->output path pruned, nodes in canonical order): "
                             f"the cell's string is {canonical!r}. Use from_spec for other "
                             f"forms of a cell.")
        return cell

    # -- sampling ---------------------------------------------------------------------------
    def sample(self, n: int, rng=None) -> list[NB101Cell]:
        """``n`` distinct cells drawn uniformly from the distinct valid cells (by module hash).

        Rejection sampling: draw a node count ``m`` and an edge count ``k <= 9`` in proportion
        to the number of labelled specs (upper-triangular ``m x m`` matrix with ``k`` edges,
        inner ops) they hold, then a uniform such spec, and keep it only if every node is on an
        input->output path (valid and already pruned): this is uniform over labelled specs. A
        cell has ``L`` labelled specs (its node orders with every edge pointing forward that give
        distinct specs), so it is then kept with probability ``1 / L``, which makes every
        distinct cell equally likely. (Drawing raw 7-node matrices and pruning, as
        NAS-Bench-101's random search does, would favour small cells.)
        """
        n = check_int(n, "n", "NASBench101Space.sample", low=0, high=NUM_CELLS)
        rng = check_random_state(rng)
        out: dict[str, NB101Cell] = {}
        while len(out) < n:
            for a, ops in _proposals(rng, batch=4096):
                if rng.random() * _num_labellings(a, ops) >= 1:
                    continue
                cell = NB101Cell(a, ops)
                out.setdefault(cell.module_hash, cell)
                if len(out) == n:
                    break
        return list(out.values())

    # -- graphs and encodings ------------------------------------------------------------------
    def to_graph(self, arch, y: float | None = None) -> Data:
        """Nodes as in the pruned cell (op one-hot over :data:`NB101_OPS`), edges along the
        adjacency."""
        arch = self.validate(arch)
        a = np.asarray(arch.adjacency)
        edges = [tuple(e) for e in np.argwhere(a).tolist()]  # [(i, j)] with i < j
        return make_arch_graph([NB101_OPS.index(op) for op in arch.ops], edges, self.num_ops, y)

    def features(self, archs: Sequence) -> np.ndarray:
        """Fixed-length encoding ``[n, 21 + 15]``: the cell padded to 7 nodes (padding nodes,
        without edges, inserted just before the output), its 21 upper-triangular adjacency bits
        row by row, then a one-hot over :data:`NB101_INNER_OPS` for each of the 5 inner slots
        (all zero for padding)."""
        if isinstance(archs, NB101Cell):
            raise TypeError("The 'archs' argument must be a sequence of architectures, "
                            "not a single NB101Cell.")
        iu = np.triu_indices(MAX_NODES, 1)
        inner = MAX_NODES - 2
        out = np.zeros((len(archs), len(iu[0]) + inner * len(NB101_INNER_OPS)), dtype=np.float32)
        for r, arch in enumerate(archs):
            arch = self.validate(arch)
            m = arch.num_nodes
            slot = list(range(m - 1)) + [MAX_NODES - 1]  # output always in the last slot
            a = np.zeros((MAX_NODES, MAX_NODES), dtype=np.float32)
            a[np.ix_(slot, slot)] = arch.adjacency
            out[r, :len(iu[0])] = a[iu]  # [21]
            for k, op in enumerate(arch.ops[1:-1]):
                out[r, len(iu[0]) + k * len(NB101_INNER_OPS) + NB101_INNER_OPS.index(op)] = 1
        return out

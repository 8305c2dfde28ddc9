"""Product spaces: ``ProductSpace``, where layer ``l`` picks one of ``O_l`` options
independently (NAS-Bench-201 edges, chain spaces), and its ``Subspace``s.

Its architectures are :class:`~archgraph.spaces.choice_arch.ChoiceArch` and its nodes are
numbered in C order (last layer fastest), so ``index(arch) == np.ravel_multi_index(choices,
num_options)`` and features reshaped to ``[O_1, ..., O_L, F]`` line up with the numbering.
``Subspace`` restricts a product space to the architectures equal to a base except on some
layers; a layer of a subspace (a "factor") may also be a *super-cell* whose options are whole
tuples of choices on several parent layers. The two share this file because each builds the
other (``ProductSpace.subspace`` returns a ``Subspace``, which is a ``ProductSpace``).
"""
from __future__ import annotations

import itertools
from typing import Iterator, Mapping, Sequence

import numpy as np
from torch_geometric.data import Data

from archgraph.encoding import onehot_encode
from archgraph.spaces.arch_graph import make_arch_graph
from archgraph.spaces.choice_arch import ChoiceArch
from archgraph.spaces.search_space import SearchSpace
from archgraph.utils.memory import check_memory
from archgraph.utils.validation import check_finite, check_int, check_one_of, check_random_state

_SUBSPACE_HINT = ("Work on a subspace (space.subspace(layers, base)) or pass a choice matrix "
                  "of the architectures you need.")


class ProductSpace(SearchSpace):
    """Layer ``l`` picks one of ``len(options[l])`` named options, independently.

    ``ProductSpace(name, options)`` is usable as it is (e.g. for a hyperparameter grid or a toy
    space). String form: one digit per layer, layer 1 first (``"01201120"``), when every layer
    has at most 10 options; else the choices joined by ``'-'`` (``"0-11-3"``). Graph form:
    ``input -> layer 1 -> ... -> layer L -> output``, node ops one-hot over
    ``op_names = ("input", <distinct option names in order of first use>, "output")``.

    Costs are additive: ``cost(arch) = base + sum_l table_l[choice_l]``; they are given as
    ``costs={"flops": (base, tables), ...}`` (subclasses register theirs with :meth:`_set_cost`)
    and every architecture of a (sub)space is costed at once with :meth:`costs` (no Python loop
    over architectures).

    Args:
        name: the space's name (architectures carry it).
        options: per layer, the names of its options.
        layer_names: per layer, its name (default ``layer0``, ``layer1``, ...).
        costs: additive cost models ``{metric: (base, per-layer tables)}``, a table holding one
            number per option of its layer.
    """

    def __init__(self, name: str, options: Sequence[Sequence[str]],
                 layer_names: Sequence[str] | None = None,
                 costs: Mapping[str, tuple[float, Sequence[Sequence[float]]]] | None = None):
        self.name = name
        self.options = tuple(tuple(o) for o in options)
        if not self.options or any(len(o) < 1 for o in self.options):
            raise ValueError(f"Space {name!r}: every layer needs at least one option. Got "
                             f"option counts {[len(o) for o in self.options]}.")
        self.layer_names = tuple(layer_names) if layer_names is not None else tuple(
            f"layer{l}" for l in range(len(self.options)))
        self._cost_tables: dict[str, tuple[float, list[np.ndarray]]] = {}
        distinct = list(dict.fromkeys(o for opts in self.options for o in opts))
        self.op_names = ("input", *distinct, "output")
        self._node_ops = [[self.op_names.index(o) for o in opts] for opts in self.options]
        for metric, (base, tables) in (costs or {}).items():
            self._set_cost(metric, base, tables)

    # -- structure ---------------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        return len(self.options)

    @property
    def num_options(self) -> tuple[int, ...]:
        return tuple(len(o) for o in self.options)

    @property
    def root(self) -> "ProductSpace":
        """The space whose architectures this space holds (itself unless a subspace)."""
        return self

    def signature(self) -> dict:
        """What identifies this (sub)space's architecture numbering, JSON-ready: saved with
        lookup tables so a table is never read against another space."""
        return {"space": self.name, "layers": list(self.layer_names),
                "options": [list(o) for o in self.options]}

    @property
    def size(self) -> int:
        """Number of architectures, exact (``len()`` only reaches ``sys.maxsize``)."""
        return int(np.prod(self.num_options, dtype=object))

    def __len__(self) -> int:
        return self.size

    # -- strings and graphs (chain form; NAS-Bench-201 and subspaces override) ----------
    def _digits(self) -> bool:
        return max(self.num_options) <= 10

    def to_str(self, arch) -> str:
        arch = self.validate(arch)
        sep = "" if self._digits() else "-"
        return sep.join(str(c) for c in arch.choices)

    def from_str(self, s: str) -> ChoiceArch:
        if not isinstance(s, str):
            raise TypeError(f"An architecture string of the {self.name!r} space must be a str. "
                            f"Got {type(s).__name__} instead.")
        ranges = ", ".join(f"0..{o - 1}" for o in self.num_options)
        if self._digits():
            form, parts = f"{self.num_layers} digits (layer 1 first)", list(s)
        else:
            form, parts = f"{self.num_layers} integers joined by '-'", s.split("-")
        canonical = all(p.isdigit() and p.isascii() and p == str(int(p)) for p in parts)
        if len(parts) != self.num_layers or not canonical:  # no '01': one string per arch
            raise ValueError(f"An architecture string of the {self.name!r} space is {form}, "
                             f"with per-layer ranges [{ranges}]. Got {s!r}.")
        return self.validate(ChoiceArch(self.name, tuple(int(p) for p in parts)))

    def to_graph(self, arch, y: float | None = None) -> Data:
        arch = self.validate(arch)
        ops = [0, *(n[c] for n, c in zip(self._node_ops, arch.choices)), self.num_ops - 1]
        edges = [(i, i + 1) for i in range(self.num_layers + 1)]
        return make_arch_graph(ops, edges, self.num_ops, y)

    # -- architectures <-> choice matrices ----------------------------------------------
    def validate(self, arch) -> ChoiceArch:
        if not isinstance(arch, ChoiceArch):
            raise TypeError(f"Expected an architecture of the {self.name!r} space (ChoiceArch). "
                            f"Got {type(arch).__name__} instead.")
        if arch.space != self.name:
            raise ValueError(f"Expected an architecture of the {self.name!r} space. "
                             f"Got one of the {arch.space!r} space.")
        if len(arch.choices) != self.num_layers:
            raise ValueError(f"An architecture of the {self.name!r} space has {self.num_layers} "
                             f"choices. Got {len(arch.choices)}.")
        for l, (c, o) in enumerate(zip(arch.choices, self.num_options)):
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c < o:
                raise ValueError(f"Choice {c!r} at layer {l} ({self.layer_names[l]}) of the "
                                 f"{self.name!r} space is out of range: expected 0..{o - 1} "
                                 f"({', '.join(self.options[l])}).")
        return arch

    def encode(self, archs: Sequence[ChoiceArch]) -> np.ndarray:
        """Validated choice matrix ``[n, num_layers]`` (int64) of ``archs`` (architectures or
        their strings)."""
        archs = self._as_archs(archs)
        for a in archs:
            self.validate(a)
        if not archs:
            return np.zeros((0, self.num_layers), dtype=np.int64)
        return np.array([a.choices for a in archs], dtype=np.int64)

    def _as_archs(self, archs) -> list:
        """``archs`` as a list, strings parsed with :meth:`from_str`."""
        if isinstance(archs, (ChoiceArch, str)):
            raise TypeError(f"The 'archs' argument must be a sequence of architectures, not a "
                            f"single {type(archs).__name__}.")
        archs = list(archs)
        if any(isinstance(a, str) for a in archs):
            archs = [self.from_str(a) if isinstance(a, str) else a for a in archs]
        return archs

    def decode(self, choices) -> list[ChoiceArch]:
        """Architectures of a choice matrix ``[n, num_layers]``."""
        choices = self.check_choices(choices)
        return [ChoiceArch(self.name, tuple(int(c) for c in row)) for row in choices]

    def check_choices(self, choices) -> np.ndarray:
        """``choices`` as an int64 choice matrix ``[n, num_layers]``; raise ``ValueError`` on a
        wrong shape or an out-of-range choice."""
        choices = np.asarray(choices)
        if choices.ndim != 2 or choices.shape[1] != self.num_layers:
            raise ValueError(f"The 'choices' argument must have shape [n, {self.num_layers}]. "
                             f"Got shape {choices.shape} instead.")
        hi = np.asarray(self.num_options)
        bad = np.argwhere((choices < 0) | (choices >= hi))
        if bad.size:
            i, l = bad[0]
            raise ValueError(f"Choice {choices[i, l]} at layer {l} is out of range: expected "
                             f"0..{hi[l] - 1}.")
        return choices.astype(np.int64, copy=False)

    # -- enumeration ---------------------------------------------------------------------
    def all_choices(self, dtype=np.int8) -> np.ndarray:
        """Choice matrix of every architecture, in :meth:`index` order: ``[len(self), L]``."""
        per_arch = 8 + self.num_layers * np.dtype(dtype).itemsize  # positions + the matrix
        check_memory(per_arch * self.size / 2 ** 30, None,
                     f"{type(self).__name__}.all_choices over every architecture of "
                     f"{self.name!r} ({self.size:,})", hint=_SUBSPACE_HINT)
        return self.choice_block(0, self.size, dtype=dtype)

    def choice_block(self, start: int, stop: int, dtype=np.int64) -> np.ndarray:
        """Choice matrix ``[stop - start, L]`` of the architectures at positions
        ``start..stop-1`` of :meth:`index` order, computed from the positions (no architecture
        objects): the chunks of a whole-space prediction."""
        n = self.size
        start = check_int(start, "start", f"{type(self).__name__}.choice_block", low=0, high=n)
        stop = check_int(stop, "stop", f"{type(self).__name__}.choice_block", low=start,
                         high=n)
        idx = np.arange(start, stop, dtype=np.int64)
        out = np.empty((stop - start, self.num_layers), dtype=dtype)
        stride = n
        for l, o in enumerate(self.num_options):  # C order: last layer fastest
            stride //= o
            out[:, l] = (idx // stride) % o
        return out

    def enumerate(self) -> Iterator[ChoiceArch]:
        """Every architecture in C order of the choices (first layer slowest, last fastest)."""
        for choices in itertools.product(*(range(o) for o in self.num_options)):
            yield ChoiceArch(self.name, choices)

    def index(self, arch) -> int:
        """Position of ``arch`` in :meth:`enumerate`."""
        return int(self.indices([arch])[0])

    def indices(self, archs: Sequence) -> np.ndarray:
        """Vectorized :meth:`index`."""
        choices = self.encode(archs)
        if not len(choices):
            return np.zeros(0, dtype=np.int64)
        return np.ravel_multi_index(choices.T, self.num_options).astype(np.int64)

    def from_index(self, idx) -> list[ChoiceArch]:
        """Architectures at positions ``idx`` of :meth:`enumerate`."""
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            raise ValueError(f"Indices must lie in 0..{len(self) - 1}. "
                             f"Got {idx.min()}..{idx.max()}.")
        return self.decode(np.stack(np.unravel_index(idx, self.num_options), axis=1))

    def sample(self, n: int, rng=None, replace: bool = False) -> list[ChoiceArch]:
        """``n`` architectures uniformly at random; distinct unless ``replace=True``."""
        n = check_int(n, "n", f"{type(self).__name__}.sample", low=0)
        rng = check_random_state(rng)
        size = self.size
        if not replace and n > size:
            raise ValueError(f"Cannot sample {n} distinct architectures from the {self.name!r} "
                             f"space of {size}; pass replace=True or a smaller 'n'.")
        if size < 2 ** 62:
            idx = rng.choice(size, size=n, replace=replace)
            return self.from_index(idx)
        choices = rng.integers(0, np.asarray(self.num_options), size=(n, self.num_layers))
        if not replace:  # collisions are all but impossible this large, but never return one
            rows = dict.fromkeys(map(tuple, choices))
            while len(rows) < n:
                more = rng.integers(0, np.asarray(self.num_options), size=(n, self.num_layers))
                rows.update(dict.fromkeys(map(tuple, more)))
            choices = np.array(list(rows)[:n], dtype=np.int64).reshape(n, self.num_layers)
        return self.decode(choices)

    # -- encodings ------------------------------------------------------------------------
    def features(self, archs: Sequence) -> np.ndarray:
        """Concatenated per-layer one-hot encoding ``[n, sum O_l]``."""
        return onehot_encode(self.encode(archs), self.num_options)

    # -- additive costs ------------------------------------------------------------------------
    def _set_cost(self, metric: str, base: float, tables: Sequence[Sequence[float]]) -> None:
        owner = f"the {self.name!r} space"
        tables = [check_finite(t, f"costs[{metric!r}][{l}]", owner)  # no OverflowError
                  for l, t in enumerate(tables)]
        base = check_finite([base], f"costs[{metric!r}] base", owner)[0]
        if len(tables) != self.num_layers or any(len(t) != o for t, o in
                                                  zip(tables, self.num_options)):
            raise ValueError(f"Cost tables of {metric!r} must have one entry per option of "
                             f"each layer {self.num_options}.")
        self._cost_tables[metric] = (float(base), tables)

    @property
    def cost_metrics(self) -> tuple[str, ...]:
        """Names of the cost models this space has (e.g. ``('flops', 'params')``)."""
        return tuple(self._cost_tables)

    def cost_tables(self, metric: str) -> tuple[float, list[np.ndarray]]:
        """``(base, per-layer tables)`` of an additive cost model."""
        if metric not in self._cost_tables:
            check_one_of(metric, "metric", self.cost_metrics, owner=f"the {self.name!r} space")
        return self._cost_tables[metric]

    def costs(self, metric: str, choices=None) -> np.ndarray:
        """Vectorized cost of a choice matrix (default: every architecture, in index order)."""
        base, tables = self.cost_tables(metric)
        if choices is None:
            # the outer sum and its flattened copy: 16 bytes per architecture
            check_memory(16 * self.size / 2 ** 30, None,
                         f"{type(self).__name__}.costs({metric!r}) over every architecture of "
                         f"{self.name!r} ({self.size:,})", hint=_SUBSPACE_HINT)
            # outer sum over the grid, never materializing the choice matrix
            total = np.zeros((), dtype=np.float64)
            for t in tables:
                total = total[..., None] + t
            return (total + base).reshape(-1)
        choices = self.check_choices(choices)
        out = np.full(len(choices), base, dtype=np.float64)
        for l, t in enumerate(tables):
            out += t[choices[:, l]]
        return out

    def cost(self, metric: str, archs: Sequence) -> np.ndarray:
        """Vectorized cost of a list of architectures."""
        return self.costs(metric, self.encode(archs))

    def flops(self, arch) -> float:
        return float(self.cost("flops", [arch])[0])

    def params(self, arch) -> float:
        return float(self.cost("params", [arch])[0])

    # -- subspaces -----------------------------------------------------------------------
    def subspace(self, layers: Sequence[int], base) -> "Subspace":
        """Architectures equal to ``base`` except on ``layers`` (each free over its options)."""
        layers = [check_int(l, "layers", "subspace", 0, self.num_layers - 1) for l in layers]
        if len(set(layers)) != len(layers) or not layers:
            raise ValueError(f"The 'layers' argument of subspace must be distinct layer indices "
                             f"of 0..{self.num_layers - 1}. Got {list(layers)}.")
        keep = sorted(layers)
        return Subspace(self, self.validate(base),
                        [((l,), [(c,) for c in range(self.num_options[l])]) for l in keep],
                        names=[self.layer_names[l] for l in keep],
                        option_names=[self.options[l] for l in keep])


class Subspace(ProductSpace):
    """A product space of architectures of ``parent``: those equal to ``base`` except on factors.

    Each factor is ``(parent_layers, option_tuples)``: a free parent layer is
    ``((l,), [(0,), (1,), ...])``; a super-cell spanning layers ``(3, 4)`` with its ``K`` best
    settings is ``((3, 4), [(c3, c4), ...])``. Architectures are the parent's own
    :class:`ChoiceArch` objects; :meth:`encode` maps them to factor indices.
    """

    def __init__(self, parent: ProductSpace, base: ChoiceArch,
                 factors: Sequence[tuple[Sequence[int], Sequence[Sequence[int]]]],
                 names: Sequence[str] | None = None,
                 option_names: Sequence[Sequence[str]] | None = None):
        if not isinstance(parent, ProductSpace) or isinstance(parent, Subspace):
            raise TypeError(f"The 'parent' argument of Subspace must be a root ProductSpace. "
                            f"Got {type(parent).__name__}.")
        parent.validate(base)
        self.parent = parent
        self.base = base
        self.factors = []
        used: set[int] = set()
        for layers, opts in factors:
            layers = tuple(int(l) for l in layers)
            opts = [tuple(int(c) for c in o) for o in opts]
            if used & set(layers):
                raise ValueError(f"Subspace factors overlap on layers "
                                 f"{sorted(used & set(layers))}.")
            used |= set(layers)
            if not opts or len(set(opts)) != len(opts):
                raise ValueError(f"Factor on layers {layers} needs distinct, non-empty options.")
            for o in opts:
                if len(o) != len(layers):
                    raise ValueError(f"An option of the factor on layers {layers} must give "
                                     f"{len(layers)} choices. Got {o}.")
                for l, c in zip(layers, o):
                    if not 0 <= c < parent.num_options[l]:
                        raise ValueError(f"Choice {c} at layer {l} is out of range: expected "
                                         f"0..{parent.num_options[l] - 1}.")
            self.factors.append((layers, opts))
        if option_names is None:
            option_names = [[",".join(parent.options[l][c] for l, c in zip(layers, o))
                             for o in opts] for layers, opts in self.factors]
        if names is None:
            names = ["+".join(parent.layer_names[l] for l in layers) for layers, _ in self.factors]
        super().__init__(parent.name, option_names, names)
        self.op_names = parent.op_names
        self.free_layers = tuple(sorted(used))
        self._lookup = [{o: k for k, o in enumerate(opts)} for _, opts in self.factors]
        # additive costs carry over: a factor's table sums its parent layers' entries
        for metric in parent.cost_metrics:
            pbase, ptables = parent.cost_tables(metric)
            fixed = pbase + sum(ptables[l][base.choices[l]] for l in range(parent.num_layers)
                                if l not in used)
            tables = [[sum(ptables[l][c] for l, c in zip(layers, o)) for o in opts]
                      for layers, opts in self.factors]
            self._set_cost(metric, fixed, tables)

    @property
    def root(self) -> ProductSpace:
        return self.parent

    def signature(self) -> dict:
        return {**super().signature(), "base": self.parent.to_str(self.base),
                "factors": [[list(layers), [list(o) for o in opts]]
                            for layers, opts in self.factors]}

    def validate(self, arch) -> ChoiceArch:
        self.parent.validate(arch)
        for l in range(self.parent.num_layers):
            if l not in self.free_layers and arch.choices[l] != self.base.choices[l]:
                raise ValueError(f"Architecture {self.parent.to_str(arch)!r} is outside the "
                                 f"subspace: layer {l} must be {self.base.choices[l]} as in the "
                                 f"base {self.parent.to_str(self.base)!r}, got {arch.choices[l]}.")
        for (layers, _), lookup in zip(self.factors, self._lookup):
            key = tuple(arch.choices[l] for l in layers)
            if key not in lookup:
                raise ValueError(f"Architecture {self.parent.to_str(arch)!r} is outside the "
                                 f"subspace: layers {layers} are {key}, expected one of "
                                 f"{list(lookup)[:8]}.")
        return arch

    def encode(self, archs: Sequence[ChoiceArch]) -> np.ndarray:
        archs = self._as_archs(archs)
        for a in archs:
            self.validate(a)
        out = np.zeros((len(archs), self.num_layers), dtype=np.int64)
        for f, ((layers, _), lookup) in enumerate(zip(self.factors, self._lookup)):
            out[:, f] = [lookup[tuple(a.choices[l] for l in layers)] for a in archs]
        return out

    def decode(self, choices) -> list[ChoiceArch]:
        full = self.parent_choices(choices)
        return [ChoiceArch(self.name, tuple(int(c) for c in row)) for row in full]

    def parent_choices(self, choices) -> np.ndarray:
        """Map a factor-choice matrix ``[n, F]`` to the parent's choice matrix ``[n, L]``."""
        choices = self.check_choices(choices)
        full = np.tile(np.asarray(self.base.choices, dtype=np.int64), (len(choices), 1))
        for f, (layers, opts) in enumerate(self.factors):
            table = np.asarray(opts, dtype=np.int64)  # [K, len(layers)]
            full[:, list(layers)] = table[choices[:, f]]
        return full

    def enumerate(self) -> Iterator[ChoiceArch]:
        for choices in itertools.product(*(range(o) for o in self.num_options)):
            yield self.decode(np.asarray([choices]))[0]

    def from_str(self, s: str) -> ChoiceArch:
        return self.validate(self.parent.from_str(s))

    def to_str(self, arch) -> str:
        return self.parent.to_str(self.validate(arch))

    def to_graph(self, arch, y: float | None = None) -> Data:
        return self.parent.to_graph(self.validate(arch), y)

    def subspace(self, layers: Sequence[int], base) -> "Subspace":
        """Keep only the factors ``layers`` of this subspace free; the rest fixed to ``base``."""
        layers = [check_int(l, "layers", "subspace", 0, self.num_layers - 1) for l in layers]
        if len(set(layers)) != len(layers) or not layers:
            raise ValueError(f"The 'layers' argument of subspace must be distinct factor indices "
                             f"of 0..{self.num_layers - 1}. Got {list(layers)}.")
        self.validate(base)
        keep = sorted(layers)
        return Subspace(self.parent, base, [self.factors[f] for f in keep],
                        names=[self.layer_names[f] for f in keep],
                        option_names=[self.options[f] for f in keep])

    def with_supercell(self, layers: Sequence[int], archs: Sequence[ChoiceArch],
                       name: str = "supercell") -> "Subspace":
        """This subspace with parent ``layers`` merged into one factor whose options are the
        settings of those layers in ``archs`` (e.g. the K best of an earlier round)."""
        layers = tuple(sorted(int(l) for l in layers))
        opts = []
        for a in archs:
            self.parent.validate(a)
            key = tuple(a.choices[l] for l in layers)
            if key not in opts:
                opts.append(key)
        kept = [(i, f) for i, f in enumerate(self.factors) if not set(f[0]) & set(layers)]
        return Subspace(self.parent, self.base,
                        [f for _, f in kept] + [(layers, opts)],
                        names=[self.layer_names[i] for i, _ in kept] + [name],
                        option_names=[list(self.options[i]) for i, _ in kept]
                        + [[f"{name}{k}" for k in range(len(opts))]])

    def __repr__(self) -> str:
        return (f"Subspace(parent={self.parent.name!r}, factors={[f[0] for f in self.factors]}, "
                f"size={len(self)})")

"""Chain search spaces: a fixed stem, a chain of searchable layers, a fixed head.

Layer ``l`` picks one of its options (op names of :mod:`archgraph.spaces.costs`, e.g.
``k3_e6``, ``identity``, ``skip``), so a chain space is a :class:`ProductSpace` with additive
FLOPs/params cost models computed from the layer table (and, on request, latency from a lookup
table, :meth:`ChainSpace.add_latency`).

Declaring and registering your own chain space::

    from archgraph.spaces import ChainSpace, register_search_space

    MBCONV = ("k3_e3", "k3_e6", "k5_e3", "k5_e6")

    @register_search_space("tiny_chain")
    def tiny_chain() -> ChainSpace:
        return ChainSpace(
            "tiny_chain",  # architectures carry this name: use the registered one
            layers=[  # rows: dicts or ChainLayer; resolution = input side (square)
                dict(name="l0", in_channels=16, out_channels=24, stride=2, resolution=32,
                     options=MBCONV),
                dict(name="l1", in_channels=24, out_channels=24, stride=1, resolution=16,
                     options=MBCONV + ("skip",)),
            ],
            stem=[dict(name="stem", in_channels=3, out_channels=16, stride=1, resolution=32,
                       options=("conv_k3",))],
            head=[dict(name="head", in_channels=24, out_channels=256, stride=1, resolution=16,
                       options=("conv_k1",))],
            num_classes=10)  # global average pool + linear 256 -> 10

Stem and head rows are fixed layers (one option each); consecutive rows must agree on channels
and resolution. ``get_search_space("tiny_chain")`` then works everywhere, including the
registry contract tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from archgraph.spaces.choice_arch import ChoiceArch
from archgraph.spaces.costs import (
    OpSpec,
    keeps_shape,
    linear_cost,
    op_cost,
    out_resolution,
    parse_op,
)
from archgraph.spaces.product_space import ProductSpace
from archgraph.utils.validation import check_int


@dataclass(frozen=True)
class ChainLayer:
    """One row of a chain space's layer table.

    Args:
        name: layer name (unique within the space).
        in_channels, out_channels: channels of the layer's input and output.
        stride: stride of the layer (applied by the depthwise conv of an MBConv).
        resolution: spatial side of the layer's *input* (square feature maps).
        options: op names the layer may pick (see :func:`archgraph.spaces.costs.parse_op`).
    """

    name: str
    in_channels: int
    out_channels: int
    stride: int
    resolution: int
    options: tuple[str, ...]

    def __post_init__(self):
        owner = f"ChainLayer {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"The 'name' parameter of ChainLayer must be a non-empty str. "
                            f"Got {self.name!r} ({type(self.name).__name__}) instead.")
        for arg in ("in_channels", "out_channels", "stride", "resolution"):
            # stored as Python ints: numpy ints would overflow in the cost arithmetic silently
            object.__setattr__(self, arg, check_int(getattr(self, arg), arg, owner, low=1))
        if isinstance(self.options, str):
            raise TypeError(f"The 'options' parameter of {owner} must be a sequence of op "
                            f"names. Got the str {self.options!r} instead.")
        try:
            object.__setattr__(self, "options", tuple(self.options))
            distinct = len(set(self.options))
        except TypeError as exc:  # not iterable, or unhashable entries
            raise TypeError(f"The 'options' parameter of {owner} must be a sequence of op "
                            f"names. Got {self.options!r:.60} instead.") from exc
        if not self.options or distinct != len(self.options):
            raise ValueError(f"The 'options' parameter of {owner} must be a non-empty sequence "
                             f"of distinct op names. Got {self.options!r} instead.")
        if "skip" in self.options and not keeps_shape(self.in_channels, self.out_channels,
                                                      self.stride):
            raise ValueError(f"The 'skip' option of {owner} needs stride 1 and equal in/out "
                             f"channels. Got stride {self.stride}, channels "
                             f"{self.in_channels}->{self.out_channels}.")
        for op in self.options:
            parse_op(op)

    @classmethod
    def from_row(cls, row) -> "ChainLayer":
        """A :class:`ChainLayer` from a mapping with the field names (or a ChainLayer)."""
        if isinstance(row, ChainLayer):
            return row
        if not isinstance(row, Mapping):
            raise TypeError(f"A layer-table row must be a ChainLayer or a mapping with keys "
                            f"{list(cls.__dataclass_fields__)}. Got {type(row).__name__}.")
        fields = list(cls.__dataclass_fields__)
        missing = [f for f in fields if f not in row]
        extra = [k for k in row if k not in fields]
        if missing or extra:
            raise ValueError(f"A layer-table row must have exactly the keys {fields}. Got "
                             f"missing {missing} and unknown {extra} in {dict(row)!r}.")
        return cls(**row)

    @property
    def out_resolution(self) -> int:
        """Spatial side of the layer's output: ``ceil(resolution / stride)``."""
        return out_resolution(self.resolution, self.stride)

    @property
    def ops(self) -> tuple[OpSpec, ...]:
        """Parsed options (kind, kernel, expand), aligned with :attr:`options`."""
        return tuple(parse_op(o) for o in self.options)

    def cost(self, op: str) -> tuple[int, int]:
        """``(flops, params)`` of option ``op`` in this layer."""
        return op_cost(op, self.in_channels, self.out_channels, self.stride, self.resolution)


class ChainSpace(ProductSpace):
    """A chain of searchable layers between a fixed stem and a fixed head.

    The network is ``stem -> layers[0] -> ... -> layers[L-1] -> head -> global average pool ->
    linear(num_classes)`` (no classifier when ``num_classes`` is None). Architectures are
    :class:`ChoiceArch` with one option index per searchable layer.

    Args:
        name: registered name of the space (architectures carry it).
        layers: the searchable layer table: :class:`ChainLayer` rows or mappings.
        stem, head: fixed rows before/after the chain (one option each).
        num_classes: outputs of the final linear layer (``None``: no classifier).
        default: op name per layer of :meth:`default_arch` (default: each layer's first option).

    String and graph forms are those of :class:`ProductSpace`.
    """

    def __init__(self, name: str, layers: Sequence, stem: Sequence = (), head: Sequence = (),
                 num_classes: int | None = None, default: Sequence[str] | None = None):
        self.layers = tuple(ChainLayer.from_row(r) for r in layers)
        self.stem = tuple(ChainLayer.from_row(r) for r in stem)
        self.head = tuple(ChainLayer.from_row(r) for r in head)
        if not self.layers:
            raise ValueError(f"The 'layers' parameter of ChainSpace {name!r} must hold at "
                             f"least one layer. Got none.")
        for row in self.stem + self.head:
            if len(row.options) != 1:
                raise ValueError(f"Stem and head rows of ChainSpace {name!r} are fixed and take "
                                 f"exactly one option. Got {row.options!r} for {row.name!r}.")
        rows = self.stem + self.layers + self.head
        names = [r.name for r in rows]
        if len(set(names)) != len(names):
            raise ValueError(f"Layer names of ChainSpace {name!r} must be unique. Got {names}.")
        for prev, row in zip(rows, rows[1:]):
            if (row.in_channels, row.resolution) != (prev.out_channels, prev.out_resolution):
                raise ValueError(
                    f"Layer {row.name!r} of ChainSpace {name!r} must take the output of "
                    f"{prev.name!r}: {prev.out_channels} channels at {prev.out_resolution}x"
                    f"{prev.out_resolution}. Got {row.in_channels} channels at "
                    f"{row.resolution}x{row.resolution}.")
        self.num_classes = None if num_classes is None else check_int(
            num_classes, "num_classes", f"ChainSpace {name!r}", low=1)
        super().__init__(name, [r.options for r in self.layers], [r.name for r in self.layers])
        self._default = self.from_ops(default) if default is not None else ChoiceArch(
            name, (0,) * self.num_layers)
        self._set_additive_costs()

    # -- costs ---------------------------------------------------------------------------
    @property
    def fixed_rows(self) -> tuple[ChainLayer, ...]:
        """Stem and head rows (the fixed part of every network)."""
        return self.stem + self.head

    @property
    def classifier_features(self) -> int:
        """Input features of the final linear layer (channels after the head)."""
        return (self.head or self.layers)[-1].out_channels

    def _set_additive_costs(self) -> None:
        fixed = [r.cost(r.options[0]) for r in self.fixed_rows]
        if self.num_classes is not None:
            fixed.append(linear_cost(self.classifier_features, self.num_classes))
        per_op = [[r.cost(o) for o in r.options] for r in self.layers]
        for i, metric in enumerate(("flops", "params")):
            self._set_cost(metric, sum(c[i] for c in fixed),
                           [[c[i] for c in layer] for layer in per_op])

    def add_latency(self, lut, name: str = "latency") -> "ChainSpace":
        """Register the additive cost ``name`` from a :class:`~archgraph.spaces.latency.LatencyLUT`.

        Subspaces taken afterwards inherit it. Raises ``ValueError`` naming the first entry the
        table lacks. Returns ``self``.
        """
        base, tables = lut.chain_latency(self)
        self._set_cost(name, base, tables)
        return self

    # -- architectures ---------------------------------------------------------------------
    def from_ops(self, ops: Sequence[str]) -> ChoiceArch:
        """The architecture picking op ``ops[l]`` at layer ``l``."""
        if isinstance(ops, str) or len(ops) != self.num_layers:
            raise ValueError(f"The 'ops' argument of {self.name!r}.from_ops must be a sequence "
                             f"of {self.num_layers} op names. Got {ops!r}.")
        choices = []
        for l, (op, options) in enumerate(zip(ops, self.options)):
            if op not in options:
                raise ValueError(f"Op {op!r} is not an option of layer {l} "
                                 f"({self.layer_names[l]}): expected one of {options}.")
            choices.append(options.index(op))
        return ChoiceArch(self.name, tuple(choices))

    def arch_ops(self, arch) -> tuple[str, ...]:
        """Op name picked at each layer by ``arch``."""
        arch = self.validate(arch)
        return tuple(o[c] for o, c in zip(self.options, arch.choices))

    def default_arch(self) -> ChoiceArch:
        """The space's default start architecture (e.g. all ``k3_e6`` for FairNAS)."""
        return self._default

    def __repr__(self) -> str:
        return f"ChainSpace(name={self.name!r}, num_layers={self.num_layers}, size={len(self)})"

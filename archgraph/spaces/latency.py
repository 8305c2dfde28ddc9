"""Per-op latency lookup tables (Cai et al., ICLR 2019, ProxylessNAS): a network's latency is
the sum of the measured latencies of its blocks.

Keys follow the TensorFlow MobileNetV2 layer names of the published mobile tables, shapes
``HxWxC``::

    Conv-input:224x224x3-output:112x112x32                      (stem conv; then Conv_1, ...)
    expanded_conv-input:56x56x24-output:28x28x40-expand:6-kernel:5-stride:2-idskip:0
    Conv_1-input:7x7x320-output:7x7x1280                        (head conv)
    Logits-input:7x7x1280-output:1000                           (pool + linear)

``idskip`` is 1 when the block has an identity shortcut. ``skip`` ops and shape-keeping
``identity`` ops cost 0 ms.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Mapping

import numpy as np
import yaml

from archgraph.spaces.costs import keeps_shape, out_resolution, parse_op


class LatencyLUT:
    """Latency (ms) of blocks keyed by op type, shapes, kernel, expansion, stride and skip flag.

    Args:
        table: mapping key -> mean latency in ms.
    """

    def __init__(self, table: Mapping[str, float]):
        self.table = {str(k): float(v) for k, v in table.items()}

    def __len__(self) -> int:
        return len(self.table)

    def __contains__(self, key) -> bool:
        return key in self.table

    def __getitem__(self, key: str) -> float:
        if key not in self.table:
            close = difflib.get_close_matches(key, list(self.table), n=2, cutoff=0.8)
            hint = f" Closest entries: {close}." if close else ""
            raise ValueError(f"The latency table has no entry {key!r} ({len(self)} entries)."
                             f"{hint}")
        return self.table[key]

    @staticmethod
    def op_key(op: str, in_channels: int, out_channels: int, stride: int, resolution: int,
               conv_name: str = "Conv") -> str | None:
        """Key of op ``op`` on a ``resolution^2 x in_channels`` input; ``None`` for ops that cost
        nothing (``skip``, shape-keeping ``identity``). Plain convs are named ``conv_name``."""
        spec = parse_op(op)
        if spec.kind == "skip" or (spec.kind == "identity"
                                   and keeps_shape(in_channels, out_channels, stride)):
            return None
        r, ro = resolution, out_resolution(resolution, stride)
        shapes = f"input:{r}x{r}x{in_channels}-output:{ro}x{ro}x{out_channels}"
        if spec.kind == "conv":
            return f"{conv_name}-{shapes}"
        if spec.kind == "identity":  # a 1x1 projection: not in the published tables
            return f"identity-{shapes}-stride:{stride}"
        idskip = int(keeps_shape(in_channels, out_channels, stride))
        return (f"expanded_conv-{shapes}-expand:{spec.expand}-kernel:{spec.kernel}"
                f"-stride:{stride}-idskip:{idskip}")

    def op_latency(self, op: str, in_channels: int, out_channels: int, stride: int,
                   resolution: int, conv_name: str = "Conv") -> float:
        """Latency (ms) of one op; ``ValueError`` naming the key when the table lacks it."""
        key = self.op_key(op, in_channels, out_channels, stride, resolution, conv_name)
        return 0.0 if key is None else self[key]

    def chain_latency(self, space) -> tuple[float, list[np.ndarray]]:
        """``(fixed latency, per-layer tables)`` of a :class:`ChainSpace`: the stem, head and
        classifier go into the fixed part; plain convs are numbered ``Conv, Conv_1, ...``."""
        fixed, n_conv = 0.0, 0
        for row in space.fixed_rows:
            name = "Conv" if n_conv == 0 else f"Conv_{n_conv}"
            n_conv += parse_op(row.options[0]).kind == "conv"
            fixed += self.op_latency(row.options[0], row.in_channels, row.out_channels,
                                     row.stride, row.resolution, name)
        if space.num_classes is not None:
            r = (space.head or space.layers)[-1].out_resolution
            fixed += self[f"Logits-input:{r}x{r}x{space.classifier_features}"
                          f"-output:{space.num_classes}"]
        tables = [np.array([self.op_latency(o, row.in_channels, row.out_channels, row.stride,
                                            row.resolution) for o in row.options])
                  for row in space.layers]
        return fixed, tables


def load_latency_lut(path, stat: str = "mean") -> LatencyLUT:
    """Read a YAML latency table ``{key: {mean, var, count}}`` (``yaml.safe_load``)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"The 'path' parameter of load_latency_lut must be an existing YAML "
                         f"file. Got {str(path)!r}.")
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:  # e.g. a !!python tag: never built
        first = str(exc).strip().splitlines()
        raise ValueError(f"The latency table {str(path)!r} is not a plain YAML file (corrupted, "
                         f"or with tags such as !!python/object, which are refused): "
                         f"{type(exc).__name__}: {first[0] if first else ''}") from exc
    if not isinstance(raw, dict):
        raise ValueError(f"The latency table {str(path)!r} must map keys to entries. "
                         f"Got {type(raw).__name__}.")
    table = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict) or stat not in entry:
            raise ValueError(f"Entry {key!r} of the latency table {str(path)!r} must be a "
                             f"mapping with a {stat!r} value. Got {entry!r}.")
        value = entry[stat]
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not np.isfinite(value) or value < 0):
            raise ValueError(f"Entry {key!r} of the latency table {str(path)!r} must have a "
                             f"finite, non-negative number as {stat!r} (ms). Got {value!r}.")
        table[key] = value
    return LatencyLUT(table)

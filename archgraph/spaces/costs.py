"""Op vocabulary of chain spaces and the FLOPs/params arithmetic of each op.

Op names (one grammar for every chain space, parsed by :func:`parse_op`):

- ``k{K}_e{E}``: inverted residual / MBConv (Sandler et al., CVPR 2018, MobileNetV2):
  1x1 expand ``C_in -> E*C_in`` + BN + ReLU (omitted when ``E == 1``), KxK depthwise (stride
  ``s``) + BN + ReLU, 1x1 project ``E*C_in -> C_out`` + BN; a shortcut adds the input when
  ``s == 1`` and ``C_in == C_out``.
- ``conv_k{K}``: plain KxK convolution (no bias) + BN + ReLU (stems and heads).
- ``identity``: nothing when ``s == 1`` and ``C_in == C_out``, else a 1x1 convolution (no bias,
  stride ``s``) + BN that matches the shape (NAS-Bench-Macro).
- ``skip``: the layer is dropped (ProxylessNAS "zero" op); only legal where it keeps the shape.

FLOPs are multiply-accumulates of convolutions and linear layers only (the field's
"multi-adds"); params are trainable parameters (conv weights, BN affine pairs, linear weight +
bias). With ``R' = ceil(R / s)`` the output resolution and ``H = E * C_in``:

    conv_kK:  params = K^2 C_in C_out + 2 C_out           flops = K^2 C_in C_out R'^2
    kK_eE:    params = [C_in H + 2H] + K^2 H + 2H + H C_out + 2 C_out
              flops  = [C_in H R^2]  + K^2 H R'^2 + H C_out R'^2      ([..] only when E > 1)
    linear:   params = C_in N + N                           flops = C_in N
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# canonical ASCII numbers only: "k٣_e6" or "k03_e6" would name "k3_e6" a second way
_MBCONV = re.compile(r"k([1-9][0-9]*)_e([1-9][0-9]*)")
_CONV = re.compile(r"conv_k([1-9][0-9]*)")
OP_GRAMMAR = "'k<kernel>_e<expand>' (e.g. 'k3_e6'), 'conv_k<kernel>', 'identity' or 'skip'"


@dataclass(frozen=True)
class OpSpec:
    """A parsed op name: ``kind`` is ``'mbconv'``, ``'conv'``, ``'identity'`` or ``'skip'``;
    ``kernel`` (odd) and ``expand`` are ``None`` where they do not apply (``expand`` is ``None``
    for ``'conv'``)."""

    kind: str
    kernel: int | None = None
    expand: int | None = None


def parse_op(name: str) -> OpSpec:
    """Parse an op name of the chain-space grammar (see the module docstring)."""
    if not isinstance(name, str):
        raise TypeError(f"An op name must be a str. Got {type(name).__name__} instead.")
    if name in ("identity", "skip"):
        return OpSpec(name)
    m = _MBCONV.fullmatch(name)
    spec = None
    if m:
        spec = OpSpec("mbconv", int(m.group(1)), int(m.group(2)))
    elif (m := _CONV.fullmatch(name)):
        spec = OpSpec("conv", int(m.group(1)))
    if spec is None or spec.kernel % 2 == 0 or (spec.expand is not None and spec.expand < 1):
        raise ValueError(f"Unknown op {name!r}: expected {OP_GRAMMAR}, with an odd kernel and "
                         f"an expansion >= 1.")
    return spec


def out_resolution(resolution: int, stride: int) -> int:
    """Spatial size after a 'same'-padded odd-kernel op of ``stride``: ``ceil(R / s)``."""
    return -(-resolution // stride)


def keeps_shape(in_channels: int, out_channels: int, stride: int) -> bool:
    """Whether a layer maps its input to a tensor of the same shape (residual possible)."""
    return stride == 1 and in_channels == out_channels


def op_cost(op: str | OpSpec, in_channels: int, out_channels: int, stride: int,
            resolution: int) -> tuple[int, int]:
    """``(flops, params)`` of one op on a ``[in_channels, resolution, resolution]`` input."""
    spec = op if isinstance(op, OpSpec) else parse_op(op)
    # Python ints: numpy ints (e.g. int32 read from a table) would overflow without a word
    in_channels, out_channels = int(in_channels), int(out_channels)
    stride, resolution = int(stride), int(resolution)
    r2 = resolution * resolution
    o2 = out_resolution(resolution, stride) ** 2
    cin, cout = in_channels, out_channels
    if spec.kind == "skip" or (spec.kind == "identity" and keeps_shape(cin, cout, stride)):
        return 0, 0
    if spec.kind == "identity":  # 1x1 projection + BN
        return cin * cout * o2, cin * cout + 2 * cout
    if spec.kind == "conv":
        w = spec.kernel ** 2 * cin * cout
        return w * o2, w + 2 * cout
    hidden = cin * spec.expand
    flops = params = 0
    if spec.expand != 1:  # 1x1 expand + BN at the input resolution
        flops += cin * hidden * r2
        params += cin * hidden + 2 * hidden
    flops += spec.kernel ** 2 * hidden * o2 + hidden * cout * o2  # depthwise + project
    params += spec.kernel ** 2 * hidden + 2 * hidden + hidden * cout + 2 * cout
    return flops, params


def linear_cost(in_features: int, out_features: int) -> tuple[int, int]:
    """``(flops, params)`` of a linear layer with bias."""
    in_features, out_features = int(in_features), int(out_features)
    return in_features * out_features, in_features * out_features + out_features

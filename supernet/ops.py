"""Candidate operations of the supernets (plain ``torch.nn`` modules, no hidden state).

Chain spaces (MobileNetV2 family, op names of :mod:`archgraph.spaces.costs`):

- :class:`InvertedResidual` ``k{K}_e{E}`` (Sandler et al., CVPR 2018): 1x1 expand + BN + ReLU
  (omitted when ``E == 1``), KxK depthwise (stride s) + BN + ReLU, 1x1 project + BN, plus the
  input when ``s == 1`` and the channels match.
- :class:`ConvBNReLU` ``conv_k{K}``: stems and heads.
- :class:`Identity` ``identity``/``skip``: the input itself, or a 1x1 conv + BN where the shape
  changes (NAS-Bench-Macro).

NAS-Bench-201 cells (Dong & Yang, ICLR 2020): :class:`ReLUConvBN`, :class:`Zero` (``none``),
``skip_connect`` (``nn.Identity``), :class:`AvgPool` and the residual reduction block
:class:`ResNetBasicBlock`. Every convolution is bias-free and followed by a BatchNorm, as in the
published parameter accounting.
"""
from __future__ import annotations

import torch
from torch import nn


def conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int = 1,
            groups: int = 1) -> list[nn.Module]:
    """A 'same'-padded bias-free convolution followed by BatchNorm."""
    return [nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, groups=groups,
                      bias=False),
            nn.BatchNorm2d(out_channels)]


class ConvBNReLU(nn.Sequential):
    """KxK convolution + BN + ReLU (``conv_k{K}``).

    Shapes: ``[B, C_in, H, W] -> [B, C_out, ceil(H/s), ceil(W/s)]``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1):
        super().__init__(*conv_bn(in_channels, out_channels, kernel, stride), nn.ReLU())


class InvertedResidual(nn.Module):
    r"""MobileNetV2 inverted residual block ``k{K}_e{E}`` (Sandler et al., CVPR 2018).

    .. math::
        y = \mathrm{BN}(W_p * \mathrm{ReLU}(\mathrm{BN}(W_d \circledast
            \mathrm{ReLU}(\mathrm{BN}(W_e * x))))) \;[+\, x]

    with ``W_e`` a 1x1 conv to ``E * C_in`` channels (absent when ``E == 1``), ``W_d`` a KxK
    depthwise conv of stride ``s`` and ``W_p`` a 1x1 conv to ``C_out``; the residual ``+ x``
    exists when ``s == 1`` and ``C_in == C_out``.

    Shapes: ``[B, C_in, H, W] -> [B, C_out, ceil(H/s), ceil(W/s)]``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, expand: int,
                 stride: int = 1):
        super().__init__()
        hidden = in_channels * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [*conv_bn(in_channels, hidden, 1), nn.ReLU()]
        layers += [*conv_bn(hidden, hidden, kernel, stride, groups=hidden), nn.ReLU()]
        layers += conv_bn(hidden, out_channels, 1)
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


class Identity(nn.Module):
    """``identity`` / ``skip``: the input, or a 1x1 conv (stride s) + BN where the shape changes.

    Shapes: ``[B, C_in, H, W] -> [B, C_out, ceil(H/s), ceil(W/s)]``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        same = stride == 1 and in_channels == out_channels
        self.proj = None if same else nn.Sequential(*conv_bn(in_channels, out_channels, 1,
                                                             stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.proj is None else self.proj(x)


class Zero(nn.Module):
    """NAS-Bench-201 ``none``: an edge that carries no data (zeros of the input's shape)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


class ReLUConvBN(nn.Sequential):
    """NAS-Bench-201 ``nor_conv_{K}x{K}``: ReLU, KxK bias-free conv, BN.

    Shapes: ``[B, C_in, H, W] -> [B, C_out, ceil(H/s), ceil(W/s)]``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1):
        super().__init__(nn.ReLU(), *conv_bn(in_channels, out_channels, kernel, stride))


class AvgPool(nn.AvgPool2d):
    """NAS-Bench-201 ``avg_pool_3x3``: 3x3 average pooling, stride 1, padding excluded."""

    def __init__(self):
        super().__init__(3, stride=1, padding=1, count_include_pad=False)


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201 residual reduction block between stages.

    ``y = ReLUConvBN_3x3(ReLUConvBN_3x3,s2(x)) + Conv1x1(AvgPool2x2(x))``.

    Shapes: ``[B, C_in, H, W] -> [B, C_out, H/2, W/2]``.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.a = ReLUConvBN(in_channels, out_channels, 3, stride=2)
        self.b = ReLUConvBN(out_channels, out_channels, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2),
                                      nn.Conv2d(in_channels, out_channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x)) + self.shortcut(x)

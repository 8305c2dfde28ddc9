"""The supernet of a chain space (FairNAS, ProxylessNAS, NAS-Bench-Macro, user-declared)."""
from __future__ import annotations

import copy

import torch
from torch import nn

from archgraph.spaces import ChainSpace, parse_op
from supernet.ops import ConvBNReLU, Identity, InvertedResidual
from supernet.supernet import SuperNet


class ChainSupernet(SuperNet):
    """Single-path supernet of a chain space (Guo et al., ECCV 2020, SPOS; Chu et al., ICCV
    2021, FairNAS).

    ``stem -> layer_1[c_1] -> ... -> layer_L[c_L] -> head -> global average pool -> linear``:
    layer ``l`` holds one module per option (``blocks[l][o]``) and an architecture picks one per
    layer. Channels, strides and ops are those of the space's layer table, channels scaled by
    ``config.width_mult``; the first stem row takes ``config.in_channels`` with stride
    ``config.stem_stride``. Build it with ``build_supernet(space, config)``.

    Shapes:
        ``forward(x, arch)``: ``[B, in_channels, R, R] -> [B, num_classes]``.
    """

    space_type = ChainSpace

    def build(self, root: ChainSpace) -> None:
        cfg = self.config

        def make(row, op, in_channels=None, stride=None) -> nn.Module:
            spec = parse_op(op)
            cin = self.width(row.in_channels) if in_channels is None else in_channels
            cout, s = self.width(row.out_channels), row.stride if stride is None else stride
            if spec.kind == "mbconv":
                return InvertedResidual(cin, cout, spec.kernel, spec.expand, s)
            if spec.kind == "conv":
                return ConvBNReLU(cin, cout, spec.kernel, s)
            return Identity(cin, cout, s)  # identity / skip

        rows = list(root.stem)
        stem = []
        for i, row in enumerate(rows):
            first = dict(in_channels=cfg.in_channels, stride=cfg.stem_stride) if i == 0 else {}
            stem.append(make(row, row.options[0], **first))
        self.stem = nn.Sequential(*stem)
        blocks = []
        for l, row in enumerate(root.layers):
            first = dict(in_channels=cfg.in_channels, stride=cfg.stem_stride) if (
                l == 0 and not rows) else {}  # no stem: the first layer takes the images
            blocks.append(nn.ModuleList(make(row, op, **first) for op in row.options))
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Sequential(*(make(row, row.options[0]) for row in root.head))
        features = self.width(root.classifier_features)
        self.classifier = nn.Linear(features, cfg.num_classes)

    def forward(self, x: torch.Tensor, arch) -> torch.Tensor:
        choices = self.choices(arch)
        self.check_input(x)
        x = self.stem(x)                                # [B, C_stem, R', R']
        for block, c in zip(self.blocks, choices):
            x = block[c](x)                             # [B, C_l, R_l, R_l]
        x = self.head(x).mean(dim=(2, 3))               # [B, C_head]
        return self.classifier(x)                       # [B, num_classes]

    def extract_subnet(self, arch) -> nn.Module:
        """``nn.Sequential(stem, chosen blocks, head, pool, classifier)`` with copied weights
        (and BatchNorm statistics)."""
        choices = self.choices(arch)
        parts = [*self.stem, *(b[c] for b, c in zip(self.blocks, choices)), *self.head,
                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), self.classifier]
        return nn.Sequential(*(copy.deepcopy(p) for p in parts))

"""The supernet of a chain space (FairNAS, ProxylessNAS, NAS-Bench-Macro, user-declared)."""
from __future__ import annotations

import copy

import torch
from torch import nn

from archgraph.spaces import ChainSpace, parse_op
from supernet.interchoice import ChannelBias, InterChoiceBias, chain_previous_layers
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

    Inter-choice dependent weights (:mod:`supernet.interchoice`), options of the config:

    - ``bias_weights=D``: ``biases[l]`` (an :class:`~supernet.interchoice.InterChoiceBias`)
      adds to the input of layer ``l`` the vector of ``(c_l, c_{l-1}, ..., c_{l-D})``.
    - ``split_weights_epoch=E``: ``copies[l - 1][o][p - 1]`` is option ``o`` of layer
      ``l >= 1`` for previous choice ``p >= 1`` (``blocks[l][o]`` serves ``p = 0`` and, before
      the split, every ``p``). They are allocated up front (same parameters before and after
      the split, so checkpoints and optimizers need nothing special);
      :meth:`~supernet.SuperNet.split_weights` fills them, called by
      :func:`~supernet.train.train` through :meth:`~supernet.SuperNet.before_epoch` before
      epoch ``E + 1``. The buffer ``split_done`` records it in the ``state_dict``.

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
        if cfg.bias_weights:
            inputs = [cfg.in_channels if l == 0 and not rows else self.width(row.in_channels)
                      for l, row in enumerate(root.layers)]
            self.biases = nn.ModuleList(
                InterChoiceBias(c, [len(root.layers[k].options)
                                    for k in [l, *chain_previous_layers(l, cfg.bias_weights)]],
                                cfg.bias)
                for l, c in enumerate(inputs))
        if cfg.split_weights_epoch is not None:  # copies of the initial weights, filled later
            self.copies = nn.ModuleList(
                nn.ModuleList(nn.ModuleList(copy.deepcopy(op) for _ in range(len(prev) - 1))
                              for op in block)
                for prev, block in zip(self.blocks, self.blocks[1:]))
            self.register_buffer("split_done", torch.tensor(0))  # 1 once split
        self.head = nn.Sequential(*(make(row, row.options[0]) for row in root.head))
        features = self.width(root.classifier_features)
        self.classifier = nn.Linear(features, cfg.num_classes)

    def option(self, layer: int, choices) -> nn.Module:
        """The module of the chosen option of ``layer`` under the per-layer ``choices``: with
        split weights (once split), the copy that the previous layer's choice selects."""
        c = choices[layer]
        p = choices[layer - 1] if layer and self.is_split else 0
        return self.blocks[layer][c] if p == 0 else self.copies[layer - 1][c][p - 1]

    def history(self, layer: int, choices) -> list[int]:
        """The choices that select the bias of ``layer``: its own, then those of the (up to)
        ``bias_weights`` layers before it, nearest first."""
        return [choices[k] for k in [layer, *chain_previous_layers(layer,
                                                                   self.config.bias_weights)]]

    def layer(self, layer: int, x: torch.Tensor, choices) -> torch.Tensor:
        """Layer ``layer`` of the path ``choices`` on its input ``x``: the inter-choice bias
        (if any), then the chosen option."""
        if self.config.bias_weights:
            x = self.biases[layer](x, self.history(layer, choices))
        return self.option(layer, choices)(x)

    def forward(self, x: torch.Tensor, arch) -> torch.Tensor:
        choices = self.choices(arch)
        self.check_input(x)
        x = self.stem(x)                                # [B, C_stem, R', R']
        for l in range(len(choices)):
            x = self.layer(l, x, choices)               # [B, C_l, R_l, R_l]
        x = self.head(x).mean(dim=(2, 3))               # [B, C_head]
        return self.classifier(x)                       # [B, num_classes]

    def split_pairs(self) -> list[tuple[nn.Module, list[nn.Module]]]:
        """``(blocks[l][o], copies[l - 1][o])`` for every option of the layers ``l >= 1``."""
        return [(op, list(op_copies)) for block, copies in zip(self.blocks[1:], self.copies)
                for op, op_copies in zip(block, copies)]

    def extract_subnet(self, arch) -> nn.Module:
        """``nn.Sequential(stem, chosen blocks, head, pool, classifier)`` with copied weights
        (and BatchNorm statistics); with bias weights each block is preceded by a
        :class:`~supernet.interchoice.ChannelBias` holding its selected bias, with split
        weights the block is the copy of the previous layer's choice."""
        choices = self.choices(arch)
        layers = []
        for l in range(len(choices)):
            if self.config.bias_weights:
                layers.append(ChannelBias(self.biases[l].vector(self.history(l, choices))))
            layers.append(self.option(l, choices))
        parts = [*self.stem, *layers, *self.head, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                 self.classifier]
        return nn.Sequential(*(p if isinstance(p, ChannelBias) else copy.deepcopy(p)
                               for p in parts))

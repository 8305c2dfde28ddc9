"""The NAS-Bench-201 cell supernet (Dong & Yang, ICLR 2020, https://arxiv.org/abs/2001.00326)."""
from __future__ import annotations

import copy

import torch
from torch import nn

from archgraph.spaces.nasbench201 import NB201_EDGES, NB201_OPS, NASBench201Space
from supernet.interchoice import ChannelBias, InterChoiceBias, nb201_previous_edges
from supernet.ops import AvgPool, ReLUConvBN, ResNetBasicBlock, Zero
from supernet.supernet import SuperNet


def make_nb201_op(op: str, channels: int) -> nn.Module:
    """The module of NAS-Bench-201 op ``op`` on ``channels`` channels (stride 1)."""
    if op == "none":
        return Zero()
    if op == "skip_connect":
        return nn.Identity()
    if op == "avg_pool_3x3":
        return AvgPool()
    return ReLUConvBN(channels, channels, 1 if op == "nor_conv_1x1" else 3)


class NB201Cell(nn.Module):
    r"""A 4-node NAS-Bench-201 cell: node ``j = sum_{i<j} op_{ij}(node_i)``, output node 3.

    ``edges[e]`` holds the candidate modules of edge ``NB201_EDGES[e]`` (all five in the
    supernet, the chosen one in an extracted sub-network); ``forward(x, choices)`` picks
    ``edges[e][choices[e]]``. ``none`` edges add nothing and are skipped. With ``biases``
    (inter-choice bias weights, :mod:`supernet.interchoice`), ``biases[e]`` adds to the input
    of edge ``e``'s op the vector of its choice and those of the edges before it into the same
    node (:func:`~supernet.interchoice.nb201_previous_edges`). With ``split`` (split weights),
    ``copies[e][o][p - 1]`` is op ``o`` of edge ``e`` for choice ``p >= 1`` of its previous
    edge (``edges[e][o]`` serves ``p = 0``, and every ``p`` until the split); edges without a
    previous edge (``0->1``, ``0->2``, ``0->3``) have none.

    Shapes: ``forward(x, choices, split=False)``: ``[B, C, H, W] -> [B, C, H, W]``.
    """

    def __init__(self, edges: list[list[nn.Module]],
                 biases: list[InterChoiceBias] | None = None, split: bool = False):
        super().__init__()
        self.edges = nn.ModuleList(nn.ModuleList(e) for e in edges)
        self.biases = None if biases is None else nn.ModuleList(biases)
        if split:
            self.copies = nn.ModuleList(
                nn.ModuleList(nn.ModuleList(copy.deepcopy(op) for _ in range(len(ops) - 1))
                              for op in ops) if nb201_previous_edges(e, 1) else nn.ModuleList()
                for e, ops in enumerate(self.edges))

    def option(self, edge: int, choices, split: bool = False) -> nn.Module:
        """The chosen op of ``edge``; once ``split``, the copy of its previous edge's choice."""
        c, prev = choices[edge], nb201_previous_edges(edge, 1)
        p = choices[prev[0]] if split and prev else 0
        return self.edges[edge][c] if p == 0 else self.copies[edge][c][p - 1]

    def history(self, edge: int, choices) -> list[int]:
        """The choices that select the bias of ``edge``: its own, then its previous edges'."""
        depth = len(self.biases[edge].num_options) - 1
        return [choices[e] for e in [edge, *nb201_previous_edges(edge, depth)]]

    def forward(self, x: torch.Tensor, choices, split: bool = False) -> torch.Tensor:
        nodes = [x]
        for j in range(1, 4):
            out = torch.zeros_like(x)
            for e, (i, t) in enumerate(NB201_EDGES):
                op = self.option(e, choices, split)
                if t == j and not isinstance(op, Zero):
                    h = nodes[i] if self.biases is None else self.biases[e](
                        nodes[i], self.history(e, choices))
                    out = out + op(h)
            nodes.append(out)
        return nodes[3]


class NB201Subnet(nn.Module):
    """A stand-alone NAS-Bench-201 network: the cells carry only the chosen ops (index 0)."""

    def __init__(self, stem: nn.Module, stages: nn.ModuleList, last: nn.Module,
                 classifier: nn.Module):
        super().__init__()
        self.stem, self.stages, self.last, self.classifier = stem, stages, last, classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for m in self.stages:
            x = m(x, (0,) * len(NB201_EDGES)) if isinstance(m, NB201Cell) else m(x)
        return self.classifier(self.last(x).mean(dim=(2, 3)))


class NB201Supernet(SuperNet):
    """Weight-sharing supernet of the NAS-Bench-201 CIFAR network.

    Stem conv3x3 (``in_channels -> C``) + BN; three stages of ``cells_per_stage`` cells with
    ``C, 2C, 4C`` channels (``C = 16 * width_mult``), separated by residual reduction blocks;
    BN + ReLU, global average pool, linear to ``num_classes``. Every cell edge holds all five
    ops; all cells share the architecture (the benchmark's cell is repeated). Build it with
    ``build_supernet(space, config)``. With ``config.bias_weights`` every cell has its own
    inter-choice biases, with ``config.split_weights_epoch`` its own split copies
    (:class:`NB201Cell`; see :class:`~supernet.chain_supernet.ChainSupernet` for how the
    split happens).

    Shapes:
        ``forward(x, arch)``: ``[B, in_channels, R, R] -> [B, num_classes]``.
    """

    space_type = NASBench201Space

    def build(self, root: NASBench201Space) -> None:
        cfg = self.config
        c = self.width(16)
        self.stem = nn.Sequential(nn.Conv2d(cfg.in_channels, c, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(c))
        stages: list[nn.Module] = []
        for s, ch in enumerate((c, 2 * c, 4 * c)):
            if s:
                stages.append(ResNetBasicBlock(ch // 2, ch))
            stages += [NB201Cell([[make_nb201_op(op, ch) for op in NB201_OPS]
                                  for _ in NB201_EDGES], self._biases(ch),
                                 split=cfg.split_weights_epoch is not None)
                       for _ in range(cfg.cells_per_stage)]
        self.stages = nn.ModuleList(stages)
        if cfg.split_weights_epoch is not None:
            self.register_buffer("split_done", torch.tensor(0))  # 1 once split
        self.last = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU())
        self.classifier = nn.Linear(4 * c, cfg.num_classes)

    def _biases(self, channels: int) -> list[InterChoiceBias] | None:
        d = self.config.bias_weights
        if not d:
            return None
        o = len(NB201_OPS)
        return [InterChoiceBias(channels, [o] * (1 + len(nb201_previous_edges(e, d))),
                                self.config.bias) for e in range(len(NB201_EDGES))]

    def split_pairs(self) -> list[tuple[nn.Module, list[nn.Module]]]:
        """``(edges[e][o], copies[e][o])`` of every cell, for the edges with a previous one."""
        return [(op, list(op_copies)) for m in self.stages if isinstance(m, NB201Cell)
                for ops, copies in zip(m.edges, m.copies) for op, op_copies in zip(ops, copies)]

    def forward(self, x: torch.Tensor, arch) -> torch.Tensor:
        choices = self.choices(arch)
        self.check_input(x)
        x = self.stem(x)                                        # [B, C, R, R]
        split = self.is_split
        for m in self.stages:
            x = m(x, choices, split) if isinstance(m, NB201Cell) else m(x)
        return self.classifier(self.last(x).mean(dim=(2, 3)))  # [B, num_classes]

    def extract_subnet(self, arch) -> nn.Module:
        """An :class:`NB201Subnet` whose cells hold copies of the chosen ops only (each
        preceded by its selected bias, a :class:`~supernet.interchoice.ChannelBias`, with
        bias weights; with split weights, the copies the previous edges' choices select)."""
        choices = self.choices(arch)

        def chosen(cell: NB201Cell, e: int) -> nn.Module:
            op = copy.deepcopy(cell.option(e, choices, self.is_split))
            if cell.biases is None or isinstance(op, Zero):
                return op
            return nn.Sequential(ChannelBias(cell.biases[e].vector(cell.history(e, choices))), op)

        stages = nn.ModuleList(
            NB201Cell([[chosen(m, e)] for e in range(len(choices))])
            if isinstance(m, NB201Cell) else copy.deepcopy(m) for m in self.stages)
        return NB201Subnet(copy.deepcopy(self.stem), stages, copy.deepcopy(self.last),
                           copy.deepcopy(self.classifier))

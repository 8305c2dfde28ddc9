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
    node (:func:`~supernet.interchoice.nb201_previous_edges`).

    Shapes: ``[B, C, H, W] -> [B, C, H, W]``.
    """

    def __init__(self, edges: list[list[nn.Module]],
                 biases: list[InterChoiceBias] | None = None):
        super().__init__()
        self.edges = nn.ModuleList(nn.ModuleList(e) for e in edges)
        self.biases = None if biases is None else nn.ModuleList(biases)

    def history(self, edge: int, choices) -> list[int]:
        """The choices that select the bias of ``edge``: its own, then its previous edges'."""
        depth = len(self.biases[edge].num_options) - 1
        return [choices[e] for e in [edge, *nb201_previous_edges(edge, depth)]]

    def forward(self, x: torch.Tensor, choices) -> torch.Tensor:
        nodes = [x]
        for j in range(1, 4):
            out = torch.zeros_like(x)
            for e, (i, t) in enumerate(NB201_EDGES):
                op = self.edges[e][choices[e]]
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
    inter-choice biases (:class:`NB201Cell`); split weights are not available for it.

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
                                  for _ in NB201_EDGES], self._biases(ch))
                       for _ in range(cfg.cells_per_stage)]
        self.stages = nn.ModuleList(stages)
        self.last = nn.Sequential(nn.BatchNorm2d(4 * c), nn.ReLU())
        self.classifier = nn.Linear(4 * c, cfg.num_classes)

    def _biases(self, channels: int) -> list[InterChoiceBias] | None:
        d = self.config.bias_weights
        if not d:
            return None
        o = len(NB201_OPS)
        return [InterChoiceBias(channels, [o] * (1 + len(nb201_previous_edges(e, d))),
                                self.config.bias) for e in range(len(NB201_EDGES))]

    def forward(self, x: torch.Tensor, arch) -> torch.Tensor:
        choices = self.choices(arch)
        self.check_input(x)
        x = self.stem(x)                                        # [B, C, R, R]
        for m in self.stages:
            x = m(x, choices) if isinstance(m, NB201Cell) else m(x)
        return self.classifier(self.last(x).mean(dim=(2, 3)))  # [B, num_classes]

    def extract_subnet(self, arch) -> nn.Module:
        """An :class:`NB201Subnet` whose cells hold copies of the chosen ops only (each
        preceded by its selected bias, a :class:`~supernet.interchoice.ChannelBias`, with
        bias weights)."""
        choices = self.choices(arch)

        def chosen(cell: NB201Cell, e: int) -> nn.Module:
            op = copy.deepcopy(cell.edges[e][choices[e]])
            if cell.biases is None or isinstance(op, Zero):
                return op
            return nn.Sequential(ChannelBias(cell.biases[e].vector(cell.history(e, choices))), op)

        stages = nn.ModuleList(
            NB201Cell([[chosen(m, e)] for e in range(len(choices))])
            if isinstance(m, NB201Cell) else copy.deepcopy(m) for m in self.stages)
        return NB201Subnet(copy.deepcopy(self.stem), stages, copy.deepcopy(self.last),
                           copy.deepcopy(self.classifier))

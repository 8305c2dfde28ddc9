r"""Inter-choice dependent supernet weights (K. A. Laube, A. Zell, "Inter-choice dependent
super-network weights", arXiv preprint, 2021): the generic parts the supernet kinds build on.

In a plain supernet an option's weights are shared by every path through it, whatever the
layers before it chose, although the features it receives depend on those choices. Two remedies
give each option weights that depend on the previous choices:

- **bias weights** (:class:`InterChoiceBias`): before the chosen option :math:`c_l` of layer
  :math:`l` receives its input :math:`x`, add a learned per-channel vector selected by
  :math:`c_l` and the choices of the :math:`D` layers before it. *Joint*: one vector per
  combination, :math:`x + b_l[c_l, c_{l-1}, \dots, c_{l-D}]` (:math:`O^{D+1}` vectors);
  *shared*: one vector per (offset, choice), summed,
  :math:`x + \sum_{k=0}^{D} b_{l,k}[c_{l-k}]` (:math:`(D+1)\,O` vectors). A layer with fewer
  than :math:`D` predecessors uses those it has. The vectors start at zero, so a fresh supernet
  computes what the plain one does.
- **split weights** (``D = 1``): after training as a plain supernet for a while, copy every
  option once per choice of the previous layer and train the copies separately
  (:meth:`~supernet.SuperNet.split_weights`; :func:`copy_state` copies weights, statistics and
  optimizer state, so each copy goes on as the original would). The first layer (the first
  edge into a node) has no previous choice and is not split.

Chain supernets take "previous layers" literally. In a NAS-Bench-201 cell the previous choices
of an edge are those of the edges that feed the same node and come before it in the cell order
:data:`~archgraph.spaces.nasbench201.NB201_EDGES` (:func:`nb201_previous_edges`): nothing for
``0->1``, ``0->2`` and ``0->3``; ``0->2`` for ``1->2``; ``0->3`` for ``1->3``; ``1->3`` then
``0->3`` for ``2->3``. So ``D = 3`` selects as ``D = 2`` there, and split weights copy the
ops of ``1->2``, ``1->3`` and ``2->3`` (by the choice of ``0->2``, ``0->3`` and ``1->3``).

Two conventions here differ from the authors' published code (UniNAS), which gives the
first searchable layer no bias at all and takes as "previous" the mixed ops created before, in
creation order (in NAS-Bench-201: the previous edges of the cell order, those of the cell before
for the first edges), and whose split weights share one optimizer state among the copies. Here
the first layer has :math:`O` vectors of its own choice (96 parameters in FairNAS), an NB201 edge
looks only at the edges into its own node, and each copy takes the optimizer state along.

Both are options of :class:`~supernet.SupernetConfig` (``bias_weights``, ``bias``,
``split_weights_epoch``), so every sampler, the training loop, checkpoints, BatchNorm
recalibration and :class:`~supernet.SupernetEvaluator` work with them unchanged.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from archgraph.spaces.nasbench201 import NB201_EDGES


class InterChoiceBias(nn.Module):
    r"""The bias vectors of one layer, selected by its choice and those of the layers before it.

    Args:
        channels: channels of the layer's input.
        num_options: options of the layer and of each previous layer used, nearest first:
            ``(O_l, O_{l-1}, ..., O_{l-d})``.
        kind: ``"joint"``: :attr:`weight` ``[O_l, O_{l-1}, ..., O_{l-d}, channels]``, one
            vector per combination; ``"shared"``: :attr:`weights`, ``d + 1`` tensors
            ``[O_{l-k}, channels]``, one vector per offset ``k`` and choice, summed.

    The vectors of a layer live in one tensor (one per offset for ``"shared"``), so a step
    gives the unselected vectors a zero gradient rather than none: SGD's momentum and weight
    decay keep moving them, as they would a bias of a plain network that a batch does not use.

    Shapes: ``forward(x, history)``: ``[B, channels, H, W] -> [B, channels, H, W]``, with
    ``history = (c_l, c_{l-1}, ..., c_{l-d})``.
    """

    def __init__(self, channels: int, num_options: Sequence[int], kind: str = "joint"):
        super().__init__()
        self.channels, self.num_options, self.kind = channels, tuple(num_options), kind
        if kind == "joint":
            self.weight = nn.Parameter(torch.zeros(*self.num_options, channels))
        else:
            self.weights = nn.ParameterList(torch.zeros(o, channels) for o in self.num_options)

    def vector(self, history: Sequence[int]) -> torch.Tensor:
        """The bias ``[channels]`` of the choices ``history`` (current first)."""
        history = tuple(int(c) for c in history)
        if len(history) != len(self.num_options):
            raise ValueError(f"The 'history' parameter of InterChoiceBias.vector must hold "
                             f"{len(self.num_options)} choices (the layer's and its "
                             f"{len(self.num_options) - 1} previous ones). Got {history}.")
        if self.kind == "joint":
            return self.weight[history]
        return sum(w[c] for w, c in zip(self.weights, history))

    def forward(self, x: torch.Tensor, history: Sequence[int]) -> torch.Tensor:
        return x + self.vector(history)[None, :, None, None]

    def extra_repr(self) -> str:
        return f"{self.channels}, num_options={self.num_options}, kind={self.kind!r}"


class ChannelBias(nn.Module):
    """A fixed architecture's bias: ``x + bias`` per channel (in extracted sub-networks).

    Shapes: ``[B, C, H, W] -> [B, C, H, W]``.
    """

    def __init__(self, bias: torch.Tensor):
        super().__init__()
        self.bias = nn.Parameter(bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias[None, :, None, None]


def chain_previous_layers(layer: int, depth: int) -> list[int]:
    """The (up to) ``depth`` layers before ``layer`` of a chain, nearest first."""
    return list(range(layer - 1, max(layer - depth, 0) - 1, -1))


def nb201_previous_edges(edge: int, depth: int) -> list[int]:
    """The (up to) ``depth`` edges of a NAS-Bench-201 cell that feed the node ``edge`` feeds
    and come before it in :data:`NB201_EDGES`, nearest first."""
    target = NB201_EDGES[edge][1]
    earlier = [e for e in range(edge) if NB201_EDGES[e][1] == target]
    return earlier[::-1][:depth]


@torch.no_grad()
def copy_state(src: nn.Module, dst: nn.Module, optimizer: torch.optim.Optimizer | None = None,
               ) -> None:
    """Make ``dst`` (a module of the same structure) a copy of ``src``: parameters, buffers
    (BatchNorm statistics) and, with ``optimizer``, each parameter's optimizer state
    (momentum, Adam moments, ...), so the copy continues training as ``src`` would."""
    dst.load_state_dict(src.state_dict())
    if optimizer is None:
        return
    for p, q in zip(src.parameters(), dst.parameters()):
        if p in optimizer.state:
            optimizer.state[q] = {k: v.clone() if isinstance(v, torch.Tensor) else v
                                  for k, v in optimizer.state[p].items()}
        else:
            optimizer.state.pop(q, None)

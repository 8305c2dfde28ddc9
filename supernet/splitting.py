r"""Supernet splitting: few-shot NAS with the split chosen by gradient matching.

Zhao et al., "Few-shot Neural Architecture Search" (ICML 2021, https://arxiv.org/abs/2006.06863)
split a trained one-shot supernet into sub-supernets, one per option of a chosen layer (or per
combination of options of a few layers). Each starts as a copy of the parent and is fine-tuned
only on the architectures of its partition, so options of the split layer stop sharing (and
fighting over) the weights of the other layers. :class:`SplitSupernet` holds the copies and
routes each architecture to its owner; :func:`fine_tune_split` trains each copy with
:func:`~supernet.train.train` and a sampler of its partition.

Hu et al., "Generalizing Few-Shot NAS with Gradient Matching" (ICLR 2022,
https://arxiv.org/abs/2203.15207) choose the layer to split by how much its options disagree on
the shared weights. :func:`gradient_matching_scores` measures, for a layer :math:`l` with
options :math:`1..O_l`, the gradient :math:`g_o` of the loss w.r.t. the weights outside
:math:`l`, summed over a few batches, each with a random path whose layer :math:`l` is set to
:math:`o` (the same batches and paths for every option and layer), and scores

.. math::
    s_l = \frac{2}{O_l (O_l - 1)} \sum_{o < o'} \cos(g_o, g_{o'}) \in [-1, 1];

the layer of lowest score is split first. The rest of their method (the per-layer similarity
matrix, balanced min-cut groups of options, a tree of splits with restart, successive-halving
selection) is in :mod:`supernet.gm_nas`.

>>> scores = gradient_matching_scores(net, train_data)
>>> split = SplitSupernet(net, int(np.argmin(scores)))
>>> fine_tune_split(split, train_data, epochs=5)
>>> SupernetEvaluator(split, train_data, val_data).evaluate(archs)
"""
from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from archgraph.spaces import Subspace
from archgraph.utils import check_int
from supernet.data import check_dataset
from supernet.gm_nas import gradient_matching_matrix
from supernet.samplers import UniformSampler
from supernet.supernet import SuperNet
from supernet.train import train


def _check_supernet(supernet, owner: str) -> None:
    if not isinstance(supernet, SuperNet):
        raise TypeError(f"The 'supernet' parameter of {owner} must be a SuperNet. "
                        f"Got {type(supernet).__name__} instead.")


def _check_layers(layers, num_layers: int, owner: str) -> list[int]:
    layers = [layers] if isinstance(layers, (int, np.integer)) else list(layers)
    layers = [check_int(l, "layers", owner, 0, num_layers - 1) for l in layers]
    if not layers or len(set(layers)) != len(layers):
        raise ValueError(f"The 'layers' parameter of {owner} must hold distinct layer indices "
                         f"of 0..{num_layers - 1}. Got {layers} instead.")
    return layers


def gradient_matching_scores(supernet: SuperNet, data: Dataset, layers=None,
                             num_batches: int = 2, batch_size: int = 64,
                             random_state: int = 0) -> np.ndarray:
    """Gradient-matching score of each layer (Hu et al., ICLR 2022; see module docstring).

    The supernet runs in train mode, as in training; its weights, gradients, BatchNorm
    statistics and mode are left as they were. The weights "outside layer ``l``" of a batch are
    those every option of ``l`` reaches, found from the autograd graph, so this works for any
    :class:`~supernet.SuperNet` (including a :class:`SplitSupernet`, to split further).

    Args:
        supernet: a trained :class:`~supernet.SuperNet`.
        data: ``Dataset`` of ``(image, label)`` pairs (e.g. the training split).
        layers: indices of the layers of ``supernet.space`` to score; default all.
        num_batches: batches (>= 1; fewer if ``data`` ends), each with its own random path.
        batch_size: images per batch (>= 1).
        random_state: seed of the batches and paths.

    Returns:
        ``[len(layers)]`` float64 scores in ``[-1, 1]``: the mean pairwise cosine similarity of
        the options' gradients, the mean off-diagonal entry of each layer's
        :func:`~supernet.gm_nas.gradient_matching_matrix` (1 for a one-option layer; a zero
        gradient has similarity 0). Lower means the options disagree more: split that layer
        first.
    """
    owner = "gradient_matching_scores"
    _check_supernet(supernet, owner)
    space = supernet.space
    layers = _check_layers(range(space.num_layers) if layers is None else layers,
                           space.num_layers, owner)
    check_int(num_batches, "num_batches", owner, low=1)
    check_int(batch_size, "batch_size", owner, low=1)
    check_int(random_state, "random_state", owner, low=0)
    check_dataset(data, supernet.config, "data", owner)
    matrices = [gradient_matching_matrix(supernet, data, l, num_batches, batch_size, random_state)
                for l in layers]                                  # the same batches and paths
    return np.array([m[np.triu_indices(len(m), 1)].mean() if len(m) > 1 else 1.0
                     for m in matrices])


class SplitSupernet(SuperNet):
    r"""A supernet split into sub-supernets, one per option (or per combination of options) of
    ``layers`` (Zhao et al., ICML 2021, few-shot NAS).

    Sub-supernet ``k`` is a deep copy of ``supernet`` that owns the architectures whose choices
    at ``layers`` are combination ``k`` (combinations in C order, the last layer fastest);
    :meth:`forward` and :meth:`extract_subnet` route each architecture to its owner, so right
    after splitting the split supernet computes exactly what the parent does. Fine-tune it with
    :func:`fine_tune_split`. Memory grows with the number of sub-supernets.

    Args:
        supernet: the trained parent :class:`~supernet.SuperNet` (left untouched).
        layers: index (or indices) of the layers of ``supernet.space`` to split; at least one
            layer must stay unsplit. Choose it with :func:`gradient_matching_scores`.

    Attributes:
        space, config: those of the parent.
        layers: the split layers (tuple).
        part_shape: their numbers of options (tuple): sub-supernet ``k`` owns combination
            ``numpy.unravel_index(k, part_shape)``.
        supernets: the sub-supernets (``nn.ModuleList``), ``prod(O_l for l in layers)`` of them.

    Shapes:
        ``forward(x, arch)``: ``[B, in_channels, R, R] -> [B, num_classes]``.
    """

    def __init__(self, supernet: SuperNet, layers: int | Sequence[int]):
        owner = "SplitSupernet"
        _check_supernet(supernet, owner)
        num_layers = supernet.space.num_layers
        layers = _check_layers(layers, num_layers, owner)
        if len(layers) == num_layers:
            raise ValueError(f"The 'layers' parameter of {owner} must leave at least one of the "
                             f"{num_layers} layers unsplit. Got {layers} instead.")
        nn.Module.__init__(self)  # no weights of its own to build: they are the copies below
        self.space = supernet.space
        self.config = supernet.config
        self.layers = tuple(layers)
        self.part_shape = tuple(supernet.space.num_options[l] for l in layers)
        self.supernets = nn.ModuleList(  # deep copies sharing the space object
            copy.deepcopy(supernet, memo={id(self.space): self.space})
            for _ in range(int(np.prod(self.part_shape))))

    def owner(self, arch) -> int:
        """Index of the sub-supernet owning ``arch`` (an architecture of :attr:`space`)."""
        codes = self.space.encode([arch])[0]                         # [L]
        return int(np.ravel_multi_index(codes[list(self.layers)], self.part_shape))

    def partition(self, k: int) -> Subspace:
        """The architectures of sub-supernet ``k``: the subspace of the unsplit layers."""
        k = check_int(k, "k", "SplitSupernet.partition", 0, len(self.supernets) - 1)
        codes = np.zeros(self.space.num_layers, dtype=np.int64)
        codes[list(self.layers)] = np.unravel_index(k, self.part_shape)
        base = self.space.decode(codes[None])[0]
        rest = [l for l in range(self.space.num_layers) if l not in self.layers]
        return self.space.subspace(rest, base)

    def forward(self, x: torch.Tensor, arch) -> torch.Tensor:
        return self.supernets[self.owner(arch)](x, arch)             # [B, num_classes]

    def extract_subnet(self, arch) -> nn.Module:
        return self.supernets[self.owner(arch)].extract_subnet(arch)

    def __repr__(self) -> str:
        return (f"SplitSupernet(space={self.space.name!r}, layers={list(self.layers)}, "
                f"num_supernets={len(self.supernets)})")


def fine_tune_split(split: SplitSupernet, train_data: Dataset, epochs: int, parts=None,
                    sampler=UniformSampler, checkpoint: str | None = None,
                    random_state: int = 0, **train_kwargs) -> list[list[dict]]:
    """Fine-tune each sub-supernet of ``split`` on its own partition only.

    Sub-supernet ``k`` is trained by :func:`~supernet.train.train` with
    ``sampler(split.partition(k), rng_k)``, so it only ever sees paths it owns; the others are
    left untouched.

    Args:
        split: a :class:`SplitSupernet`.
        train_data, epochs: see :func:`~supernet.train.train`.
        parts: indices of the sub-supernets to fine-tune; default all, in order.
        sampler: sampler class ``(space, rng)`` (e.g. ``UniformSampler``,
            ``StrictFairSampler``).
        checkpoint: path template with a ``{part}`` field (e.g. ``"split_{part}.pt"``): one
            resumable checkpoint per sub-supernet. ``None``: no checkpoints.
        random_state: seed of the data order; the path samplers get independent streams
            spawned from it, one per sub-supernet.
        **train_kwargs: other arguments of :func:`~supernet.train.train` (``batch_size``,
            ``lr``, ``device``, ``progress``, ...).

    Returns:
        The training history of each fine-tuned sub-supernet, in the order of ``parts``.
    """
    owner = "fine_tune_split"
    if not isinstance(split, SplitSupernet):
        raise TypeError(f"The 'split' parameter of {owner} must be a SplitSupernet. "
                        f"Got {type(split).__name__} instead.")
    n = len(split.supernets)
    parts = list(range(n)) if parts is None else [check_int(k, "parts", owner, 0, n - 1)
                                                  for k in parts]
    if checkpoint is not None and "{part}" not in str(checkpoint):
        raise ValueError(f"The 'checkpoint' parameter of {owner} must be a path template with "
                         f"a '{{part}}' field (one file per sub-supernet). Got {checkpoint!r} "
                         f"instead.")
    random_state = check_int(random_state, "random_state", owner, low=0)
    seeds = np.random.SeedSequence(random_state).spawn(n)
    return [train(split.supernets[k], train_data, epochs,
                  sampler=sampler(split.partition(k), np.random.default_rng(seeds[k])),
                  checkpoint=None if checkpoint is None else str(checkpoint).format(part=k),
                  random_state=random_state, **train_kwargs)
            for k in parts]

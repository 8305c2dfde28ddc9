r"""Measured option similarities from a trained supernet (Chen et al., AAAI 2021).

Chen et al., "Fitting the Search Space of Weight-sharing NAS with Graph Convolutional Networks"
(https://arxiv.org/abs/2004.08423) weight the edges of the search-space graph by how alike two
options of a layer behave in the trained supernet. :func:`option_features` measures that
behaviour and :func:`measured_space_similarity` turns it into the per-layer matrices ``S_l`` of
:func:`archgraph.graphs.similarity.measured_similarity`, ready for
``SpaceGCNPredictor(similarity=...)``.

Feature of option ``o`` of layer ``l`` (supernet in eval mode, stored BatchNorm statistics):
a fixed set of ``N = num_batches * batch_size`` images (the same for every option and layer,
drawn with ``random_state``) runs along the path ``arch`` up to layer ``l``; that activation
``h_l`` goes through option ``o`` alone, and each image's output is averaged over space
(global average pooling, as the supernet's head does):

.. math::
    f_{l,o} = \bigl[\mathrm{GAP}(\mathrm{op}_{l,o}(h_l^{(n)}))\bigr]_{n=1..N}
    \in \mathbb{R}^{N \cdot C_l}

so two options are alike when they respond alike, channel by channel, to the same images.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from archgraph.graphs.similarity import measured_similarity
from archgraph.spaces import ChoiceArch, ProductSpace, Subspace
from archgraph.utils import check_int, check_one_of
from supernet.chain_supernet import ChainSupernet
from supernet.data import check_dataset
from supernet.supernet import SuperNet

OWNER = "option_features"


@torch.no_grad()
def option_features(supernet: SuperNet, data: Dataset, arch: ChoiceArch | None = None,
                    layers=None, space: ProductSpace | None = None, num_batches: int = 4,
                    batch_size: int = 64, random_state: int = 0) -> list[np.ndarray]:
    """Per-option output features of a trained chain supernet (see module docstring).

    Args:
        supernet: a trained :class:`~supernet.chain_supernet.ChainSupernet` (every option of
            a layer maps the same input shape to the same output shape). NAS-Bench-201
            supernets are not supported.
        data: ``Dataset`` of ``(image, label)`` pairs fitting the supernet's config (e.g. the
            training split).
        arch: architecture of the supernet's root space whose path feeds each layer: the
            input of layer ``l`` is the activation after layers ``0..l-1`` of ``arch``. Default:
            the base of ``space`` if it is a subspace, else the root space's
            ``default_arch()``.
        layers: indices of the layers of ``space`` (factors of a subspace) to measure;
            default all, in order.
        space: the (sub)space whose layers are measured; default ``supernet.space``. Must be
            the supernet's space or a subspace of its root. A single-layer factor gives the
            rows of its options; a super-cell factor (several parent layers, e.g. from
            ``Subspace.with_supercell``) runs its layers in sequence with each of its settings
            (layers between them follow ``arch``) and summarises the last one's output.
        num_batches: batches of images (>= 1).
        batch_size: images per batch (>= 1).
        random_state: seed of the choice of images.

    Returns:
        One float64 array ``[O_l, N * C_l]`` per measured layer, ``O_l`` its options in the
        order of ``space``, ``N`` the number of images, ``C_l`` the layer's output channels.
    """
    if not isinstance(supernet, SuperNet):
        raise TypeError(f"The 'supernet' parameter of {OWNER} must be a SuperNet. "
                        f"Got {type(supernet).__name__} instead.")
    if not isinstance(supernet, ChainSupernet):
        raise TypeError(f"The 'supernet' parameter of {OWNER} must be a chain supernet "
                        f"(ChainSupernet: every option of a layer maps one input shape to one "
                        f"output shape). Got {type(supernet).__name__} instead; NAS-Bench-201 "
                        f"cells are not supported.")
    root = supernet.space.root
    space = supernet.space if space is None else space
    if not isinstance(space, ProductSpace):
        raise TypeError(f"The 'space' parameter of {OWNER} must be a ProductSpace or Subspace. "
                        f"Got {type(space).__name__} instead.")
    if space.root.name != root.name or space.root.num_options != root.num_options:
        raise ValueError(f"The 'space' parameter of {OWNER} must be the supernet's space "
                         f"{root.name!r} or a subspace of it. Got the {space.root.name!r} "
                         f"space instead.")
    num_batches = check_int(num_batches, "num_batches", OWNER, low=1)
    batch_size = check_int(batch_size, "batch_size", OWNER, low=1)
    random_state = check_int(random_state, "random_state", OWNER, low=0)
    check_dataset(data, supernet.config, "data", OWNER)
    factors = space.factors if isinstance(space, Subspace) else [
        ((l,), [(c,) for c in range(o)]) for l, o in enumerate(space.num_options)]
    if layers is None:
        layers = range(len(factors))
    layers = [check_int(l, "layers", OWNER, 0, len(factors) - 1) for l in layers]
    if not layers or len(set(layers)) != len(layers):
        raise ValueError(f"The 'layers' parameter of {OWNER} must hold distinct layer indices "
                         f"of 0..{len(factors) - 1}. Got {layers} instead.")
    if arch is None:
        arch = space.base if isinstance(space, Subspace) else root.default_arch()
    path = root.validate(arch).choices

    gen = torch.Generator().manual_seed(random_state)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, generator=gen)
    feats: list[list[list[torch.Tensor]]] = [[[] for _ in factors[f][1]] for f in layers]
    was_training = supernet.training
    supernet.eval()
    try:
        for _, (x, _y) in zip(range(num_batches), loader):
            h = [supernet.stem(x)]                           # h[l]: input of layer l
            for l in range(len(path)):
                h.append(supernet.layer(l, h[-1], path))     # [B, C_l, R_l, R_l]
            for out, f in zip(feats, layers):
                parent_layers, opts = factors[f]
                for per_option, opt in zip(out, opts):
                    choices = list(path)
                    for l, c in zip(parent_layers, opt):
                        choices[l] = c
                    y = h[min(parent_layers)]
                    for l in range(min(parent_layers), max(parent_layers) + 1):
                        y = supernet.layer(l, y, choices)
                    per_option.append(y.mean(dim=(2, 3)))     # [B, C_l]
    finally:
        supernet.train(was_training)
    return [np.stack([torch.cat(o).reshape(-1).double().numpy() for o in out])  # [O_l, N*C_l]
            for out in feats]


def measured_space_similarity(supernet: SuperNet, data: Dataset, kind: str = "cosine",
                              **kwargs) -> list[np.ndarray]:
    """Measured similarities ``[S_1, ..., S_L]`` of a supernet's (sub)space.

    ``measured_similarity(option_features(supernet, data, **kwargs), kind)``: with the default
    ``layers`` one ``[O_l, O_l]`` matrix per layer of ``space`` (default ``supernet.space``),
    to pass as ``SpaceGCNPredictor(space, similarity=...)``.

    Args:
        supernet, data: see :func:`option_features`.
        kind: ``"cosine"`` (clipped at 0) or ``"rbf"``
            (:func:`~archgraph.graphs.similarity.measured_similarity`).
        **kwargs: ``arch``, ``layers``, ``space``, ``num_batches``, ``batch_size``,
            ``random_state`` of :func:`option_features`.
    """
    check_one_of(kind, "kind", ("cosine", "rbf"), "measured_space_similarity")
    return measured_similarity(option_features(supernet, data, **kwargs), kind)

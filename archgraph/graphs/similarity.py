r"""Per-layer option similarities ``S_l``: the edge weights of a search-space graph.

In the Hamming-1 graph of a product space (Chen et al., "Fitting the Search Space of
Weight-sharing NAS with Graph Convolutional Networks", AAAI 2021,
https://arxiv.org/abs/2004.08423) two architectures that differ only at layer ``l``, where one
takes option ``i`` and the other option ``j``, are joined by an edge of weight ``S_l[i, j]``.
Every ``S_l`` is an ``O_l x O_l`` matrix that is symmetric, non-negative, finite and has a zero
diagonal (an architecture is not its own Hamming-1 neighbour; self-loops are added by the GCN
normalization).

* **assigned**: fixed by hand, by default uniform (``S_l = 1 - I``): every pair of options of a
  layer is equally alike, the plain Cartesian product of complete graphs.
* **measured**: derived from data. Given one feature vector per option of a layer -- e.g. the
  mean output (flattened feature map) of that option's operator over a batch of images in a
  trained supernet -- two options are as alike as their outputs:

  .. math::
      S_l[i, j] = \max\bigl(0, \cos(f_i, f_j)\bigr) \quad\text{(``kind="cosine"``)}

      S_l[i, j] = \exp\bigl(-\lVert f_i - f_j \rVert^2 / (2 \sigma_l^2)\bigr)
      \quad\text{(``kind="rbf"``, } \sigma_l = \text{median pairwise distance)}

  with the diagonal set to zero. Options whose outputs agree give strong edges, so the GCN
  averages the estimates of those neighbours more than those of dissimilar ones.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from archgraph.utils.validation import check_one_of, check_positive


def assigned_similarity(num_options: Sequence[int], value: float = 1.0) -> list[np.ndarray]:
    """Uniform similarities ``S_l = value * (1 - I)`` of shape ``[O_l, O_l]`` per layer."""
    value = check_positive(value, "value", "assigned_similarity")
    return [value * (np.ones((o, o)) - np.eye(o)) for o in num_options]


def measured_similarity(option_features: Sequence, kind: str = "cosine") -> list[np.ndarray]:
    """Similarities from one feature vector per option of each layer (see module docstring).

    Args:
        option_features: per layer, an array ``[O_l, d_l]`` (e.g. mean supernet outputs of
            each option, flattened).
        kind: ``"cosine"`` (clipped at 0) or ``"rbf"`` (Gaussian of the distance, bandwidth the
            layer's median pairwise distance).

    Returns:
        ``[S_1, ..., S_L]``, each ``[O_l, O_l]``, validated by :func:`check_similarity`.
    """
    check_one_of(kind, "kind", ("cosine", "rbf"), "measured_similarity")
    out = []
    for l, f in enumerate(option_features):
        f = np.asarray(f, dtype=np.float64)
        if f.ndim != 2 or not np.all(np.isfinite(f)):
            raise ValueError(f"The 'option_features' parameter of measured_similarity must hold "
                             f"finite 2-D arrays [num_options, dim]. Got shape {f.shape} "
                             f"(finite: {bool(np.all(np.isfinite(f)))}) at layer {l} instead.")
        if kind == "cosine":
            norm = np.linalg.norm(f, axis=1, keepdims=True)  # [O, 1]
            if np.any(norm == 0):
                raise ValueError(f"The 'option_features' parameter of measured_similarity has "
                                 f"an all-zero feature vector at layer {l}; the cosine is "
                                 f"undefined. Use kind='rbf' or other features.")
            s = np.clip((f / norm) @ (f / norm).T, 0.0, 1.0)  # [O, O]
        else:
            d2 = np.maximum(((f[:, None, :] - f[None, :, :]) ** 2).sum(-1), 0.0)  # [O, O]
            off = d2[~np.eye(len(f), dtype=bool)]
            sigma2 = np.median(off) if off.size and np.median(off) > 0 else 1.0
            s = np.exp(-d2 / (2.0 * sigma2))
        s = 0.5 * (s + s.T)
        np.fill_diagonal(s, 0.0)
        out.append(s)
    return check_similarity(out, [len(np.asarray(f)) for f in option_features])


def check_similarity(similarity, num_options: Sequence[int],
                     owner: str = "the search-space graph") -> list[np.ndarray]:
    """Validate per-layer similarities against a space's ``num_options``.

    Each ``S_l`` must be ``[O_l, O_l]``, finite, non-negative, symmetric, with a zero diagonal.

    Returns:
        The matrices as float64 arrays.
    """
    num_options = list(num_options)
    if isinstance(similarity, np.ndarray) or not isinstance(similarity, (list, tuple)):
        raise TypeError(f"The 'similarity' parameter of {owner} must be a list of "
                        f"{len(num_options)} matrices (one per layer). "
                        f"Got {type(similarity).__name__} instead.")
    if len(similarity) != len(num_options):
        raise ValueError(f"The 'similarity' parameter of {owner} must hold one matrix per layer "
                         f"({len(num_options)}). Got {len(similarity)} instead.")
    out = []
    for l, (s, o) in enumerate(zip(similarity, num_options)):
        s = np.asarray(s, dtype=np.float64)
        if s.shape != (o, o):
            raise ValueError(f"The 'similarity' parameter of {owner} must have shape ({o}, {o}) "
                             f"at layer {l}. Got shape {s.shape} instead.")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"The 'similarity' parameter of {owner} must be finite. Got a "
                             f"NaN or inf at layer {l}.")
        if np.any(s < 0):
            raise ValueError(f"The 'similarity' parameter of {owner} must be non-negative. "
                             f"Got {s.min()} at layer {l}.")
        if not np.allclose(s, s.T, rtol=1e-6, atol=1e-12):
            raise ValueError(f"The 'similarity' parameter of {owner} must be symmetric. Got an "
                             f"asymmetric matrix at layer {l}.")
        if np.any(np.diag(s) != 0):
            raise ValueError(f"The 'similarity' parameter of {owner} must have a zero diagonal. "
                             f"Got {np.diag(s).tolist()} at layer {l}.")
        out.append(s)
    return out

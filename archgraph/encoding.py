"""Encodings of per-layer choices: reflected binary Gray codes and one-hot vectors.

Gray codes (Chen et al., AAAI 2021) give architectures that differ in one layer by one step of
that layer's option index node features that differ in a single bit.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def gray_bits(num_options: int) -> int:
    """Number of bits of the Gray code of a layer with ``num_options`` options (at least 1)."""
    return max(1, int(np.ceil(np.log2(num_options))))


def _check(choices, num_options: Sequence[int]) -> np.ndarray:
    choices = np.asarray(choices)
    if choices.ndim == 1:
        choices = choices[None, :]
    if choices.ndim != 2 or choices.shape[1] != len(num_options):
        raise ValueError(f"The 'choices' argument must have shape [n, {len(num_options)}]. "
                         f"Got shape {choices.shape} instead.")
    if not np.issubdtype(choices.dtype, np.integer):
        raise TypeError(f"The 'choices' argument must hold integers. Got dtype {choices.dtype}.")
    hi = np.asarray(num_options)
    bad = np.argwhere((choices < 0) | (choices >= hi))
    if bad.size:
        i, l = bad[0]
        raise ValueError(f"Choice {choices[i, l]} at layer {l} is out of range: layer {l} has "
                         f"{hi[l]} options (0..{hi[l] - 1}).")
    return choices


def gray_encode(choices, num_options: Sequence[int]) -> np.ndarray:
    """Gray-code each layer's choice and concatenate: ``[n, L]`` ints -> ``[n, sum bits]`` 0/1.

    Bit order inside a layer is most significant first.
    """
    choices = _check(choices, num_options)
    out = []
    for l, o in enumerate(num_options):
        b = gray_bits(o)
        g = choices[:, l] ^ (choices[:, l] >> 1)  # reflected binary Gray code
        shifts = np.arange(b - 1, -1, -1)
        out.append((g[:, None] >> shifts) & 1)  # [n, b]
    return np.concatenate(out, axis=1).astype(np.float32)


def gray_decode(bits, num_options: Sequence[int]) -> np.ndarray:
    """Invert :func:`gray_encode`: ``[n, sum bits]`` -> ``[n, L]`` choice indices."""
    bits = np.asarray(bits)
    if bits.ndim == 1:
        bits = bits[None, :]
    total = sum(gray_bits(o) for o in num_options)
    if bits.ndim != 2 or bits.shape[1] != total:
        raise ValueError(f"The 'bits' argument must have shape [n, {total}]. "
                         f"Got shape {bits.shape} instead.")
    not_binary = ~np.isin(bits, (0, 1))
    if not_binary.any():
        bad = bits[not_binary].flat[0]
        raise ValueError(f"The 'bits' argument must hold only 0 and 1. Got {bad}.")
    bits = bits.astype(np.int64)
    choices = np.empty((bits.shape[0], len(num_options)), dtype=np.int64)
    start = 0
    for l, o in enumerate(num_options):
        b = gray_bits(o)
        g = np.zeros(bits.shape[0], dtype=np.int64)
        for k in range(b):
            g = (g << 1) | bits[:, start + k]
        value = g.copy()
        shift = g >> 1
        while np.any(shift):  # binary = g ^ (g >> 1) ^ (g >> 2) ^ ...
            value ^= shift
            shift >>= 1
        if value.max(initial=0) >= o:
            raise ValueError(f"The 'bits' argument decodes to choice {value.max()} at layer {l}, "
                             f"which has {o} options (0..{o - 1}).")
        choices[:, l] = value
        start += b
    return choices


def onehot_encode(choices, num_options: Sequence[int]) -> np.ndarray:
    """Concatenated one-hot vectors of each layer's choice: ``[n, L]`` -> ``[n, sum O_l]``."""
    choices = _check(choices, num_options)
    offsets = np.concatenate([[0], np.cumsum(num_options)[:-1]])
    out = np.zeros((choices.shape[0], int(np.sum(num_options))), dtype=np.float32)
    rows = np.repeat(np.arange(choices.shape[0]), choices.shape[1])
    out[rows, (choices + offsets).ravel()] = 1.0
    return out

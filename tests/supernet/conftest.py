"""Tiny spaces and data shared by the supernet tests (8x8 images, a few dozen of them)."""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from archgraph.spaces import ChainSpace
from supernet import SupernetConfig

OPTIONS = ("identity", "k3_e3", "k5_e6")


def make_tiny_space(name: str = "tiny_chain") -> ChainSpace:
    """3 layers x 3 options on 1x8x8 images, 4 classes (27 architectures)."""
    rows = [(4, 6, 2, 8), (6, 6, 1, 4), (6, 8, 1, 4)]
    return ChainSpace(
        name, [dict(name=f"l{i}", in_channels=a, out_channels=b, stride=s, resolution=r,
                    options=OPTIONS) for i, (a, b, s, r) in enumerate(rows)],
        stem=[dict(name="stem", in_channels=1, out_channels=4, stride=1, resolution=8,
                   options=("conv_k3",))],
        head=[dict(name="head", in_channels=8, out_channels=16, stride=1, resolution=4,
                   options=("conv_k1",))],
        num_classes=4)


@pytest.fixture
def tiny_space() -> ChainSpace:
    return make_tiny_space()


@pytest.fixture
def tiny_data() -> TensorDataset:
    """48 random 1x8x8 images with labels 0..3 (fixed seed)."""
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(48, 1, 8, 8, generator=g),
                         torch.randint(0, 4, (48,), generator=g))


@pytest.fixture
def small_config() -> SupernetConfig:
    """Published spaces shrunk to digits size."""
    return SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1, num_classes=4)


class Unlabelled(Dataset):
    """Wraps a data set so its labels are only seen by reading it (no tensors, no targets)."""

    def __init__(self, inner):
        self.inner = inner

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, i):
        return self.inner[i]

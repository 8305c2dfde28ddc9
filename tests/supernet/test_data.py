import sys

import pytest
import torch

from supernet.data import load_cifar10, load_digits


def test_digits_split_is_fixed_and_disjoint():
    splits = {s: load_digits(s) for s in ("train", "val", "test")}
    assert [len(d) for d in splits.values()] == [1077, 360, 360]
    x, y = splits["train"].tensors
    assert x.shape[1:] == (1, 8, 8) and x.dtype == torch.float32 and y.dtype == torch.long
    assert x.min() >= -1 and x.max() <= 1 and set(y.tolist()) == set(range(10))
    torch.testing.assert_close(load_digits("val").tensors[0], splits["val"].tensors[0])
    rows = {tuple(r.flatten().tolist()) for r in splits["test"].tensors[0]}
    overlap = sum(tuple(r.flatten().tolist()) in rows for r in splits["val"].tensors[0])
    assert overlap < 5  # a few digits images are exact duplicates in sklearn's data


def test_bad_split_and_missing_torchvision(monkeypatch):
    with pytest.raises(ValueError, match="'split' parameter of load_digits must be one of"):
        load_digits("valid")
    monkeypatch.setitem(sys.modules, "torchvision", None)
    with pytest.raises(ImportError, match=r"pip install \"archgraph\[vision\]\""):
        load_cifar10("/nonexistent")

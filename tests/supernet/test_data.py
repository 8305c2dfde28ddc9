import sys

import pytest
import torch
from torch.utils.data import Subset, TensorDataset

from supernet import SupernetConfig
from supernet.data import (
    CIFAR10_FILES,
    check_batch,
    check_dataset,
    load_cifar10,
    load_digits,
    load_image_folder,
)


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


def test_bad_split_and_missing_torchvision(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="'split' parameter of load_digits must be one of"):
        load_digits("valid")
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in CIFAR10_FILES:
        (folder / name).touch()
    monkeypatch.setitem(sys.modules, "torchvision", None)
    with pytest.raises(ImportError, match=r"pip install \"archgraph\[vision\]\""):
        load_cifar10(tmp_path)
    (tmp_path / "cls").mkdir()
    with pytest.raises(ImportError, match=r"pip install \"archgraph\[vision\]\""):
        load_image_folder(tmp_path, 8)


def test_cifar10_missing_files_say_where_and_never_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"expected data_batch_1, .*batches.meta in "
                                                r"'.*cifar-10-batches-py'.*Nothing is "
                                                r"downloaded"):
        load_cifar10(tmp_path, "test")
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in CIFAR10_FILES[1:]:
        (folder / name).touch()
    with pytest.raises(FileNotFoundError, match=r"expected data_batch_1 in"):
        load_cifar10(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == sorted(CIFAR10_FILES[1:])


def test_cifar10_corrupted_files(tmp_path):
    pytest.importorskip("torchvision", reason="the checksums are checked by torchvision")
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in CIFAR10_FILES:
        (folder / name).write_bytes(b"not cifar")
    with pytest.raises(ValueError, match=r"CIFAR-10 files in '.*' are corrupted.*Nothing is "
                                         r"downloaded"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("resolution,error", [(0, ValueError), (8.0, TypeError),
                                              ("8", TypeError)])
def test_image_folder_resolution(tmp_path, resolution, error):
    with pytest.raises(error, match=r"'resolution' parameter of load_image_folder must be an "
                                    r"int in \[1, inf\]"):
        load_image_folder(tmp_path, resolution)
    with pytest.raises(FileNotFoundError, match="'root' parameter of load_image_folder must be "
                                                "a folder"):
        load_image_folder(tmp_path / "absent", 8)


def test_labels_of_subsets_and_batches_are_checked(tiny_space):
    config = SupernetConfig.published(tiny_space)
    data = TensorDataset(torch.randn(6, 1, 8, 8), torch.tensor([0, 1, 2, 3, 9, 0]))
    check_dataset(Subset(data, [0, 1, 2, 3]), config, "d", "f")  # the bad label is left out
    with pytest.raises(ValueError, match=r"'d' parameter of f must have labels in 0..3 "
                                         r"\(num_classes.*Got labels 1..9 instead"):
        check_dataset(Subset(Subset(data, [1, 4, 5]), [0, 1]), config, "d", "f")
    with pytest.raises(ValueError, match=r"'b' parameter of g must have labels in 0..3.*Got "
                                         r"labels -1..2"):
        check_batch(torch.randn(2, 1, 8, 8), torch.tensor([-1, 2]), config, "b", "g")
    with pytest.raises(ValueError, match=r"'b' parameter of g must hold images of shape "
                                         r"\[1, 8, 8\].*Got images of shape \[1, 4, 4\]"):
        check_batch(torch.randn(2, 1, 4, 4), torch.tensor([0, 2]), config, "b", "g")


def test_perturbed_digits_are_deterministic_and_split_disjointly():
    from supernet.data import load_perturbed_digits

    full = load_perturbed_digits()
    x, y = full.tensors
    assert x.shape == (1797, 1, 8, 8) and y.shape == (1797,)
    assert torch.equal(x, load_perturbed_digits().tensors[0])       # same data every call
    assert not torch.equal(x, load_perturbed_digits(random_state=1).tensors[0])
    clean = load_digits("train").tensors[0]
    assert x.std() > clean.std() * 0.9 and x.min() < -1  # noised past the clean range
    train, val = load_perturbed_digits("train"), load_perturbed_digits("val")
    assert (len(train), len(val)) == (1198, 599)
    rows = {tuple(r.flatten().tolist()) for r in x}
    split_rows = [tuple(r.flatten().tolist()) for d in (train, val) for r in d.tensors[0]]
    assert set(split_rows) == rows and len(split_rows) == len(set(split_rows))  # a partition
    assert torch.bincount(val.tensors[1]).min() >= 55  # stratified: ~60 per class


def test_perturbed_digits_errors():
    from supernet.data import load_perturbed_digits

    with pytest.raises(ValueError, match="split"):
        load_perturbed_digits("test")
    with pytest.raises(ValueError, match="random_state"):
        load_perturbed_digits(random_state=-1)

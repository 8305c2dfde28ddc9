"""Image data sets for supernets: scikit-learn's digits by default, CIFAR-10 / ImageFolder
through torchvision for users who have the files (nothing is ever downloaded).

Digits split (fixed, documented, the same on every machine): the 1,797 8x8 images of
``sklearn.datasets.load_digits`` are split by ``train_test_split(..., stratify=labels,
random_state=0)`` into 1,077 train, 360 validation and 360 test images (60/20/20, classes
balanced); pixel values 0..16 are mapped to ``[-1, 1]``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from archgraph.utils import check_int, check_one_of

SPLITS = ("train", "val", "test")


def load_digits(split: str = "train") -> TensorDataset:
    """A split of scikit-learn's digits as ``TensorDataset(x [N, 1, 8, 8] float32, y [N] int64)``.

    Args:
        split: ``"train"`` (1,077 images), ``"val"`` (360) or ``"test"`` (360).
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    check_one_of(split, "split", SPLITS, "load_digits")
    bunch = sk_load_digits()
    x = (bunch.images.astype(np.float32) / 8.0 - 1.0)[:, None]  # [1797, 1, 8, 8] in [-1, 1]
    y = bunch.target.astype(np.int64)
    idx = np.arange(len(y))
    train, rest = train_test_split(idx, test_size=720, stratify=y, random_state=0)
    val, test = train_test_split(rest, test_size=360, stratify=y[rest], random_state=0)
    pick = dict(train=train, val=val, test=test)[split]
    return TensorDataset(torch.from_numpy(x[pick]), torch.from_numpy(y[pick]))


def load_perturbed_digits(split: str = "all", random_state: int = 0) -> TensorDataset:
    """All 1,797 digits, each perturbed once, deterministically: the task of ground truth v2.

    Every image is rotated by an angle uniform in [-20, 20] degrees, shifted by up to one pixel
    in each direction (bilinear interpolation, :func:`scipy.ndimage.affine_transform`), then
    Gaussian noise of standard deviation 0.25 is added (pixels mapped to ``[-1, 1]`` as in
    :func:`load_digits`). The perturbations are drawn from ``random_state``, so the data set is
    the same on every machine. A harder task than the clean digits: architectures differ more
    and accuracies sit further from 100%.

    Args:
        split: ``"all"`` (1,797 images: the ground truth's cross-validation), or the fixed
            stratified split of supernet training, ``"train"`` (1,198) / ``"val"`` (599)
            (``train_test_split(..., test_size=599, stratify=labels, random_state=0)``).
        random_state: seed of the perturbations (0: the ground truth's data).

    Returns:
        ``TensorDataset(x [N, 1, 8, 8] float32, y [N] int64)``.
    """
    from scipy.ndimage import affine_transform
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    check_one_of(split, "split", ("all", "train", "val"), "load_perturbed_digits")
    check_int(random_state, "random_state", "load_perturbed_digits", low=0)
    bunch = sk_load_digits()
    rng = np.random.default_rng(random_state)
    images = bunch.images.astype(np.float64) / 8.0 - 1.0             # [1797, 8, 8] in [-1, 1]
    out = np.empty_like(images)
    center = np.array([3.5, 3.5])
    for i, img in enumerate(images):
        t = np.deg2rad(rng.uniform(-20, 20))
        rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        shift = rng.integers(-1, 2, size=2)
        offset = center - rot @ (center + shift)
        out[i] = affine_transform(img, rot, offset=offset, order=1, cval=-1.0)
    out += rng.normal(0.0, 0.25, size=out.shape)
    x, y = out.astype(np.float32)[:, None], bunch.target.astype(np.int64)
    if split != "all":
        train, val = train_test_split(np.arange(len(y)), test_size=599, stratify=y,
                                      random_state=0)
        pick = train if split == "train" else val
        x, y = x[pick], y[pick]
    return TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


#: files of the python version of CIFAR-10 (``cifar-10-python.tar.gz`` extracted)
CIFAR10_FILES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")


def load_cifar10(root, split: str = "train") -> Dataset:
    """CIFAR-10 from the files under ``root`` (never downloaded); images ``[3, 32, 32]``.

    ``root`` must hold the extracted ``cifar-10-python.tar.gz``, i.e. the folder
    ``cifar-10-batches-py`` with the files of :data:`CIFAR10_FILES`; ``FileNotFoundError`` if
    any is missing, ``ValueError`` if they are corrupted. ``"train"`` is the official training
    set, ``"test"`` the official test set. Needs torchvision (``pip install
    "archgraph[vision]"``).
    """
    check_one_of(split, "split", ("train", "test"), "load_cifar10")
    folder = Path(root) / "cifar-10-batches-py"
    missing = [f for f in CIFAR10_FILES if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"CIFAR-10 files not found: expected {', '.join(missing)} in "
                                f"{str(folder)!r} (the extracted cifar-10-python.tar.gz). "
                                f"Nothing is downloaded: put the files there or pass another "
                                f"'root' to load_cifar10.")
    datasets, transforms = _torchvision()
    tf = transforms.Compose([transforms.ToTensor(),
                             transforms.Normalize((0.4914, 0.4822, 0.4465),
                                                  (0.2470, 0.2435, 0.2616))])
    try:
        return datasets.CIFAR10(str(root), train=split == "train", transform=tf, download=False)
    except RuntimeError as exc:  # torchvision's "not found or corrupted" (checksums)
        raise ValueError(f"The CIFAR-10 files in {str(folder)!r} are corrupted (checksum or "
                         f"format mismatch). Nothing is downloaded: replace them with the "
                         f"extracted cifar-10-python.tar.gz.") from exc


def load_image_folder(root, resolution: int) -> Dataset:
    """An ``ImageFolder`` (one sub-folder per class) resized to ``resolution`` x ``resolution``.

    Needs torchvision (``pip install "archgraph[vision]"``).
    """
    check_int(resolution, "resolution", "load_image_folder", low=1)
    if not Path(root).is_dir():
        raise FileNotFoundError(f"The 'root' parameter of load_image_folder must be a folder "
                                f"with one sub-folder per class. Got {str(root)!r}, which is "
                                f"not a folder.")
    datasets, transforms = _torchvision()
    tf = transforms.Compose([transforms.Resize(resolution), transforms.CenterCrop(resolution),
                             transforms.ToTensor()])
    return datasets.ImageFolder(str(root), transform=tf)


def _torchvision():
    try:
        from torchvision import datasets, transforms
    except ImportError as exc:
        raise ImportError("CIFAR-10 and ImageFolder data need torchvision: pip install "
                          "\"archgraph[vision]\" (or pip install torchvision).") from exc
    return datasets, transforms


def check_dataset(dataset: Dataset, config, name: str, owner: str) -> None:
    """Raise ``ValueError`` if ``dataset``'s images or labels do not fit the supernet ``config``.

    Checks the first image's shape against ``[in_channels, R, R]`` and, where the labels are at
    hand without reading the images (``TensorDataset``, a ``targets`` attribute, or a
    ``Subset`` of those), that they lie in ``0..num_classes-1``. Other data sets are checked
    batch by batch where they are read (:func:`check_batch`).
    """
    if len(dataset) == 0:
        raise ValueError(f"The '{name}' parameter of {owner} must be a non-empty data set. "
                         f"Got an empty one.")
    check_images(dataset[0][0][None], config, name, owner)
    labels = _labels(dataset)
    if labels is not None:
        check_labels(labels, config, name, owner)


def check_batch(x: torch.Tensor, y: torch.Tensor, config, name: str, owner: str) -> None:
    """Raise ``ValueError`` unless images ``x`` ``[B, C, R, R]`` and labels ``y`` ``[B]`` fit
    the supernet ``config``."""
    check_images(x, config, name, owner)
    check_labels(y, config, name, owner)


def check_images(x: torch.Tensor, config, name: str, owner: str) -> None:
    """Raise ``ValueError`` unless ``x`` is a batch ``[B, in_channels, R, R]`` of ``config``."""
    want = (config.in_channels, config.input_resolution, config.input_resolution)
    if tuple(x.shape[1:]) != want:
        raise ValueError(f"The '{name}' parameter of {owner} must hold images of shape "
                         f"{list(want)} (in_channels, input_resolution of the supernet config). "
                         f"Got images of shape {list(x.shape[1:])} instead.")


def check_labels(labels, config, name: str, owner: str) -> None:
    """Raise ``ValueError`` unless every label lies in ``0..num_classes-1`` of ``config``."""
    labels = torch.as_tensor(labels)
    if len(labels) and (labels.min() < 0 or labels.max() >= config.num_classes):
        raise ValueError(f"The '{name}' parameter of {owner} must have labels in "
                         f"0..{config.num_classes - 1} (num_classes of the supernet config). "
                         f"Got labels {int(labels.min())}..{int(labels.max())} instead.")


def _labels(dataset: Dataset):
    """The labels of ``dataset`` if they are at hand without reading images, else ``None``."""
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[1]
    if isinstance(dataset, Subset):
        labels = _labels(dataset.dataset)
        return None if labels is None else torch.as_tensor(labels)[list(dataset.indices)]
    return getattr(dataset, "targets", None)

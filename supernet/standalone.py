"""``StandaloneEvaluator``: train each architecture from scratch (ground truth on small data)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from archgraph.spaces.product_space import ProductSpace
from archgraph.utils.validation import check_int
from supernet.config import SupernetConfig
from supernet.data import check_batch, check_dataset
from supernet.evaluator import accuracy, tensors_of
from supernet.supernet import SuperNet
from supernet.train import train


class StandaloneEvaluator:
    """Validation accuracy (%) of each architecture trained alone from scratch.

    The network of an architecture is the sub-network of a freshly initialized
    ``SuperNet(space, config, random_state=random_state)`` (so the stand-alone and the
    weight-sharing networks are the same modules), trained with :func:`supernet.train.train`
    for ``epochs`` epochs (same data order for every architecture) and evaluated on
    ``val_data``. Deterministic for a given ``random_state``; different seeds give the
    seed-to-seed spread of the ground truth.

    Args:
        space: the (sub)space of the architectures.
        train_data, val_data: torch ``Dataset`` of ``(image, label)`` pairs.
        config: :class:`SupernetConfig` of the networks (default: published).
        epochs, batch_size, lr, label_smoothing: training settings (see
            :func:`supernet.train.train`).
        random_state: seed of initialization and data order.
        progress: progress bar over architectures.

    Attributes:
        space: the space (archgraph's ``Evaluator`` protocol).
    """

    def __init__(self, space: ProductSpace, train_data: Dataset, val_data: Dataset,
                 config: SupernetConfig | None = None, epochs: int = 10, batch_size: int = 64,
                 lr: float | None = None, label_smoothing: float = 0.0, random_state: int = 0,
                 progress: bool = False):
        owner = "StandaloneEvaluator"
        self.space = space
        self.config = (config or SupernetConfig()).resolve(space)
        self.epochs = check_int(epochs, "epochs", owner, low=1)
        self.batch_size = check_int(batch_size, "batch_size", owner, low=1)
        self.lr = lr
        self.label_smoothing = label_smoothing
        self.random_state = check_int(random_state, "random_state", owner)
        self.progress = progress
        check_dataset(train_data, self.config, "train_data", owner)
        check_dataset(val_data, self.config, "val_data", owner)
        self.train_data = train_data
        self.val_x, self.val_y = tensors_of(val_data)                # [N, C, R, R], [N]
        check_batch(self.val_x, self.val_y, self.config, "val_data", owner)

    @classmethod
    def on_digits(cls, space: ProductSpace, epochs: int = 10, batch_size: int = 64,
                  lr: float | None = None, label_smoothing: float = 0.0, random_state: int = 0,
                  progress: bool = False) -> "StandaloneEvaluator":
        """Stand-alone training on the digits data (train split; accuracy on the validation
        split), at the space's published configuration. This is the ``standalone`` entry
        point of the ``archgraph dataset build`` command."""
        from supernet.data import load_digits

        return cls(space, load_digits("train"), load_digits("val"), epochs=epochs,
                   batch_size=batch_size, lr=lr, label_smoothing=label_smoothing,
                   random_state=random_state, progress=progress)

    @property
    def metadata(self) -> dict:
        """Settings that identify these accuracies (stored beside them in predictor datasets)."""
        return dict(evaluator="standalone", config=self.config.to_dict(), epochs=self.epochs,
                    batch_size=self.batch_size, lr=self.lr,
                    label_smoothing=self.label_smoothing, random_state=self.random_state,
                    num_val=len(self.val_y))

    def evaluate(self, archs: Sequence) -> np.ndarray:
        """Validation accuracies (%) ``[len(archs)]`` after training each of ``archs``."""
        archs = list(archs)
        self.space.encode(archs)  # validate every architecture before any work
        out = np.empty(len(archs))
        for i, arch in enumerate(tqdm(archs, desc="standalone", disable=not self.progress)):
            net = SuperNet(self.space, self.config,
                           random_state=self.random_state).extract_subnet(arch)
            train(net, self.train_data, self.epochs, batch_size=self.batch_size, lr=self.lr,
                  label_smoothing=self.label_smoothing, random_state=self.random_state,
                  progress=False)
            net.eval()
            out[i] = accuracy(net, self.val_x, self.val_y, self.batch_size)
        return out

    def __repr__(self) -> str:
        return f"StandaloneEvaluator(space={self.space.name!r}, epochs={self.epochs})"

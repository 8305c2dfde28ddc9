"""``SupernetEvaluator``: sub-network accuracies from a trained supernet (archgraph's
``Evaluator`` protocol)."""
from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np
import torch
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from archgraph.utils import check_int
from supernet.bn_recal import recalibrate_bn
from supernet.checkpoint import load_checkpoint
from supernet.config import SupernetConfig
from supernet.data import check_batch, check_dataset, check_images, load_digits
from supernet.factory import build_supernet
from supernet.supernet import SuperNet


def tensors_of(dataset: Dataset, batch_size: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """All ``(x, y)`` of ``dataset`` stacked: ``[N, C, R, R]``, ``[N]``."""
    xs, ys = zip(*DataLoader(dataset, batch_size=batch_size, shuffle=False))
    return torch.cat(xs), torch.cat(ys)


def weights_fingerprint(module: torch.nn.Module) -> str:
    """Short sha256 (16 hex digits) of ``module``'s ``state_dict``: names, dtypes, shapes and
    values of every tensor in key order. Equal for equal weights, different otherwise."""
    h = hashlib.sha256()
    for key, value in module.state_dict().items():
        t = value.detach().cpu().contiguous()
        h.update(f"{key}|{t.dtype}|{list(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


@torch.no_grad()
def accuracy(forward, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
    """Top-1 accuracy (%) of ``forward`` (a callable on image batches) on ``(x, y)``."""
    correct = 0
    for i in range(0, len(y), batch_size):
        correct += (forward(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
    return 100.0 * correct / len(y)


#: the BatchNorm recalibration Laube & Zell recommend: 20 batches, statistics not reset
PAPER_RECALIBRATION = dict(recal_batches=20, reset_bn=False)


class SupernetEvaluator:
    """Validation accuracy (%) of sub-networks under the shared weights of a trained supernet.

    For each architecture: BatchNorm statistics of its path are recalibrated on
    ``recal_batches`` training batches (the same batches for every architecture, drawn once
    with ``random_state``; when one pass over ``train_data`` has fewer batches, further
    shuffled passes follow, so exactly ``recal_batches`` are used), then the supernet runs in
    eval mode on the whole validation set. The supernet's own BatchNorm statistics are restored
    afterwards, so results do not depend on the order or grouping of the architectures:
    ``evaluate`` is deterministic.

    Which recalibration: Laube & Zell ("Inter-choice dependent super-network weights")
    recommend 20 batches without resetting the statistics, i.e. updating the supernet's
    statistics with the BatchNorm momentum: ``recal_batches=20, reset_bn=False``
    (:data:`PAPER_RECALIBRATION`). The default stays ``recal_batches=10, reset_bn=True``:
    with a reset the statistics are exactly the average over the recalibration images of the
    path itself, whatever the statistics the supernet accumulated over other paths during
    training (without one, a share ``0.9 ** 20``, about 12 %, of those remains after 20
    batches at the default momentum 0.1), and the estimates of the predictor datasets and
    benchmarks built so far stay as they are. Whether the paper's setting ranks better here is
    a question for the comparison harness (``compare_supernets(..., reset_bn=False,
    recal_batches=20)``).

    :attr:`metadata` holds a fingerprint of the supernet's weights taken at construction, so
    a predictor dataset built with one supernet is not resumed with another one of the same
    config (build a new evaluator after training the supernet further).

    Args:
        supernet: a trained :class:`~supernet.SuperNet`.
        train_data: ``Dataset`` the recalibration batches come from.
        val_data: ``Dataset`` of the accuracies (held in memory as one tensor).
        recal_batches: training batches of the BN recalibration (>= 1), or ``None`` to keep
            the supernet's statistics (no recalibration).
        batch_size: batch size of recalibration and evaluation.
        reset_bn: reset the statistics before recalibrating (else update them with the
            BatchNorm momentum, the paper's setting).
        random_state: seed of the choice of recalibration batches.
        progress: progress bar over architectures.

    Attributes:
        space: the space of the supernet (archgraph's ``Evaluator`` protocol).
        weights: :func:`weights_fingerprint` of the supernet at construction.
        recal_passes: passes over ``train_data`` the recalibration batches take (0 without
            recalibration).
    """

    def __init__(self, supernet: SuperNet, train_data: Dataset, val_data: Dataset,
                 recal_batches: int | None = 10, batch_size: int = 256, reset_bn: bool = True,
                 random_state: int = 0, progress: bool = False):
        owner = "SupernetEvaluator"
        if not isinstance(supernet, SuperNet):
            raise TypeError(f"The 'supernet' parameter of {owner} must be a SuperNet. "
                            f"Got {type(supernet).__name__} instead.")
        if recal_batches is not None:
            check_int(recal_batches, "recal_batches", owner, low=1)
        check_int(batch_size, "batch_size", owner, low=1)
        check_int(random_state, "random_state", owner)
        check_dataset(train_data, supernet.config, "train_data", owner)
        check_dataset(val_data, supernet.config, "val_data", owner)
        self.supernet = supernet
        self.space = supernet.space
        self.recal_batches = recal_batches
        self.batch_size = batch_size
        self.reset_bn = reset_bn
        self.random_state = random_state
        self.progress = progress
        val_x, val_y = tensors_of(val_data)                          # [N, C, R, R], [N]
        check_batch(val_x, val_y, supernet.config, "val_data", owner)
        recal, passes = [], 0
        if recal_batches is not None:
            gen = torch.Generator().manual_seed(random_state)
            loader = DataLoader(train_data, batch_size=batch_size, shuffle=True, generator=gen)
            while len(recal) < recal_batches:  # further passes when one is too short
                passes += 1
                for _, (x, _y) in zip(range(recal_batches - len(recal)), loader):
                    check_images(x, supernet.config, "train_data", owner)
                    recal.append(x)
        self.val_x, self.val_y, self.recal = val_x, val_y, recal
        self.recal_passes = passes
        self.weights = weights_fingerprint(supernet)

    @property
    def metadata(self) -> dict:
        """Settings that identify these estimates (stored beside them in predictor datasets).
        ``recal_passes`` appears when the recalibration takes more than one pass over the
        training data (estimates made before such passes existed used fewer batches, and
        their datasets are not resumed with these)."""
        meta = dict(evaluator="supernet", supernet=type(self.supernet).__name__,
                    config=self.supernet.config.to_dict(), weights=self.weights,
                    recal_batches=self.recal_batches,
                    reset_bn=self.reset_bn, batch_size=self.batch_size,
                    random_state=self.random_state, num_val=len(self.val_y))
        if self.recal_passes > 1:
            meta["recal_passes"] = self.recal_passes
        return meta

    def evaluate(self, archs: Sequence) -> np.ndarray:
        """Validation accuracies (%) ``[len(archs)]`` of ``archs``."""
        archs = list(archs)
        self.space.encode(archs)  # validate every architecture before any work
        net = self.supernet
        bns = [m for m in net.modules() if isinstance(m, _BatchNorm)]
        saved = [(m.running_mean.clone(), m.running_var.clone(),
                  m.num_batches_tracked.clone()) for m in bns]
        was_training = net.training
        out = np.empty(len(archs))
        try:
            for i, arch in enumerate(tqdm(archs, desc="evaluate", disable=not self.progress)):
                if self.recal_batches is not None:
                    recalibrate_bn(net, self.recal, self.recal_batches, arch=arch,
                                   reset=self.reset_bn)
                net.eval()
                out[i] = accuracy(lambda x: net(x, arch), self.val_x, self.val_y,
                                  self.batch_size)
                _restore(bns, saved)
        finally:
            _restore(bns, saved)
            net.train(was_training)
        return out

    @classmethod
    def from_checkpoint(cls, space, checkpoint, recal_batches: int | None = 10,
                        batch_size: int = 256, reset_bn: bool = True, random_state: int = 0,
                        progress: bool = False,
                        allow_unfinished: bool = False) -> "SupernetEvaluator":
        """An evaluator of the supernet saved by :func:`supernet.train.train` at
        ``checkpoint``, on the digits data (train split for recalibration, validation split for
        accuracies). This is the ``supernet`` entry point of the ``archgraph dataset build``
        command. A checkpoint of another space, a corrupted one, or one whose weights do not
        fit the config it records is refused with a ``ValueError`` naming it; so is the
        checkpoint of an unfinished training run (fewer epochs done than it was started for),
        unless ``allow_unfinished=True``."""
        state = load_checkpoint(checkpoint)
        fp = state["fingerprint"]
        if not isinstance(fp, dict) or fp.get("space") != space.name or not isinstance(
                fp.get("config"), dict):
            got = fp.get("space") if isinstance(fp, dict) else None
            raise ValueError(f"The 'checkpoint' parameter of SupernetEvaluator.from_checkpoint "
                             f"must hold a supernet of the {space.name!r} space. Got one of "
                             f"{got!r} in {str(checkpoint)!r}.")
        done, planned = len(state["history"]), fp.get("epochs")
        if not allow_unfinished and isinstance(planned, int) and done < planned:
            raise ValueError(f"Checkpoint {str(checkpoint)!r} is of an unfinished training run "
                             f"({done} of {planned} epochs); finish the training, or pass "
                             f"allow_unfinished=True to evaluate it anyway.")
        try:
            net = build_supernet(space, SupernetConfig(**fp["config"]))
            net.load_state_dict(state["model"])
        except Exception as exc:
            raise ValueError(f"Checkpoint {str(checkpoint)!r} is corrupted: its weights do not "
                             f"fit the supernet of its config: {type(exc).__name__}: "
                             f"{exc}") from exc
        return cls(net, load_digits("train"), load_digits("val"), recal_batches=recal_batches,
                   batch_size=batch_size, reset_bn=reset_bn, random_state=random_state,
                   progress=progress)

    def __repr__(self) -> str:
        return (f"SupernetEvaluator(space={self.space.name!r}, "
                f"recal_batches={self.recal_batches}, reset_bn={self.reset_bn})")


def _restore(bns, saved) -> None:
    with torch.no_grad():
        for m, (mean, var, n) in zip(bns, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(n)

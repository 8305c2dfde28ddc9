r"""Data-parallel training across processes (``torchrun``, any ``torch.distributed`` group).

:func:`supernet.train.train` uses these pieces when a process group is initialized, so that N
processes with batch size B compute the same steps as one process with batch size N*B (the
same numbers up to float rounding: only the order of the sums differs):

- :class:`ShardedBatchSampler`: every rank draws the same global batches (the single-process
  data order) and takes its contiguous slice of each;
- :func:`synced_batchnorm`: BatchNorm layers normalize with the statistics of the whole global
  batch (as ``torch.nn.SyncBatchNorm``, which runs on GPUs only; this runs on any device);
- :func:`all_reduce_grads`: each rank's loss is weighted by its share of the global batch,
  :math:`\sum_r \frac{n_r}{N}\,\bar\ell_r = \bar\ell`, so the sum of the ranks' gradients is the
  gradient of the global mean loss.
"""
from __future__ import annotations

import contextlib
import hashlib
import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import Dataset, Sampler, default_collate


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` without one.

    Raises ``RuntimeError`` when a launcher started several processes (``WORLD_SIZE`` > 1,
    as ``torchrun`` sets) but no process group is initialized: each would train alone.
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise RuntimeError(f"{os.environ['WORLD_SIZE']} processes were launched (WORLD_SIZE) "
                           f"but no torch.distributed process group is initialized; call "
                           f"torch.distributed.init_process_group('gloo') ('nccl' on GPUs) "
                           f"before training.")
    return 0, 1


def resolve_device(device, rank: int, world: int) -> torch.device:
    """``device``, with a bare ``"cuda"`` meaning ``cuda:LOCAL_RANK`` when ``world > 1``."""
    device = torch.device(device)
    if world > 1 and device.type == "cuda" and device.index is None:
        local = os.environ.get("LOCAL_RANK")
        index = int(local) if local is not None else rank % max(1, torch.cuda.device_count())
        device = torch.device("cuda", index)
    return device


class ShardedBatchSampler(Sampler):
    """This rank's part of each global batch of ``batches``.

    A global batch of ``m`` indices is cut into ``world`` contiguous slices of sizes differing
    by at most one (``m // world`` each when ``world`` divides ``m``); rank ``r`` gets slice
    ``r``. With ``world=1`` it yields ``batches`` unchanged.

    Args:
        batches: sampler of global batches (lists of indices), e.g. a ``BatchSampler``.
        rank: this process's rank.
        world: number of processes.
    """

    def __init__(self, batches: Sampler, rank: int, world: int):
        self.batches = batches
        self.rank = rank
        self.world = world

    def __iter__(self):
        for batch in self.batches:
            m = len(batch)
            yield batch[self.rank * m // self.world:(self.rank + 1) * m // self.world]

    def __len__(self) -> int:
        return len(self.batches)


def empty_safe_collate(dataset: Dataset):
    """``default_collate``, except that an empty slice (a short last batch cut for more ranks
    than it has samples) gives empty tensors shaped like ``dataset``'s samples."""
    def collate(batch):
        if batch:
            return default_collate(batch)
        return [t[:0] for t in default_collate([dataset[0]])]
    return collate


class _AllReduceSum(torch.autograd.Function):
    """Differentiable sum over ranks: the gradient of a sum is the sum of the gradients."""

    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def _synced_forward(bn: _BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm in training mode with the mean and (biased) variance of the global batch."""
    if not bn.training:
        return type(bn).forward(bn, x)
    dims = [0] + list(range(2, x.dim()))
    shape = [1, -1] + [1] * (x.dim() - 2)
    count = x.new_tensor([x.numel() // x.shape[1]])                    # values per channel
    stats = _AllReduceSum.apply(torch.cat([x.sum(dims), count]))      # [C + 1]
    n = stats[-1].detach()
    if n <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {list(x.shape)} summed over all ranks.")
    mean = stats[:-1] / n                                             # [C]
    centered = x - mean.view(shape)
    var = _AllReduceSum.apply((centered * centered).sum(dims)) / n    # [C]
    y = centered * torch.rsqrt(var + bn.eps).view(shape)
    if bn.affine:
        y = y * bn.weight.view(shape) + bn.bias.view(shape)
    if bn.track_running_stats:
        with torch.no_grad():
            bn.num_batches_tracked.add_(1)
            f = 1.0 / bn.num_batches_tracked.item() if bn.momentum is None else bn.momentum
            bn.running_mean.mul_(1 - f).add_(mean.detach(), alpha=f)
            bn.running_var.mul_(1 - f).add_(var.detach() * (n / (n - 1)), alpha=f)
    return y


@contextlib.contextmanager
def synced_batchnorm(model: nn.Module):
    """Within the block, ``model``'s BatchNorm layers use global-batch statistics in training
    mode (every rank must run the same layers in the same order). Restored on exit."""
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    for m in bns:
        m.forward = _synced_forward.__get__(m)
    try:
        yield
    finally:
        for m in bns:
            del m.forward


def all_reduce_grads(model: nn.Module) -> None:
    """Sum the gradients of ``model`` over ranks, in place, as one flat buffer.

    Parameters without a gradient keep none (an optimizer skips them, as in one process); the
    ranks ran the same paths, so they agree on which parameters have one.
    """
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])                  # [total numel]
    dist.all_reduce(flat)
    for g, part in zip(grads, flat.split([g.numel() for g in grads])):
        g.copy_(part.view_as(g))


def broadcast_model(model: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (as ``DistributedDataParallel``)."""
    with torch.no_grad():
        for t in model.state_dict().values():
            dist.broadcast(t, src=0)


def check_same_on_all_ranks(value, what: str, device="cpu") -> None:
    """Raise ``ValueError`` unless ``repr(value)`` is the same on every rank (``device``: where
    the backend communicates, e.g. CUDA for NCCL)."""
    digest = hashlib.sha256(repr(value).encode()).digest()[:7]
    mine = torch.tensor([int.from_bytes(digest, "little")], dtype=torch.int64, device=device)
    rank, world = rank_and_world()
    every = [torch.zeros_like(mine) for _ in range(world)]
    dist.all_gather(every, mine)
    differ = [r for r, d in enumerate(every) if d.item() != mine.item()]
    if differ:
        raise ValueError(f"Rank {rank} and rank(s) {differ} differ in {what}; every process must "
                         f"be started with the same arguments and see the same files.")

"""The training loop of supernets and stand-alone networks, with exact resume from the
checkpoints of :mod:`supernet.checkpoint`."""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler
from tqdm.auto import tqdm

from archgraph.utils import check_int, check_positive
from archgraph.utils.locks import OutputLockedError, check_timeout, output_lock
from supernet.checkpoint import resume_checkpoint, save_checkpoint, training_fingerprint
from supernet.data import check_batch, check_dataset
from supernet.distributed import (
    ShardedBatchSampler,
    all_reduce_grads,
    broadcast_model,
    check_same_on_all_ranks,
    empty_safe_collate,
    rank_and_world,
    resolve_device,
    synced_batchnorm,
)


def train(model: nn.Module, train_data: Dataset, epochs: int, sampler=None,
          batch_size: int = 64, lr: float | None = None, momentum: float | None = None,
          weight_decay: float | None = None, label_smoothing: float = 0.0,
          optimizer: Callable | None = None, checkpoint=None, stop_after: int | None = None,
          random_state: int = 0, device="cpu", progress: bool = True,
          lock_timeout: float | None = 0.0) -> list[dict]:
    r"""Train ``model`` for ``epochs`` epochs; a supernet when ``sampler`` is given.

    Each step takes one mini-batch. With a ``sampler`` (a supernet) the step's paths
    ``sampler.sample()`` (one for SPOS, ``O`` for strict-fair FairNAS) each run forward and
    backward on the batch with loss :math:`\frac{1}{P}\,\mathrm{CE}(f(x, a_p), y)`, gradients
    accumulate, then ONE optimizer step (Chu et al., ICCV 2021). Without one, ``model(x)`` is
    trained as an ordinary network. The learning rate follows a per-step cosine schedule from
    its initial value to 0 over all ``epochs``.

    Checkpoint and resume: with ``checkpoint`` a path, the model, optimizer, schedule, data
    order RNG and sampler RNG are written there after every epoch (atomically: a crash never
    leaves a half-written file). If the file exists, training resumes from it, and the weights
    at the end equal those of an uninterrupted run with the same seeds. A checkpoint written
    with different settings (model, config, hyperparameters, sampler) or a corrupted one is
    refused with a ``ValueError`` before anything is loaded. The hyperparameters compared
    include those of every param group of the optimizer (``lr``, ``momentum``, ``betas``,
    ...), also of a user-supplied one.

    A model with a ``before_epoch(epoch, optimizer)`` method has it called before each epoch
    (1-based), also after a resume: a supernet with split weights splits there
    (:meth:`~supernet.chain_supernet.ChainSupernet.before_epoch`).

    Data: images and labels must fit the model's ``config`` (``ValueError``); they are checked
    up front where the labels are at hand (see :func:`supernet.data.check_dataset`), else in
    each batch before it is used.

    One run per checkpoint: with ``checkpoint`` a path, the run holds an exclusive lock of it
    (:func:`archgraph.utils.locks.output_lock`; rank 0 holds it for all ranks) from reading it
    to the last write. A second run on the same path is refused with
    :class:`~archgraph.utils.locks.OutputLockedError` naming the holder (host, pid), or waits
    ``lock_timeout`` seconds for it (``None``: as long as it takes), then resumes its
    checkpoint.

    Several processes (data parallel): when a ``torch.distributed`` process group is
    initialized (e.g. the script runs under ``torchrun``), the same call trains on all ranks
    together, without code changes. ``batch_size`` is then per rank: every rank draws the same
    global batch of ``world_size * batch_size`` samples (the order of a single process) and
    takes its contiguous slice; every rank samples the same paths (same sampler seed);
    BatchNorm layers use the statistics of the global batch; gradients are summed over ranks
    after weighting each rank's loss by its share of the global batch. So N processes with
    batch size B end with the weights of one process with batch size N*B (up to float
    rounding, which training amplifies as it would any 1e-7 change of the weights), and a
    checkpoint of one can be resumed by the other. Only rank 0 writes the checkpoint and shows
    the progress bar; all ranks resume from it (put it on a file system every rank sees).
    Rank 0's weights are copied to all ranks at the start; different data or sampler seeds on
    different ranks are refused, and so are processes launched (``WORLD_SIZE`` > 1) without a
    process group (``RuntimeError``). For example, with a script
    ``train_supernet.py`` calling ``torch.distributed.init_process_group("gloo")`` (``"nccl"``
    on GPUs) and then this function::

        torchrun --standalone --nproc_per_node=2 train_supernet.py
        torchrun --nnodes=2 --nproc_per_node=4 --rdzv-backend=c10d \
            --rdzv-endpoint=HOST:29500 train_supernet.py          # on each of 2 machines

    or the ready-made command line (:func:`supernet.cli.main`): ``torchrun --standalone
    --nproc_per_node=2 -m supernet --space digits5 --checkpoint supernet.pt``.

    Args:
        model: a :class:`~supernet.SuperNet` (with ``sampler``) or any ``nn.Module``.
        train_data: a torch ``Dataset`` of ``(image, label)`` pairs.
        epochs: total epochs of the schedule.
        sampler: path sampler (:class:`~supernet.samplers.UniformSampler`,
            :class:`~supernet.samplers.StrictFairSampler`); its ``rng`` is checkpointed.
        batch_size: mini-batch size (per rank when distributed).
        lr, momentum, weight_decay: SGD settings (default 0.05, 0.9, 4e-5; Nesterov). Leave
            them ``None`` when passing ``optimizer``.
        label_smoothing: label smoothing of the cross-entropy, in [0, 1).
        optimizer: factory ``params -> torch.optim.Optimizer`` replacing SGD, e.g.
            ``functools.partial(torch.optim.Adam, lr=1e-3)``.
        checkpoint: path of the checkpoint file (``None``: no checkpoint).
        stop_after: stop after this epoch (a time-boxed run to be resumed later).
        random_state: seed of the data order.
        device: device of training (the model is moved there); when distributed, ``"cuda"``
            means ``cuda:LOCAL_RANK``.
        progress: show a progress bar (rank 0 only).
        lock_timeout: seconds to wait for another run of the same ``checkpoint``: ``0``
            (default) refuses at once, ``None`` waits as long as it takes.

    Returns:
        One dict per epoch trained so far (resumed ones included): ``epoch``, ``loss``,
        ``train_acc``, ``lr``, ``seconds``.
    """
    owner = "train"
    epochs = check_int(epochs, "epochs", owner, low=1)
    batch_size = check_int(batch_size, "batch_size", owner, low=1)
    check_int(random_state, "random_state", owner)
    if stop_after is not None:
        stop_after = check_int(stop_after, "stop_after", owner, low=1, high=epochs)
    check_timeout(lock_timeout, "lock_timeout", owner)
    if not 0 <= label_smoothing < 1:
        raise ValueError(f"The 'label_smoothing' parameter of {owner} must be a float in "
                         f"[0, 1). Got {label_smoothing!r} instead.")
    if optimizer is not None:
        given = [n for n, v in (("lr", lr), ("momentum", momentum),
                                ("weight_decay", weight_decay)) if v is not None]
        if given:
            raise ValueError(f"The {given} parameter(s) of {owner} apply to the default SGD only; "
                             f"pass them to your 'optimizer' factory instead.")
        opt = optimizer(model.parameters())
    else:
        lr = check_positive(0.05 if lr is None else lr, "lr", owner)
        momentum = 0.9 if momentum is None else float(momentum)
        weight_decay = 4e-5 if weight_decay is None else float(weight_decay)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                              weight_decay=weight_decay, nesterov=momentum > 0)
    config = getattr(model, "config", None)
    if config is not None:
        check_dataset(train_data, config, "train_data", owner)
    if sampler is not None and getattr(model, "space", None) is not None and (
            sampler.space.name != model.space.name):
        raise ValueError(f"The 'sampler' parameter of {owner} samples the "
                         f"{sampler.space.name!r} space. Expected the model's "
                         f"{model.space.name!r} space.")

    rank, world = rank_and_world()
    device = resolve_device(device, rank, world)
    model.to(device)
    # read the optimizer's settings before the scheduler adds its own ('initial_lr')
    fingerprint = training_fingerprint(
        model, opt, sampler, epochs=epochs, batch_size=batch_size * world, lr=lr,
        momentum=momentum, weight_decay=weight_decay, label_smoothing=label_smoothing,
        random_state=random_state, num_train=len(train_data))
    gen = torch.Generator().manual_seed(random_state)
    # every rank draws the global batches of one process and takes its slice of each
    batches = BatchSampler(RandomSampler(train_data, generator=gen), batch_size * world,
                           drop_last=False)
    loader = DataLoader(train_data, batch_sampler=ShardedBatchSampler(batches, rank, world),
                        collate_fn=empty_safe_collate(train_data), generator=gen)
    steps = epochs * len(loader)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    with _checkpoint_lock(checkpoint, lock_timeout, device):
        history: list[dict] = []
        if checkpoint is not None and Path(checkpoint).exists():
            history = resume_checkpoint(checkpoint, fingerprint, model, opt, sched, gen, sampler)
        if world > 1:
            check_same_on_all_ranks(
                (fingerprint, len(history), gen.get_state().tolist(),
                 sampler.rng.bit_generator.state if sampler is not None else None),
                "training settings, data seed, sampler seed or resumed checkpoint", device)
            broadcast_model(model)
        last = epochs if stop_after is None else stop_after
        bar = tqdm(range(len(history), last), desc="train", disable=not progress or rank != 0,
                   unit="epoch")
        with synced_batchnorm(model) if world > 1 else contextlib.nullcontext():
            for epoch in bar:
                if hasattr(model, "before_epoch"):  # e.g. split weights (supernet.interchoice)
                    model.before_epoch(epoch + 1, opt)
                history.append(_epoch(epoch + 1, model, loader, sampler, opt, sched, criterion,
                                      device, len(train_data), batch_size * world, world, config))
                bar.set_postfix(loss=f"{history[-1]['loss']:.3f}",
                                acc=f"{history[-1]['train_acc']:.3f}")
                if checkpoint is not None and rank == 0:
                    save_checkpoint(checkpoint, fingerprint, history, model, opt, sched, gen,
                                    sampler)
                if checkpoint is not None and world > 1:
                    dist.barrier()  # the checkpoint is complete when any rank goes on
        return history


@contextlib.contextmanager
def _checkpoint_lock(checkpoint, lock_timeout, device):
    """Hold the lock of ``checkpoint`` (rank 0) inside the block; every rank raises if rank 0
    cannot take it, so no rank waits for the others in a collective."""
    if checkpoint is None:
        yield
        return
    rank, world = rank_and_world()
    with contextlib.ExitStack() as stack:
        error = None
        if rank == 0:
            try:
                stack.enter_context(output_lock(
                    checkpoint, lock_timeout, "checkpoint",
                    "another training run writes it; wait for it (lock_timeout=None, "
                    "'python -m supernet --wait') or pass another 'checkpoint' path"))
            except OutputLockedError as exc:
                error = exc
        if world > 1:
            failed = torch.tensor([float(error is not None)], device=device)
            dist.all_reduce(failed)
            if failed.item() and error is None:
                raise RuntimeError(f"Rank 0 could not lock the checkpoint {str(checkpoint)!r}: "
                                   f"another training run writes it (see rank 0's message).")
        if error is not None:
            raise error
        yield


def _epoch(epoch, model, loader, sampler, opt, sched, criterion, device, num_train,
           global_batch, world, config) -> dict:
    """Train epoch number ``epoch``; its loss and accuracy are over the whole data (all
    ranks)."""
    t0 = time.perf_counter()
    model.train()
    total_loss = correct = 0.0
    for step, (x, y) in enumerate(loader):
        if config is not None and len(y):
            check_batch(x, y, config, "train_data", "train")
        x, y = x.to(device), y.to(device)                    # [b, C, R, R], [b]
        # share of the global batch: the weighted local means add up to the global mean
        share = len(y) / min(global_batch, num_train - step * global_batch)
        opt.zero_grad(set_to_none=True)
        paths = sampler.sample() if sampler is not None else [None]
        for arch in paths:
            logits = model(x) if arch is None else model(x, arch)   # [b, num_classes]
            if len(y):
                loss = criterion(logits, y) / len(paths)
                total_loss += loss.item() * len(y)
                correct += (logits.argmax(1) == y).sum().item() / len(paths)
            else:  # an empty slice of a short last batch still joins the collectives
                loss = logits.sum() * 0.0
            (loss * share).backward()
        if world > 1:
            all_reduce_grads(model)
        opt.step()
        sched.step()
    totals = torch.tensor([total_loss, correct], dtype=torch.float64, device=device)
    if world > 1:
        dist.all_reduce(totals)
    return dict(epoch=epoch, loss=totals[0].item() / num_train,
                train_acc=totals[1].item() / num_train, lr=sched.get_last_lr()[0],
                seconds=time.perf_counter() - t0)

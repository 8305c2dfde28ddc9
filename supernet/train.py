"""The training loop of supernets and stand-alone networks, with exact checkpoint/resume, and
the training command line (``python -m supernet``, see :func:`main`)."""
from __future__ import annotations

import argparse
import contextlib
import copy
import numbers
import os
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler
from tqdm.auto import tqdm

from archgraph.utils.io import atomic_path
from archgraph.utils.validation import check_int, check_positive
from supernet.data import check_batch, check_dataset
from supernet.distributed import (ShardedBatchSampler, all_reduce_grads, broadcast_model,
                                  check_same_on_all_ranks, empty_safe_collate, rank_and_world,
                                  resolve_device, synced_batchnorm)

#: tag of the checkpoints written by :func:`train`
CHECKPOINT_FORMAT = "supernet.train/1"


def train(model: nn.Module, train_data: Dataset, epochs: int, sampler=None,
          batch_size: int = 64, lr: float | None = None, momentum: float | None = None,
          weight_decay: float | None = None, label_smoothing: float = 0.0,
          optimizer: Callable | None = None, checkpoint=None, stop_after: int | None = None,
          random_state: int = 0, device="cpu", progress: bool = True) -> list[dict]:
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

    Data: images and labels must fit the model's ``config`` (``ValueError``); they are checked
    up front where the labels are at hand (see :func:`supernet.data.check_dataset`), else in
    each batch before it is used.

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

    or the ready-made command line (:func:`main`): ``torchrun --standalone --nproc_per_node=2
    -m supernet --space digits5 --checkpoint supernet.pt``.

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
        opt_name = type(opt).__name__
    else:
        lr = check_positive(0.05 if lr is None else lr, "lr", owner)
        momentum = 0.9 if momentum is None else float(momentum)
        weight_decay = 4e-5 if weight_decay is None else float(weight_decay)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                              weight_decay=weight_decay, nesterov=momentum > 0)
        opt_name = "SGD"
    opt_groups = _param_group_settings(opt)
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
    gen = torch.Generator().manual_seed(random_state)
    # every rank draws the global batches of one process and takes its slice of each
    batches = BatchSampler(RandomSampler(train_data, generator=gen), batch_size * world,
                           drop_last=False)
    loader = DataLoader(train_data, batch_sampler=ShardedBatchSampler(batches, rank, world),
                        collate_fn=empty_safe_collate(train_data), generator=gen)
    steps = epochs * len(loader)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    fingerprint = dict(
        model=type(model).__name__, space=getattr(getattr(model, "space", None), "name", None),
        config=config.to_dict() if config is not None else None,
        parameters=[[k, list(v.shape)] for k, v in model.state_dict().items()],
        epochs=epochs, batch_size=batch_size * world, lr=lr, momentum=momentum,
        weight_decay=weight_decay, label_smoothing=float(label_smoothing), optimizer=opt_name,
        optimizer_groups=opt_groups,
        sampler=repr(sampler) if sampler is not None else None, random_state=random_state,
        num_train=len(train_data))

    history: list[dict] = []
    if checkpoint is not None and Path(checkpoint).exists():
        history = _load(checkpoint, fingerprint, model, opt, sched, gen, sampler)
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
            history.append(_epoch(epoch + 1, model, loader, sampler, opt, sched, criterion,
                                  device, len(train_data), batch_size * world, world, config))
            bar.set_postfix(loss=f"{history[-1]['loss']:.3f}",
                            acc=f"{history[-1]['train_acc']:.3f}")
            if checkpoint is not None and rank == 0:
                _save(checkpoint, fingerprint, model, opt, sched, gen, sampler, history)
            if checkpoint is not None and world > 1:
                dist.barrier()  # the checkpoint is complete when any rank goes on
    return history


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


def _param_group_settings(opt: torch.optim.Optimizer) -> list[dict]:
    """The plain-valued settings of each param group of ``opt`` (numbers, flags, strings,
    tuples of numbers such as ``betas``; one-element tensors as numbers): what identifies its
    hyperparameters in the checkpoint fingerprint."""
    def plain(v):
        if isinstance(v, torch.Tensor) and v.numel() == 1:
            v = v.item()
        if isinstance(v, (tuple, list)):
            v = [plain(e) for e in v]
            return None if None in v else v
        return v if isinstance(v, (numbers.Number, str)) else None

    return [{k: plain(v) for k, v in sorted(group.items())
             if k != "params" and (v is None or plain(v) is not None)}
            for group in opt.param_groups]


def _save(path, fingerprint, model, opt, sched, gen, sampler, history) -> None:
    state = dict(format=CHECKPOINT_FORMAT, fingerprint=fingerprint, history=history,
                 model=model.state_dict(), optimizer=opt.state_dict(),
                 scheduler=sched.state_dict(), data_rng=gen.get_state(),
                 sampler_rng=sampler.rng.bit_generator.state if sampler is not None else None)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path) -> dict:
    """Read a checkpoint of :func:`train` (``weights_only=True``); ``ValueError`` if it is
    corrupted or not such a checkpoint."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ValueError(f"Checkpoint {str(path)!r} is corrupted or not a checkpoint of "
                         f"supernet.train: {type(exc).__name__}: {exc}") from exc
    keys = {"format", "fingerprint", "history", "model", "optimizer", "scheduler", "data_rng",
            "sampler_rng"}
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT or (
            keys - set(state)):
        raise ValueError(f"Checkpoint {str(path)!r} is corrupted or not a checkpoint of "
                         f"supernet.train: expected a dict with format {CHECKPOINT_FORMAT!r} and "
                         f"keys {sorted(keys)}.")
    return state


def _load(path, fingerprint, model, opt, sched, gen, sampler) -> list[dict]:
    state = load_checkpoint(path)
    theirs = state["fingerprint"]
    diff = [k for k in sorted(set(fingerprint) | set(theirs)) if fingerprint.get(k) != theirs.get(k)]
    if diff:
        k = diff[0]
        raise ValueError(f"Checkpoint {str(path)!r} was written by a different training setup "
                         f"and cannot be resumed: {', '.join(diff)} differ (e.g. {k!r} is "
                         f"{_short(theirs.get(k))} there, {_short(fingerprint.get(k))} here). "
                         f"Remove the file or pass another 'checkpoint' path.")
    backup = (copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()),
              sched.state_dict(), gen.get_state(),
              sampler.rng.bit_generator.state if sampler is not None else None)
    try:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["data_rng"])
        if sampler is not None:
            sampler.rng.bit_generator.state = state["sampler_rng"]
    except Exception as exc:  # never leave the model half-loaded
        model.load_state_dict(backup[0])
        opt.load_state_dict(backup[1])
        sched.load_state_dict(backup[2])
        gen.set_state(backup[3])
        if sampler is not None:
            sampler.rng.bit_generator.state = backup[4]
        raise ValueError(f"Checkpoint {str(path)!r} is corrupted: {type(exc).__name__}: "
                         f"{exc}") from exc
    return list(state["history"])


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def main(argv: list[str] | None = None) -> int:
    """``python -m supernet``: train a supernet on the digits training split.

    The checkpoint is the one ``archgraph dataset build --evaluator supernet --option
    checkpoint=PATH`` reads; rerunning the command resumes it. Under ``torchrun`` every process
    trains its slice of each batch (``--batch-size`` is per process), e.g.
    ``torchrun --standalone --nproc_per_node=2 -m supernet --space digits5 --checkpoint sn.pt``.
    Returns the exit status (2 on bad arguments).
    """
    prog = "python -m supernet"
    p = argparse.ArgumentParser(prog=prog, description=(
        "Train a weight-sharing supernet on scikit-learn's 8x8 digits (training split)."))
    p.add_argument("--space", default="digits5",
                   help="registered chain space or nasbench201 (default: digits5)")
    p.add_argument("--epochs", type=int, default=30, help="epochs of the schedule (default 30)")
    p.add_argument("--sampler", choices=("uniform", "fair"), default="uniform",
                   help="uniform single-path (SPOS) or strict-fair (FairNAS) sampling")
    p.add_argument("--checkpoint", required=True,
                   help="checkpoint file, written after every epoch and resumed if present")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights, the data order and the paths (default 0)")
    p.add_argument("--batch-size", type=int, default=64, help="batch size per process")
    p.add_argument("--lr", type=float, default=0.05, help="initial SGD learning rate")
    p.add_argument("--width-mult", type=float, default=1.0, help="channel multiplier")
    p.add_argument("--label-smoothing", type=float, default=0.0, help="in [0, 1)")
    p.add_argument("--stop-after", type=int, default=None,
                   help="stop after this epoch (resume later with the same command)")
    p.add_argument("--device", default="cpu",
                   help="cpu (default) or cuda (cuda:LOCAL_RANK under torchrun)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    own_group = False
    try:
        from archgraph.spaces import get_search_space, list_search_spaces
        from archgraph.utils.validation import check_one_of
        from supernet.config import SupernetConfig
        from supernet.data import load_digits
        from supernet.samplers import StrictFairSampler, UniformSampler
        from supernet.supernet import SuperNet

        space = get_search_space(check_one_of(args.space, "--space", list_search_spaces(), prog))
        config = SupernetConfig(width_mult=args.width_mult, input_resolution=8, in_channels=1,
                                num_classes=10)
        net = SuperNet(space, config, random_state=args.seed)
        sampler = (UniformSampler if args.sampler == "uniform" else StrictFairSampler)(
            space, args.seed)
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if args.device.startswith("cuda") else "gloo")
            own_group = True
        history = train(net, load_digits("train"), args.epochs, sampler=sampler,
                        batch_size=args.batch_size, lr=args.lr,
                        label_smoothing=args.label_smoothing, checkpoint=args.checkpoint,
                        stop_after=args.stop_after, random_state=args.seed, device=args.device,
                        progress=not args.quiet)
        if rank_and_world()[0] == 0:
            last = history[-1]
            print(f"{args.checkpoint}: {space.name} supernet, epoch {last['epoch']}/"
                  f"{args.epochs}, loss {last['loss']:.3f}, train accuracy "
                  f"{100 * last['train_acc']:.1f}%")
    except (ValueError, TypeError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if own_group:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Predictor datasets built by several processes (``torchrun``): each rank evaluates its share
of every chunk, rank 0 gathers the results and writes the table.

The file is the one :func:`~archgraph.datasets.predictor_dataset.build_predictor_dataset`
writes for the same space, evaluator, ``n`` and seed, byte for byte, for evaluators that give
an architecture the same value whichever other architectures share its call (exact tables,
``noise="fixed"``, a supernet evaluator with a fixed recalibration seed). It is resumable the
same way: after every round of ``world_size * chunk_size`` architectures rank 0 rewrites it
atomically, so a killed job (any rank: ``torchrun`` stops all of them) redoes only the round in
flight when it is started again, with any number of processes.

Run it through the command line, which starts the process group (gloo on CPU) itself::

    torchrun --standalone --nproc_per_node 4 -m -- archgraph.cli dataset build \\
        --space nasbench201 --evaluator table --n 10000 --out nb201.parquet
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \\
        -m -- archgraph.cli dataset build ...      # on each machine

The ``--`` ends torchrun's own options (its prefix matching would take ``--n`` for
``--nnodes``). Only rank 0 reads and writes the file (put it where rank 0 runs); the other
ranks get the architectures to evaluate and the final table through the process group.
"""
from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from archgraph.datasets.predictor_dataset import _LOCK_HINT, _Job
from archgraph.spaces.search_space import SearchSpace
from archgraph.utils.locks import OutputLockedError, check_timeout, output_lock


def build_predictor_dataset_distributed(space: SearchSpace, evaluator, n: int, path,
                                        random_state: int = 0, chunk_size: int = 32,
                                        progress: bool = True,
                                        lock_timeout: float | None = 0.0) -> pd.DataFrame:
    """:func:`~archgraph.datasets.predictor_dataset.build_predictor_dataset` on all ranks of
    the initialized ``torch.distributed`` process group; every rank calls it with the same
    arguments (its own evaluator) and gets the whole table back.

    Each round takes the next ``world_size * chunk_size`` architectures still missing from the
    file, in sample order; rank ``r`` evaluates the ``r``-th slice of ``chunk_size`` of them;
    rank 0 gathers the accuracies in rank order (= sample order), appends the rows and rewrites
    the file. Rank 0 holds the lock of ``path`` for the whole job. An error on any rank (a
    refused file, a failing evaluator) is raised on every rank, so no rank waits forever.

    Raises:
        RuntimeError: no process group is initialized.
    """
    import torch.distributed as dist

    owner = "build_predictor_dataset_distributed"
    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(f"{owner} needs an initialized torch.distributed process group "
                           f"(torch.distributed.init_process_group, e.g. under torchrun).")
    rank, world = dist.get_rank(), dist.get_world_size()
    job = _Job.make(space, evaluator, n, path, random_state, chunk_size, owner)
    check_timeout(lock_timeout, "lock_timeout", owner)
    index = {k: i for i, k in enumerate(job.keys)}
    with contextlib.ExitStack() as stack:
        done, todo, error = pd.DataFrame(), [], None
        if rank == 0:
            try:
                stack.enter_context(output_lock(job.path, lock_timeout, "predictor-dataset table",
                                                _LOCK_HINT))
                done, todo = job.resume()
            except (ValueError, TypeError, OutputLockedError) as exc:
                error = exc
        # every rank learns the architectures left (as sample positions) or rank 0's error
        todo_idx = _share(dist, [index[k] for k, _ in todo] if error is None else None, error,
                          job.path)
        todo = [(job.keys[i], job.archs[i]) for i in todo_idx]
        step = world * chunk_size
        bar = tqdm(total=len(todo), desc="evaluate", disable=not progress or rank != 0,
                   unit="arch")
        for start in range(0, len(todo), step):
            block = todo[start:start + step]
            mine = block[rank * chunk_size:(rank + 1) * chunk_size]
            acc, error = np.zeros(0), None
            try:
                if mine:
                    acc = job.evaluate(evaluator, mine)
            except Exception as exc:  # raised on every rank below
                error = exc
            gathered = [None] * world if rank == 0 else None
            dist.gather_object((acc.tolist(), _describe_error(error)), gathered, dst=0)
            failure = None
            if rank == 0:
                failure = next((e for _, e in gathered if e is not None), None)
                if failure is None:
                    try:
                        done = job.append(done, block, np.concatenate(
                            [np.asarray(a, dtype=float) for a, _ in gathered]))
                    except (ValueError, OSError) as exc:
                        failure = _describe_error(exc)
            failure = _broadcast(dist, failure)
            if failure is not None:
                if error is not None:
                    raise error
                raise RuntimeError(f"{owner} stopped: {failure}")
            bar.update(len(block))
        bar.close()
        table = job.in_sample_order(done) if rank == 0 else None
    return _broadcast(dist, table)


def evaluate_sharded(evaluator, archs) -> np.ndarray:
    """``evaluator.evaluate(archs)`` shared by all ranks of the initialized process group: rank
    ``r`` evaluates the ``r``-th contiguous slice of ``archs`` and every rank gets all the
    accuracies, in the order of ``archs``. For large pools (a supernet evaluating tens of
    thousands of sub-networks); equal to one process's call for evaluators whose value of an
    architecture does not depend on the rest of the call (e.g. ``SupernetEvaluator``, whose
    recalibration batches are the same for every architecture). Every rank passes the same
    ``archs``; an error on any rank is raised on all of them.
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError("evaluate_sharded needs an initialized torch.distributed process "
                           "group (torch.distributed.init_process_group, e.g. under torchrun).")
    rank, world = dist.get_rank(), dist.get_world_size()
    archs = list(archs)
    bounds = np.linspace(0, len(archs), world + 1).round().astype(int)
    mine = archs[bounds[rank]:bounds[rank + 1]]
    acc, error = np.zeros(0), None
    try:
        if mine:
            acc = np.asarray(evaluator.evaluate(mine), dtype=float)
            if acc.shape != (len(mine),):
                raise ValueError(f"The evaluator returned shape {acc.shape} for {len(mine)} "
                                 f"architectures; expected ({len(mine)},).")
    except Exception as exc:  # raised on every rank below
        error = exc
    every = [None] * world
    dist.all_gather_object(every, (acc.tolist(), _describe_error(error)))
    failure = next((e for _, e in every if e is not None), None)
    if failure is not None:
        if error is not None:
            raise error
        raise RuntimeError(f"evaluate_sharded stopped: another rank failed: {failure}")
    return np.concatenate([np.asarray(a, dtype=float) for a, _ in every])


def _describe_error(exc: BaseException | None) -> str | None:
    return None if exc is None else f"{type(exc).__name__}: {exc}"


def _broadcast(dist, value):
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _share(dist, todo_idx, error, path):
    """Broadcast rank 0's list of sample positions left, or raise its ``error`` on every rank
    (the same message, as ``OutputLockedError`` or ``ValueError``)."""
    kind, message = (type(error).__name__, str(error)) if error is not None else (None, None)
    holder = getattr(error, "holder", None)
    todo_idx, kind, message, holder = _broadcast(dist, (todo_idx, kind, message, holder))
    if error is not None:
        raise error
    if kind == "OutputLockedError":
        raise OutputLockedError(message, path, holder)
    if kind is not None:
        raise ValueError(message)
    return todo_idx

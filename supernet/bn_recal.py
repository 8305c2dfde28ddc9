"""BatchNorm recalibration of a (sub-)network before evaluation."""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from archgraph.utils import check_int


@torch.no_grad()
def recalibrate_bn(model: nn.Module, batches: Iterable, num_batches: int, arch=None,
                   reset: bool = True) -> nn.Module:
    """Recompute the running statistics of ``model``'s BatchNorm layers on training batches.

    A sub-network inherits BatchNorm statistics accumulated over many different paths, which
    do not match its own activations; recomputing them on a few training batches is the
    standard fix (Guo et al., ECCV 2020, SPOS). With ``reset=True`` each BatchNorm layer the
    batches reach is reset and then averages the batch statistics exactly (cumulative moving
    average, ``momentum=None``); with ``reset=False`` the existing statistics are updated with
    the layers' own momentum. Layers the batches do not reach (options of other paths) are left
    untouched, and so is everything except running statistics: parameters, ``training`` flags
    and momenta are restored.

    Args:
        model: a supernet (then ``arch`` is required) or a stand-alone network.
        batches: iterable of ``(x, y)`` pairs or ``x`` tensors, e.g. a ``DataLoader``.
        num_batches: number of batches to use (>= 1); fewer are used if ``batches`` ends.
        arch: the architecture, passed as ``model(x, arch)`` when given.
        reset: reset the statistics first (see above).

    Returns:
        ``model``.
    """
    num_batches = check_int(num_batches, "num_batches", "recalibrate_bn", low=1)
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    momenta = {m: m.momentum for m in bns}
    modes = {m: m.training for m in model.modules()}

    def first_use(module, _):
        module.reset_running_stats()
        module.momentum = None  # cumulative average of the batch statistics
        hooks.pop(module).remove()

    hooks = {m: m.register_forward_pre_hook(first_use) for m in bns} if reset else {}
    used = 0
    try:
        model.train()
        for batch in batches:
            if used == num_batches:
                break
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            model(x) if arch is None else model(x, arch)
            used += 1
    finally:
        for h in hooks.values():
            h.remove()
        for m, mom in momenta.items():
            m.momentum = mom
        for m, mode in modes.items():
            m.training = mode
    if used == 0:
        raise ValueError("The 'batches' parameter of recalibrate_bn must yield at least one "
                         "batch. Got an empty iterable.")
    return model

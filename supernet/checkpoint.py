"""Checkpoints of :func:`supernet.train.train`: what identifies a training run (its
fingerprint), atomic saving, and loading for an exact resume (``weights_only=True``)."""
from __future__ import annotations

import copy
import numbers

import torch
from torch import nn

from archgraph.utils import atomic_path
from archgraph.utils.io import CHECKSUM_KEY, check_digest, state_digest

#: tag of the checkpoints written by :func:`supernet.train.train`
CHECKPOINT_FORMAT = "supernet.train/1"
#: the entries of a checkpoint
CHECKPOINT_KEYS = frozenset({"format", "fingerprint", "history", "model", "optimizer",
                             "scheduler", "data_rng", "sampler_rng"})


def training_fingerprint(model: nn.Module, optimizer: torch.optim.Optimizer, sampler, *,
                         epochs: int, batch_size: int, lr: float | None,
                         momentum: float | None, weight_decay: float | None,
                         label_smoothing: float, random_state: int, num_train: int) -> dict:
    """The settings of a training run, as plain values: a checkpoint resumes only the run of
    an equal fingerprint.

    Holds the model's class, space, config and parameter shapes, the optimizer's class and the
    plain-valued settings of each of its param groups (:func:`param_group_settings`, also of a
    user-supplied optimizer), the sampler's ``repr`` and the training arguments
    (``batch_size`` is the global batch of all ranks).
    """
    config = getattr(model, "config", None)
    return dict(
        model=type(model).__name__, space=getattr(getattr(model, "space", None), "name", None),
        config=config.to_dict() if config is not None else None,
        parameters=[[k, list(v.shape)] for k, v in model.state_dict().items()],
        epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
        weight_decay=weight_decay, label_smoothing=float(label_smoothing),
        optimizer=type(optimizer).__name__, optimizer_groups=param_group_settings(optimizer),
        sampler=repr(sampler) if sampler is not None else None, random_state=random_state,
        num_train=num_train)


def param_group_settings(optimizer: torch.optim.Optimizer) -> list[dict]:
    """The plain-valued settings of each param group of ``optimizer`` (numbers, flags, strings,
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
            for group in optimizer.param_groups]


def save_checkpoint(path, fingerprint: dict, history: list[dict], model: nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler, data_rng: torch.Generator,
                    sampler) -> None:
    """Write the state of a training run to ``path`` atomically (a crash never leaves a
    half-written file): model, optimizer, schedule, data order RNG, sampler RNG."""
    state = dict(format=CHECKPOINT_FORMAT, fingerprint=fingerprint, history=history,
                 model=model.state_dict(), optimizer=optimizer.state_dict(),
                 scheduler=scheduler.state_dict(), data_rng=data_rng.get_state(),
                 sampler_rng=sampler.rng.bit_generator.state if sampler is not None else None)
    state[CHECKSUM_KEY] = state_digest(state)  # verified by load_checkpoint
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path) -> dict:
    """Read a checkpoint of :func:`~supernet.train.train` (``weights_only=True``);
    ``ValueError`` if it is corrupted (its SHA-256 content checksum, stored under ``sha256``,
    does not match) or not such a checkpoint."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()  # one line: torch's unpickling advice is long
        raise ValueError(f"Checkpoint {str(path)!r} is corrupted or not a checkpoint of "
                         f"supernet.train: {type(exc).__name__}: {first[0] if first else ''}"
                         ) from exc
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT or (
            CHECKPOINT_KEYS - set(state)):
        raise ValueError(f"Checkpoint {str(path)!r} is corrupted or not a checkpoint of "
                         f"supernet.train: expected a dict with format {CHECKPOINT_FORMAT!r} and "
                         f"keys {sorted(CHECKPOINT_KEYS)}.")
    stored = state.pop(CHECKSUM_KEY, None)
    check_digest(path, stored, state_digest(state), "checkpoint")
    return state


def resume_checkpoint(path, fingerprint: dict, model: nn.Module,
                      optimizer: torch.optim.Optimizer, scheduler, data_rng: torch.Generator,
                      sampler) -> list[dict]:
    """Load the checkpoint at ``path`` into the given training state and return its history.

    A checkpoint of another fingerprint is refused with a ``ValueError`` naming the settings
    that differ, before anything is loaded; if loading fails part-way (a corrupted file), the
    state is restored as it was and a ``ValueError`` raised.
    """
    state = load_checkpoint(path)
    theirs = state["fingerprint"]
    diff = [k for k in sorted(set(fingerprint) | set(theirs))
            if fingerprint.get(k) != theirs.get(k)]
    if diff:
        k = diff[0]
        raise ValueError(f"Checkpoint {str(path)!r} was written by a different training setup "
                         f"and cannot be resumed: {', '.join(diff)} differ (e.g. {k!r} is "
                         f"{_short(theirs.get(k))} there, {_short(fingerprint.get(k))} here). "
                         f"Remove the file or pass another 'checkpoint' path.")
    backup = (copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()),
              scheduler.state_dict(), data_rng.get_state(),
              sampler.rng.bit_generator.state if sampler is not None else None)
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        data_rng.set_state(state["data_rng"])
        if sampler is not None:
            sampler.rng.bit_generator.state = state["sampler_rng"]
    except Exception as exc:  # never leave the model half-loaded
        model.load_state_dict(backup[0])
        optimizer.load_state_dict(backup[1])
        scheduler.load_state_dict(backup[2])
        data_rng.set_state(backup[3])
        if sampler is not None:
            sampler.rng.bit_generator.state = backup[4]
        raise ValueError(f"Checkpoint {str(path)!r} is corrupted: {type(exc).__name__}: "
                         f"{exc}") from exc
    return list(state["history"])


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."

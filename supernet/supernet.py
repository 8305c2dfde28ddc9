"""``SuperNet``: the base class of the weight-sharing supernets (build one with
:func:`supernet.build_supernet`)."""
from __future__ import annotations

import torch
from torch import nn

from archgraph.spaces import ProductSpace
from supernet.config import SupernetConfig
from supernet.interchoice import copy_state


class SuperNet(nn.Module):
    """A weight-sharing supernet holding every option of every layer of ``space``.

    The kinds of supernet derive from it: :class:`~supernet.chain_supernet.ChainSupernet`
    (chain spaces: FairNAS, ProxylessNAS, NAS-Bench-Macro, user-declared),
    :class:`~supernet.nb201_supernet.NB201Supernet` (NAS-Bench-201) and
    :class:`~supernet.splitting.SplitSupernet`; :func:`~supernet.build_supernet` picks the one
    that fits a space. The architecture is an explicit argument of :meth:`forward` (no hidden
    "active subnet" state), so any number of paths can be run in any order.

    Args:
        space: a space of :attr:`space_type` (or a subspace of one: its whole space is built
            and its architectures are accepted).
        config: a :class:`SupernetConfig`; default the space's published network.
        random_state: seed of the weight initialization (drawn from a forked torch RNG, the
            global one is left untouched); ``None`` uses torch's global RNG.

    Attributes:
        space: the space whose architectures :meth:`forward` accepts.
        config: the resolved config (no ``None`` fields left).

    Shapes:
        ``forward(x, arch)``: ``[B, in_channels, R, R] -> [B, num_classes]`` logits.
    """

    #: class of the root spaces a kind builds (set by each kind)
    space_type: type[ProductSpace]

    def __init__(self, space: ProductSpace, config: SupernetConfig | None = None, *,
                 random_state: int | None = 0):
        owner = type(self).__name__
        if type(self) is SuperNet:
            raise TypeError("SuperNet is the base class of the supernet kinds; build the "
                            "supernet of a space with build_supernet(space, config).")
        super().__init__()
        if not (isinstance(space, ProductSpace) and isinstance(space.root, self.space_type)):
            raise TypeError(f"The 'space' parameter of {owner} must be a "
                            f"{self.space_type.__name__} or a subspace of one. Got "
                            f"{type(space).__name__} {getattr(space, 'name', '')!r} instead.")
        if config is None:
            config = SupernetConfig()
        if not isinstance(config, SupernetConfig):
            raise TypeError(f"The 'config' parameter of {owner} must be a SupernetConfig. "
                            f"Got {type(config).__name__} instead.")
        if random_state is not None and (not isinstance(random_state, int)
                                         or isinstance(random_state, bool)):
            raise TypeError(f"The 'random_state' parameter of {owner} must be None or an int. "
                            f"Got {random_state!r} instead.")
        self.space = space
        self.config = config.resolve(space)
        with torch.random.fork_rng(devices=[]):
            if random_state is not None:
                torch.manual_seed(random_state)
            self.build(space.root)

    def build(self, root: ProductSpace) -> None:  # pragma: no cover - implemented by the kinds
        """Create the modules of the supernet of ``root`` (the whole space)."""
        raise NotImplementedError

    def width(self, channels: int) -> int:
        """``channels`` scaled by the config's width multiplier (at least 1)."""
        return max(1, int(round(channels * self.config.width_mult)))

    def choices(self, arch) -> tuple[int, ...]:
        """The validated per-layer choices of ``arch`` (an architecture of :attr:`space`)."""
        return self.space.validate(arch).choices

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` is ``[B, in_channels, R, R]`` of the config."""
        c, r = self.config.in_channels, self.config.input_resolution
        if x.dim() != 4 or tuple(x.shape[1:]) != (c, r, r):
            raise ValueError(f"The input of {type(self).__name__} must have shape "
                             f"[batch, {c}, {r}, {r}] (in_channels, input_resolution of its "
                             f"config). Got {list(x.shape)} instead.")

    def forward(self, x: torch.Tensor, arch) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------ split weights (supernet.interchoice)

    def split_pairs(self) -> list[tuple[nn.Module, list[nn.Module]]]:  # pragma: no cover
        """``(option, its copies)`` for every option split by :meth:`split_weights` (the kinds
        with split weights; built when ``config.split_weights_epoch`` is set)."""
        raise NotImplementedError

    @property
    def is_split(self) -> bool:
        """Whether the split weights have been split (:meth:`split_weights`)."""
        return hasattr(self, "split_done") and bool(self.split_done)

    @torch.no_grad()
    def split_weights(self, optimizer: torch.optim.Optimizer | None = None) -> None:
        """Split the weights (config ``split_weights_epoch``): every copy of an option
        (:meth:`split_pairs`) becomes a copy of it (weights, BatchNorm statistics and, with
        ``optimizer``, optimizer state), to be trained separately from now on."""
        if not hasattr(self, "split_done") or self.is_split:
            state = "already split" if self.is_split else "built without split weights"
            raise RuntimeError(f"split_weights needs a supernet built with split weights "
                               f"(SupernetConfig(split_weights_epoch=...)) that is not split "
                               f"yet; this {type(self).__name__} is {state}.")
        for op, copies in self.split_pairs():
            for c in copies:
                copy_state(op, c, optimizer)
        self.split_done.fill_(1)

    def before_epoch(self, epoch: int, optimizer: torch.optim.Optimizer) -> None:
        """Called by :func:`~supernet.train.train` before epoch ``epoch`` (1-based): splits
        split weights before epoch ``config.split_weights_epoch + 1``."""
        e = self.config.split_weights_epoch
        if e is not None and epoch > e and hasattr(self, "split_done") and not self.is_split:
            self.split_weights(optimizer)

    def extract_subnet(self, arch) -> nn.Module:  # pragma: no cover
        """A stand-alone module computing ``forward(x, arch)`` with copies of the weights."""
        raise NotImplementedError

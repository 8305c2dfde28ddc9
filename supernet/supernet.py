"""``SuperNet(space, config)``: the weight-sharing supernet of a search space."""
from __future__ import annotations

import torch
from torch import nn

from archgraph.spaces.product_space import ProductSpace
from archgraph.spaces.search_space import SearchSpace
from supernet.config import SupernetConfig


class SuperNet(nn.Module):
    """A weight-sharing supernet holding every option of every layer of ``space``.

    ``SuperNet(space, config)`` returns the subclass that fits the space: a
    :class:`~supernet.chain_supernet.ChainSupernet` for chain spaces (FairNAS, ProxylessNAS,
    NAS-Bench-Macro, user-declared), a :class:`~supernet.nb201_supernet.NB201Supernet` for
    NAS-Bench-201. The architecture is an explicit argument of :meth:`forward` (no hidden
    "active subnet" state), so any number of paths can be run in any order.

    Args:
        space: a chain space or the NAS-Bench-201 space (or a subspace of one: its whole space
            is built and its architectures are accepted).
        config: a :class:`SupernetConfig`; default the space's published network.
        random_state: seed of the weight initialization (drawn from a forked torch RNG, the
            global one is left untouched); ``None`` uses torch's global RNG.

    Attributes:
        space: the space whose architectures :meth:`forward` accepts.
        config: the resolved config (no ``None`` fields left).

    Shapes:
        ``forward(x, arch)``: ``[B, in_channels, R, R] -> [B, num_classes]`` logits.
    """

    def __new__(cls, space=None, config=None, random_state=None):
        if cls is SuperNet:
            from supernet.chain_supernet import ChainSupernet
            from supernet.nb201_supernet import NB201Supernet
            root = getattr(space, "root", space)
            if hasattr(root, "layers"):
                cls = ChainSupernet
            elif getattr(root, "name", None) == "nasbench201":
                cls = NB201Supernet
            else:
                raise TypeError(f"The 'space' parameter of SuperNet must be a chain space or the "
                                f"'nasbench201' space. Got {type(space).__name__} "
                                f"{getattr(space, 'name', '')!r} instead.")
        return super().__new__(cls)

    def __init__(self, space: SearchSpace, config: SupernetConfig | None = None,
                 random_state: int | None = None):
        super().__init__()
        if not isinstance(space, ProductSpace):
            raise TypeError(f"The 'space' parameter of SuperNet must be a ProductSpace. "
                            f"Got {type(space).__name__} instead.")
        if config is None:
            config = SupernetConfig()
        if not isinstance(config, SupernetConfig):
            raise TypeError(f"The 'config' parameter of SuperNet must be a SupernetConfig. "
                            f"Got {type(config).__name__} instead.")
        if random_state is not None and (not isinstance(random_state, int)
                                         or isinstance(random_state, bool)):
            raise TypeError(f"The 'random_state' parameter of SuperNet must be None or an int. "
                            f"Got {random_state!r} instead.")
        self.space = space
        self.config = config.resolve(space)
        with torch.random.fork_rng(devices=[]):
            if random_state is not None:
                torch.manual_seed(random_state)
            self.build(getattr(space, "root", space))

    def build(self, root) -> None:  # pragma: no cover - implemented by subclasses
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

    def extract_subnet(self, arch) -> nn.Module:  # pragma: no cover
        """A stand-alone module computing ``forward(x, arch)`` with copies of the weights."""
        raise NotImplementedError

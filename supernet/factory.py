"""``build_supernet(space, config)``: the supernet of a search space, of the kind that fits it."""
from __future__ import annotations

from archgraph.spaces import ProductSpace
from supernet.chain_supernet import ChainSupernet
from supernet.config import SupernetConfig
from supernet.nb201_supernet import NB201Supernet
from supernet.supernet import SuperNet

#: the kinds of supernet a space can be built as, each for the root spaces of its ``space_type``
KINDS: tuple[type[SuperNet], ...] = (ChainSupernet, NB201Supernet)


def build_supernet(space: ProductSpace, config: SupernetConfig | None = None, *,
                   random_state: int | None = 0) -> SuperNet:
    """The weight-sharing supernet of ``space``, of the kind that fits it.

    A :class:`~supernet.chain_supernet.ChainSupernet` for chain spaces (FairNAS, ProxylessNAS,
    NAS-Bench-Macro, digits, user-declared), a :class:`~supernet.nb201_supernet.NB201Supernet`
    for NAS-Bench-201; a subspace is built as its whole space and accepts its own
    architectures.

    >>> from archgraph.spaces import get_search_space
    >>> net = build_supernet(get_search_space("macro"),
    ...                      SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1))

    Args:
        space: a chain space or the NAS-Bench-201 space, or a subspace of one.
        config: a :class:`SupernetConfig`; default the space's published network.
        random_state: seed of the weight initialization (a forked torch RNG: the global one is
            left untouched); ``None`` draws from torch's global RNG.

    Returns:
        The supernet (an untrained :class:`~supernet.SuperNet`).
    """
    root = space.root if isinstance(space, ProductSpace) else space
    for kind in KINDS:
        if isinstance(root, kind.space_type):
            return kind(space, config, random_state=random_state)
    raise TypeError(f"The 'space' parameter of build_supernet must be a chain space or the "
                    f"'nasbench201' space (or a subspace of one). Got {type(space).__name__} "
                    f"{getattr(space, 'name', '')!r} instead.")

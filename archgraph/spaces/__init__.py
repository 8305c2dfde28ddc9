"""Search spaces: one canonical architecture representation and op vocabulary per space.

>>> from archgraph.spaces import get_search_space
>>> space = get_search_space("nasbench201")
>>> arch = space.sample(1, rng=0)[0]
>>> space.from_str(space.to_str(arch)) == arch
True
"""
from archgraph.spaces.base import ChoiceArch, ProductSpace, SearchSpace, Subspace
from archgraph.spaces.registry import get_search_space, list_search_spaces, register_search_space
from archgraph.spaces.chain import ChainLayer, ChainSpace
from archgraph.spaces.costs import OpSpec, parse_op
from archgraph.spaces.latency import LatencyLUT, load_latency_lut
from archgraph.spaces import (digits, fairnas, macro, nasbench101, nasbench201,  # noqa: F401
                              proxylessnas)  # (register spaces)

__all__ = ["ChainLayer", "ChainSpace", "ChoiceArch", "LatencyLUT", "OpSpec", "ProductSpace",
           "SearchSpace", "Subspace", "get_search_space", "list_search_spaces", "load_latency_lut",
           "parse_op", "register_search_space"]

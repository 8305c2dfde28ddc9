"""Search spaces: one canonical architecture representation and op vocabulary per space, the
graph schema of one architecture (``make_arch_graph``, ``validate_arch_graph``) and the
``Evaluator`` protocol of everything that turns a space's architectures into accuracies.

>>> from archgraph.spaces import get_search_space
>>> space = get_search_space("nasbench201")
>>> arch = space.sample(1, rng=0)[0]
>>> space.from_str(space.to_str(arch)) == arch
True
"""
from archgraph.spaces import digits, fairnas, macro, proxylessnas  # noqa: F401 (register spaces)
from archgraph.spaces.arch_graph import make_arch_graph, validate_arch_graph
from archgraph.spaces.chain import ChainLayer, ChainSpace
from archgraph.spaces.choice_arch import ChoiceArch
from archgraph.spaces.costs import OpSpec, parse_op
from archgraph.spaces.evaluator import Evaluator, check_evaluator
from archgraph.spaces.latency import LatencyLUT, load_latency_lut
from archgraph.spaces.nasbench101 import NASBench101Space, NB101Cell
from archgraph.spaces.nasbench201 import NASBench201Space
from archgraph.spaces.product_space import ProductSpace, Subspace
from archgraph.spaces.registry import (
    SEARCH_SPACES,
    get_search_space,
    list_search_spaces,
    register_search_space,
)
from archgraph.spaces.search_space import SearchSpace
from archgraph.spaces.signature import space_from_signature, space_signature

__all__ = ["ChainLayer", "ChainSpace", "ChoiceArch", "Evaluator", "LatencyLUT", "NASBench101Space",
           "NASBench201Space", "NB101Cell", "OpSpec", "ProductSpace", "SEARCH_SPACES",
           "SearchSpace", "Subspace", "check_evaluator", "get_search_space", "list_search_spaces",
           "load_latency_lut", "make_arch_graph", "parse_op", "register_search_space",
           "space_from_signature", "space_signature", "validate_arch_graph"]

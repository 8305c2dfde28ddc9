"""Search spaces: one canonical architecture representation and op vocabulary per space.

>>> from archgraph.spaces import get_search_space
>>> space = get_search_space("nasbench201")
>>> arch = space.sample(1, rng=0)[0]
>>> space.from_str(space.to_str(arch)) == arch
True
"""
from archgraph.spaces.base import ChoiceArch, ProductSpace, SearchSpace, Subspace
from archgraph.spaces.registry import get_search_space, list_search_spaces, register_search_space
from archgraph.spaces import chain, nasbench101, nasbench201  # noqa: F401  (register spaces)

__all__ = ["ChoiceArch", "ProductSpace", "SearchSpace", "Subspace", "get_search_space",
           "list_search_spaces", "register_search_space"]

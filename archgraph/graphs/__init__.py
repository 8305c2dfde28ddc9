"""Graphs: of one architecture (``arch_graph``) and of a whole search space."""
from archgraph.graphs.arch_graph import make_arch_graph, validate_arch_graph

__all__ = ["make_arch_graph", "validate_arch_graph"]

"""Graphs: of one architecture (``arch_graph``) and of a whole search space (``space_graph``
materialized, ``KroneckerAdjacency`` implicit, edge weights from ``similarity``)."""
from archgraph.graphs.arch_graph import make_arch_graph, validate_arch_graph
from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.graphs.similarity import assigned_similarity, check_similarity, measured_similarity
from archgraph.graphs.space_graph import (SymmetricSparseAdjacency, normalized_adjacency,
                                          space_graph, space_node_features)

__all__ = ["make_arch_graph", "validate_arch_graph", "KroneckerAdjacency", "assigned_similarity",
           "check_similarity", "measured_similarity", "normalized_adjacency", "space_graph",
           "space_node_features", "SymmetricSparseAdjacency"]

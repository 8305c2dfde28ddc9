"""Graphs of a whole search space (``space_graph`` materialized, ``KroneckerAdjacency``
implicit, edge weights from ``similarity``) and batches of architecture graphs (``arch_batch``).
The graph of one architecture is part of ``archgraph.spaces`` (``make_arch_graph``)."""
from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.graphs.similarity import assigned_similarity, check_similarity, measured_similarity
from archgraph.graphs.space_graph import (
    SymmetricSparseAdjacency,
    normalized_adjacency,
    space_graph,
    space_node_features,
)

__all__ = ["KroneckerAdjacency", "assigned_similarity", "check_similarity", "measured_similarity",
           "normalized_adjacency", "space_graph", "space_node_features",
           "SymmetricSparseAdjacency"]

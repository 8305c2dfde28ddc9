"""Search loops over a space with an ``Evaluator``: predictor-based (Wen et al.), soft-Pareto
constrained, random, evolutionary, and the iterative space-GCN search (Chen et al.)."""
from archgraph.search.evolution import evolutionary_search
from archgraph.search.iterative import IterativeSearchResult, SearchRound, iterative_search
from archgraph.search.predictor_search import (
    SearchResult,
    predictor_search,
    random_search,
    soft_pareto_search,
)

__all__ = ["IterativeSearchResult", "SearchResult", "SearchRound", "evolutionary_search",
           "iterative_search", "predictor_search", "random_search", "soft_pareto_search"]

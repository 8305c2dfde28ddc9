"""Evaluators: the ``Evaluator`` protocol and the benchmark-table implementation."""
from archgraph.evaluators.base import Evaluator
from archgraph.evaluators.table import TableEvaluator

__all__ = ["Evaluator", "TableEvaluator"]

"""Evaluators: the ``Evaluator`` protocol (defined in ``archgraph.spaces``), the benchmark-table
implementation, the synthetic one and the registry of evaluators (``get_evaluator``,
``list_evaluators``)."""
from archgraph.evaluators.registry import (
    EVALUATORS,
    get_evaluator,
    list_evaluators,
    register_evaluator,
)
from archgraph.evaluators.synthetic import synthetic_evaluator
from archgraph.evaluators.table import TableEvaluator, table_evaluator
from archgraph.spaces.evaluator import Evaluator

__all__ = ["EVALUATORS", "Evaluator", "TableEvaluator", "get_evaluator", "list_evaluators",
           "register_evaluator", "synthetic_evaluator", "table_evaluator"]

"""Performance predictors: scikit-learn estimators mapping architectures to accuracies.

>>> from archgraph.predictors import get_predictor, list_predictors
>>> model = get_predictor("neural", space=space).fit(archs, y)  # doctest: +SKIP
"""
from archgraph.predictors.registry import get_predictor, list_predictors, register_predictor
from archgraph.predictors.base import BasePredictor
from archgraph.predictors.neural import NeuralPredictor

__all__ = ["BasePredictor", "NeuralPredictor", "get_predictor", "list_predictors",
           "register_predictor"]

"""Performance predictors: scikit-learn estimators mapping architectures to accuracies.

>>> from archgraph.predictors import get_predictor, list_predictors
>>> model = get_predictor("neural", space=space).fit(archs, y)  # doctest: +SKIP
"""
from archgraph.predictors.registry import get_predictor, list_predictors, register_predictor
from archgraph.predictors.base import BasePredictor
from archgraph.predictors.neural import NeuralPredictor
from archgraph.predictors.two_stage import TwoStagePredictor
from archgraph.predictors.baselines import RandomForestPredictor, RidgePredictor
from archgraph.predictors.tuning import TuningResult, tune_predictor
from archgraph.predictors import space_gcn  # noqa: F401  (registers "space_gcn")

__all__ = ["BasePredictor", "NeuralPredictor", "RandomForestPredictor", "RidgePredictor",
           "TuningResult", "TwoStagePredictor", "get_predictor", "list_predictors",
           "register_predictor", "tune_predictor"]

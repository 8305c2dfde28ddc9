"""Performance predictors: scikit-learn estimators mapping architectures to accuracies.

Every registered predictor is exported here:

>>> from archgraph.predictors import NeuralPredictor, SpaceGCNPredictor, get_predictor
>>> model = get_predictor("neural", space=space).fit(archs, y)  # doctest: +SKIP
"""
from archgraph.predictors.base import ArchEstimator, BasePredictor
from archgraph.predictors.baselines import (
    GaussianProcessPredictor,
    RandomForestPredictor,
    RidgePredictor,
    XGBoostPredictor,
)
from archgraph.predictors.correct_smooth import CorrectSmoothPredictor
from archgraph.predictors.neural import NeuralPredictor
from archgraph.predictors.neural_classifier import NeuralClassifier
from archgraph.predictors.registry import (
    PREDICTORS,
    get_predictor,
    list_predictors,
    register_predictor,
)
from archgraph.predictors.serialization import load
from archgraph.predictors.space_gcn import PredictionRangeWarning, SpaceGCNPredictor
from archgraph.predictors.tuning import TuningResult, tune_predictor
from archgraph.predictors.two_stage import TwoStagePredictor

__all__ = ["ArchEstimator", "BasePredictor", "CorrectSmoothPredictor", "GaussianProcessPredictor",
           "NeuralClassifier", "NeuralPredictor", "PREDICTORS", "PredictionRangeWarning",
           "RandomForestPredictor", "RidgePredictor", "SpaceGCNPredictor", "TuningResult",
           "TwoStagePredictor", "XGBoostPredictor", "get_predictor", "list_predictors", "load",
           "register_predictor", "tune_predictor"]

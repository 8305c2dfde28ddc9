"""Models built from the layers of ``archgraph.nn.conv``."""
from archgraph.nn.models.neural_predictor_net import NeuralPredictorNet

__all__ = ["NeuralPredictorNet"]

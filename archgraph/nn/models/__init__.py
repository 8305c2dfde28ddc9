"""Models built from the layers of ``archgraph.nn.conv``."""
from archgraph.nn.models.neural_predictor_net import NeuralPredictorNet
from archgraph.nn.models.receptive_field_tables import ReceptiveFieldTables
from archgraph.nn.models.space_gcn import SpaceGCN

__all__ = ["NeuralPredictorNet", "ReceptiveFieldTables", "SpaceGCN"]

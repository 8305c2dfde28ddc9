"""Graph neural network layers and models (pure ``torch.nn.Module``s, PyG conventions)."""
from archgraph.nn.conv import BiDAGConv
from archgraph.nn.models import NeuralPredictorNet, SpaceGCN

__all__ = ["BiDAGConv", "NeuralPredictorNet", "SpaceGCN"]

"""Message-passing layers."""
from archgraph.nn.conv.dag_gcn_conv import BiDAGConv

__all__ = ["BiDAGConv"]

"""Weight-sharing supernets for archgraph: build a supernet of a search space, train it with
uniform (SPOS) or strict-fair (FairNAS) path sampling, and estimate any sub-network's accuracy
with BatchNorm recalibration through :class:`SupernetEvaluator` (archgraph's ``Evaluator``).

>>> from archgraph.spaces import get_search_space
>>> from supernet import SuperNet, SupernetConfig
>>> space = get_search_space("macro")
>>> net = SuperNet(space, SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1))
"""
from supernet.config import SupernetConfig
from supernet.supernet import SuperNet

__all__ = ["SuperNet", "SupernetConfig"]

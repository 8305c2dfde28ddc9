"""Weight-sharing supernets for archgraph: build a supernet of a search space, train it with
uniform (SPOS) or strict-fair (FairNAS) path sampling, and estimate any sub-network's accuracy
with BatchNorm recalibration through :class:`SupernetEvaluator` (archgraph's ``Evaluator``).

>>> from archgraph.spaces import get_search_space
>>> from supernet import SuperNet, SupernetConfig
>>> space = get_search_space("macro")
>>> net = SuperNet(space, SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1))
"""
from supernet.bn_recal import recalibrate_bn
from supernet.config import SupernetConfig
from supernet.data import load_digits
from supernet.evaluator import SupernetEvaluator
from supernet.samplers import StrictFairSampler, UniformSampler
from supernet.standalone import StandaloneEvaluator
from supernet.supernet import SuperNet
from supernet.train import train

__all__ = ["SuperNet", "SupernetConfig", "SupernetEvaluator", "StandaloneEvaluator",
           "StrictFairSampler", "UniformSampler", "load_digits", "recalibrate_bn", "train"]

"""Weight-sharing supernets for archgraph: build a supernet of a search space, train it with
uniform (SPOS) or strict-fair (FairNAS) path sampling, and estimate any sub-network's accuracy
with BatchNorm recalibration through :class:`SupernetEvaluator` (archgraph's ``Evaluator``).

>>> from archgraph.spaces import get_search_space
>>> from supernet import SupernetConfig, build_supernet
>>> space = get_search_space("macro")
>>> net = build_supernet(space, SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1))

Command line: ``python -m supernet --space digits5 --epochs 30 --sampler uniform --checkpoint
supernet.pt`` trains on the digits data and writes the checkpoint that ``archgraph dataset build
--evaluator supernet --option checkpoint=supernet.pt`` reads (``python -m supernet -h``).

Scaling out: :func:`train` runs unchanged on several processes (data parallel) whenever a
``torch.distributed`` process group is initialized. ``--batch-size`` / ``batch_size`` is per
process; N processes with batch B end with the weights of one process with batch N*B (same data
order, same paths, BatchNorm over the global batch, summed gradients), and their checkpoints
are interchangeable. On one machine::

    torchrun --standalone --nproc_per_node=2 -m supernet --space digits5 --checkpoint sn.pt

On several (each runs the same command; ``--device cuda`` uses ``cuda:LOCAL_RANK``)::

    torchrun --nnodes=2 --nproc_per_node=4 --rdzv-backend=c10d --rdzv-endpoint=HOST:29500 \\
        -m supernet --space digits5 --device cuda --checkpoint /shared/sn.pt

Few-shot NAS (:mod:`supernet.splitting`): :func:`gradient_matching_scores` ranks the layers by
how much their options disagree on the shared weights' gradients (Hu et al., ICLR 2022);
``SplitSupernet(net, layer)`` splits a trained supernet into one copy per option of that layer
(Zhao et al., ICML 2021), :func:`fine_tune_split` fine-tunes each copy on its own partition with
:func:`train`, and the split supernet goes to :class:`SupernetEvaluator` like any other.

Inter-choice dependent weights (Laube & Zell, :mod:`supernet.interchoice`) are options of the
config: ``SupernetConfig(bias_weights=D, bias="joint" | "shared")`` adds biases selected by a
layer's choice and the ``D`` previous ones, ``SupernetConfig(split_weights_epoch=E)`` copies
every option per choice of the previous layer after epoch ``E``.

Modules, lowest first (each imports only from its own level or below): the generic parts
``ops``, ``interchoice``, ``samplers``, ``config``, ``data``, ``distributed``, ``bn_recal``,
``checkpoint``, ``train`` and the base class ``supernet``; the kinds of supernet ``chain_supernet``,
``nb201_supernet``; the factory :func:`build_supernet` (``factory``); the evaluators
``evaluator``, ``standalone``, ``similarity``; the split supernets ``gm_nas`` (GM-NAS trees of
sub-supernets, successive-halving selection) and ``splitting`` (Few-Shot NAS); DCNAS
``dcnas`` (candidate weights per option, built on the chain supernet); the comparison of
supernet variants against a ground truth ``compare``; the command line ``cli``.

GM-NAS (:mod:`supernet.gm_nas`, Hu et al., ICLR 2022): :func:`fit_split_tree` splits a
supernet into balanced groups of options by min-cut on the gradient-matching matrix
(:func:`gradient_matching_matrix`, :func:`min_cut_partition`), a tree of splits with restart;
:func:`successive_halving` selects among the candidates of all sub-supernets.

DCNAS (:mod:`supernet.dcnas`, Pan et al., CVPR 2022): :class:`DCNASSupernet` holds ``M``
candidate weights per option and a candidate pool whose architectures are assigned a copy per
layer by K-means on matching degrees of meta networks; :func:`train_dcnas` runs Algorithm 1
(warm-up, a paired-update phase per layer, fine-tuning) with checkpoint and resume.
"""
from supernet.bn_recal import recalibrate_bn
from supernet.config import SupernetConfig
from supernet.data import load_digits
from supernet.dcnas import DCNASSupernet, train_dcnas
from supernet.evaluator import SupernetEvaluator
from supernet.factory import build_supernet
from supernet.gm_nas import (
    SplitTree,
    fit_split_tree,
    gradient_matching_matrix,
    min_cut_partition,
    successive_halving,
)
from supernet.samplers import StrictFairSampler, UniformSampler
from supernet.splitting import SplitSupernet, fine_tune_split, gradient_matching_scores
from supernet.standalone import StandaloneEvaluator
from supernet.supernet import SuperNet
from supernet.train import train

__all__ = ["DCNASSupernet", "SuperNet", "SupernetConfig", "SupernetEvaluator",
           "StandaloneEvaluator",
           "SplitSupernet", "SplitTree", "StrictFairSampler", "UniformSampler", "build_supernet",
           "fine_tune_split", "fit_split_tree", "gradient_matching_matrix",
           "gradient_matching_scores", "load_digits", "min_cut_partition", "recalibrate_bn",
           "successive_halving", "train", "train_dcnas"]

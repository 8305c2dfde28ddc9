"""Configuration of a supernet: a plain dataclass, defaults = the space's published network."""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, replace

from archgraph.spaces import ChainSpace, SearchSpace
from archgraph.spaces.nasbench201 import NASBench201Space
from archgraph.utils import check_int, check_one_of


@dataclass(frozen=True)
class SupernetConfig:
    """How a search space is turned into a network.

    ``None`` fields take the space's published value (:meth:`published`), so
    ``SupernetConfig()`` builds the published network and ``SupernetConfig(width_mult=0.25,
    input_resolution=8, in_channels=1)`` a small one that trains on 8x8 digits.

    Args:
        width_mult: multiplier of every channel count (``max(1, round(C * width_mult))``);
            1.0 is the published width.
        input_resolution: side of the square input images (chain spaces: the published stem
            input, 224 for FairNAS; NAS-Bench-201: 32). Strides stay as published, so small
            images simply reach 1x1 feature maps earlier.
        in_channels: channels of the input images (3 for RGB, 1 for digits).
        num_classes: outputs of the classifier (the space's, e.g. 1000 for FairNAS).
        stem_stride: stride of the first stem convolution (chain spaces; published: the
            space's). 1 keeps small images from shrinking before the searchable layers.
        cells_per_stage: NAS-Bench-201 cells per stage (published: 5).
        bias_weights: ``D`` of the inter-choice bias weights (Laube & Zell, "Inter-choice
            dependent super-network weights"): before the chosen option of a layer receives its
            input, a learned per-channel bias selected by its choice and the choices of the
            ``D`` layers before it is added (:mod:`supernet.interchoice`). 0 (default): none;
            at most 3, as in the paper.
        bias: how the bias is selected: ``"joint"`` (one vector per combination of the
            ``D + 1`` choices) or ``"shared"`` (one vector per layer, offset and choice, the
            ``D + 1`` selected ones summed; far fewer parameters).
        split_weights_epoch: split weights (Laube & Zell, ``D = 1``): train as a plain
            supernet for this many epochs, then copy every option's weights once per choice
            of the previous layer (NAS-Bench-201: of the previous edge into the same node)
            and train the copies separately (``None``, the default: never). The split
            happens in :func:`supernet.train.train` before epoch ``split_weights_epoch + 1``;
            0 splits right at the start.
    """

    width_mult: float = 1.0
    input_resolution: int | None = None
    in_channels: int | None = None
    num_classes: int | None = None
    stem_stride: int | None = None
    cells_per_stage: int | None = None
    bias_weights: int = 0
    bias: str = "joint"
    split_weights_epoch: int | None = None

    def __post_init__(self):
        owner = "SupernetConfig"
        w = self.width_mult
        if not isinstance(w, numbers.Real) or isinstance(w, bool) or not 0 < w < float("inf"):
            raise ValueError(f"The 'width_mult' parameter of {owner} must be a float in "
                             f"(0, inf). Got {w!r} instead.")
        for name in ("input_resolution", "in_channels", "num_classes", "stem_stride",
                     "cells_per_stage"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, numbers.Integral) or isinstance(v, bool)
                                  or v < 1):
                raise ValueError(f"The '{name}' parameter of {owner} must be None or an int "
                                 f"in [1, inf). Got {v!r} instead.")
        check_int(self.bias_weights, "bias_weights", owner, low=0, high=3)
        check_one_of(self.bias, "bias", BIAS_KINDS, owner)
        if self.bias != "joint" and not self.bias_weights:
            raise ValueError(f"The 'bias' parameter of {owner} applies with bias weights only; "
                             f"set 'bias_weights' to 1, 2 or 3. Got bias={self.bias!r} with "
                             f"bias_weights=0.")
        if self.split_weights_epoch is not None:
            check_int(self.split_weights_epoch, "split_weights_epoch", owner, low=0)

    @classmethod
    def published(cls, space: SearchSpace) -> "SupernetConfig":
        """The published network of ``space``, every field filled in."""
        return cls().resolve(space)

    def resolve(self, space: SearchSpace) -> "SupernetConfig":
        """This config with its ``None`` fields set to the published values of ``space``."""
        space = getattr(space, "root", space)  # a subspace is built as its whole space
        if isinstance(space, ChainSpace):
            self._unused(space, "cells_per_stage")
            first = (space.stem or space.layers)[0]
            defaults = dict(input_resolution=first.resolution, in_channels=first.in_channels,
                            num_classes=space.num_classes or 10,
                            stem_stride=first.stride, cells_per_stage=None)
        elif isinstance(space, NASBench201Space):
            self._unused(space, "stem_stride")
            defaults = dict(input_resolution=32, in_channels=3, num_classes=space.num_classes,
                            stem_stride=None, cells_per_stage=5)
        else:
            raise TypeError(f"No supernet exists for the {space.name!r} space "
                            f"({type(space).__name__}); expected a ChainSpace or the "
                            f"'nasbench201' space.")
        filled = {k: v if getattr(self, k) is None else getattr(self, k)
                  for k, v in defaults.items()}
        return replace(self, **filled)

    def _unused(self, space, field: str) -> None:
        if getattr(self, field) is not None:
            raise ValueError(f"The '{field}' parameter of SupernetConfig does not apply to the "
                             f"{space.name!r} space; leave it None. Got {getattr(self, field)!r}.")

    def to_dict(self) -> dict:
        """Plain dict of the fields (for checkpoints and tables). The inter-choice fields
        appear only when set, so the checkpoints of plain supernets written before they
        existed still resume (their fingerprints are unchanged)."""
        d = asdict(self)
        for name, off in INTER_CHOICE_DEFAULTS.items():
            if d[name] == off:
                del d[name]
        return d


#: how inter-choice bias vectors are selected (see :class:`SupernetConfig`)
BIAS_KINDS = ("joint", "shared")
#: the inter-choice fields and their "off" values, left out of :meth:`SupernetConfig.to_dict`
INTER_CHOICE_DEFAULTS = dict(bias_weights=0, bias="joint", split_weights_epoch=None)

"""FairNAS search space (Chu et al., ICCV 2021, "FairNAS: Rethinking Evaluation Fairness of
Weight Sharing Neural Architecture Search"): 19 layers x 6 inverted-residual choices on
ImageNet 224x224, 6^19 ~ 6.1e14 architectures.

Network: stem conv3x3 3->32 stride 2 + BN + ReLU; a fixed expand-1 block (depthwise 3x3 on 32
channels, 1x1 32->16) at 112x112; 19 searchable layers (table :data:`LAYERS`); head conv1x1
320->1280 + BN + ReLU, global average pool, linear 1280->1000. Choices per layer, in order:
``k3_e3, k3_e6, k5_e3, k5_e6, k7_e3, k7_e6``. The default start architecture of iterative
searches (:meth:`ChainSpace.default_arch`) is all ``k3_e6``, a MobileNetV2-like network.
"""
from __future__ import annotations

from archgraph.spaces.chain import ChainLayer, ChainSpace
from archgraph.spaces.registry import register_search_space

MBCONV_OPTIONS = ("k3_e3", "k3_e6", "k5_e3", "k5_e6", "k7_e3", "k7_e6")
# (in channels, out channels, stride, input resolution) of layers 0..18
LAYERS = ((16, 32, 2, 112),
          (32, 32, 1, 56), (32, 40, 2, 56),
          (40, 40, 1, 28), (40, 40, 1, 28), (40, 40, 1, 28), (40, 80, 2, 28),
          (80, 80, 1, 14), (80, 80, 1, 14), (80, 80, 1, 14), (80, 96, 1, 14),
          (96, 96, 1, 14), (96, 96, 1, 14), (96, 96, 1, 14), (96, 192, 2, 14),
          (192, 192, 1, 7), (192, 192, 1, 7), (192, 192, 1, 7), (192, 320, 1, 7))

#: the stem shared by the mobile ImageNet spaces: conv3x3 s2 to 32 channels, then MBConv1 to 16
MOBILE_STEM = (ChainLayer("stem", 3, 32, 2, 224, ("conv_k3",)),
               ChainLayer("stem_block", 32, 16, 1, 112, ("k3_e1",)))
MOBILE_HEAD = (ChainLayer("head", 320, 1280, 1, 7, ("conv_k1",)),)


@register_search_space("fairnas")
def fairnas() -> ChainSpace:
    """The FairNAS space (string form: 19 digits, layer 0 first)."""
    layers = [ChainLayer(f"layer{l}", cin, cout, s, r, MBCONV_OPTIONS)
              for l, (cin, cout, s, r) in enumerate(LAYERS)]
    return ChainSpace("fairnas", layers, stem=MOBILE_STEM, head=MOBILE_HEAD, num_classes=1000,
                      default=["k3_e6"] * len(layers))

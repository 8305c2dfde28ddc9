"""ProxylessNAS mobile search space (Cai et al., ICLR 2019, "ProxylessNAS: Direct Neural
Architecture Search on Target Task and Hardware") on ImageNet 224x224.

Backbone of ProxylessNAS-Mobile: stem conv3x3 3->32 stride 2 + BN + ReLU, MBConv1 k3 32->16 at
112x112, then six stages (out channels, layers, first stride) = (24,4,2), (40,4,2), (80,4,2),
(96,4,1), (192,4,2), (320,1,1) of 21 searchable layers, head conv1x1 320->1280 + BN + ReLU,
global average pool, linear 1280->1000. The first layer of each stage picks one of the 6 MBConv
choices ``k3_e3, k3_e6, k5_e3, k5_e6, k7_e3, k7_e6``; the other layers may also ``skip`` (the
block is dropped, its residual passes the input on): 6^6 x 7^15 ~ 2.2e17 architectures. The
Pixel 1 latency table (:func:`archgraph.spaces.latency.load_latency_lut`) covers every option:
``space.add_latency(lut)`` adds a ``"latency"`` cost in ms.
"""
from __future__ import annotations

from archgraph.spaces.chain import ChainLayer, ChainSpace
from archgraph.spaces.fairnas import MBCONV_OPTIONS, MOBILE_HEAD, MOBILE_STEM
from archgraph.spaces.registry import register_search_space

STAGES = ((24, 4, 2), (40, 4, 2), (80, 4, 2), (96, 4, 1), (192, 4, 2), (320, 1, 1))


def proxylessnas_layers() -> list[ChainLayer]:
    """The 21 searchable layers of the ProxylessNAS mobile space."""
    rows, channels, res = [], 16, 112
    for s, (out, n, stride) in enumerate(STAGES, start=1):
        for j in range(n):
            options = MBCONV_OPTIONS if j == 0 else MBCONV_OPTIONS + ("skip",)
            rows.append(ChainLayer(f"stage{s}_block{j}", channels, out, stride if j == 0 else 1,
                                   res, options))
            channels, res = out, rows[-1].out_resolution
    return rows


@register_search_space("proxylessnas")
def proxylessnas() -> ChainSpace:
    """The ProxylessNAS mobile space (string form: 21 digits, layer 0 first)."""
    layers = proxylessnas_layers()
    return ChainSpace("proxylessnas", layers, stem=MOBILE_STEM, head=MOBILE_HEAD,
                      num_classes=1000, default=["k3_e6"] * len(layers))

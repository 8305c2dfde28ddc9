"""NAS-Bench-Macro (Su et al., 2021, "Prioritized Architecture Sampling with Monto-Carlo Tree
Search", CVPR; github.com/xiusu/NAS-Bench-Macro): 8 layers x 3 choices on CIFAR-10, 6,561
architectures, all trained.

Network: 3x32x32 input; stem conv3x3 3->32 + BN + ReLU; three stages of 2, 3, 3 searchable
layers whose first layer has stride 2 and doubles the channels (32->64->128->256); head conv1x1
256->1280 + BN + ReLU, global average pool, linear 1280->10. Choices: 0 = ``identity`` (a 1x1
conv + BN where the shape changes), 1 = ``k3_e3``, 2 = ``k5_e6``. Its FLOPs/params match the
published ones of all 6,561 architectures exactly; ``"00000000"`` has 387,882 params and
7,713,280 FLOPs.
"""
from __future__ import annotations

from archgraph.spaces.chain import ChainLayer, ChainSpace
from archgraph.spaces.registry import register_search_space

OPTIONS = ("identity", "k3_e3", "k5_e6")
STAGES = ((64, 2), (128, 3), (256, 3))  # (out channels, layers); first layer stride 2


def macro_layers() -> list[ChainLayer]:
    """The 8 searchable layers of NAS-Bench-Macro."""
    rows, channels, res = [], 32, 32
    for s, (out, n) in enumerate(STAGES, start=1):
        for j in range(n):
            stride = 2 if j == 0 else 1
            rows.append(ChainLayer(f"stage{s}_layer{j}", channels, out, stride, res, OPTIONS))
            channels, res = out, rows[-1].out_resolution
    return rows


@register_search_space("macro")
def nas_bench_macro() -> ChainSpace:
    """The NAS-Bench-Macro space (string form: 8 digits, layer 1 first)."""
    return ChainSpace(
        "macro", macro_layers(),
        stem=[ChainLayer("stem", 3, 32, 1, 32, ("conv_k3",))],
        head=[ChainLayer("head", 256, 1280, 1, 4, ("conv_k1",))],
        num_classes=10)

"""The cost models of archgraph.spaces against the real networks of the supernet: FLOPs
(multiply-accumulates of conv and linear layers, counted by forward hooks) and parameters of
extracted sub-networks equal ``space.flops`` / ``space.params``."""
import pytest
import torch
from torch import nn

from archgraph.spaces import get_search_space
from supernet import build_supernet


def count_macs(net: nn.Module, x: torch.Tensor) -> int:
    total = 0

    def hook(module, inputs, out):
        nonlocal total
        if isinstance(module, nn.Conv2d):  # each output element: (in / groups) * k * k MACs
            k = module.kernel_size[0] * module.kernel_size[1]
            total += out.numel() // out.size(0) * module.in_channels // module.groups * k
        else:
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in net.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        net.eval()(x)
    for h in handles:
        h.remove()
    return total


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fairnas", "proxylessnas", "macro"])
def test_flops_and_params_equal_the_real_network(name):
    space = get_search_space(name)
    net = build_supernet(space, random_state=0)
    size = 224 if name != "macro" else 32
    x = torch.randn(1, 3, size, size)
    for arch in [space.default_arch(), *space.sample(2, rng=0)]:
        sub = net.extract_subnet(arch)
        assert count_macs(sub, x) == space.flops(arch), space.to_str(arch)
        assert sum(p.numel() for p in sub.parameters()) == space.params(arch)

import pytest
import torch

from archgraph.spaces import ChoiceArch, get_search_space
from supernet import SuperNet, SupernetConfig, build_supernet
from supernet.chain_supernet import ChainSupernet
from supernet.nb201_supernet import NB201Supernet


@pytest.mark.parametrize("name,cls", [("macro", ChainSupernet), ("fairnas", ChainSupernet),
                                      ("proxylessnas", ChainSupernet),
                                      ("nasbench201", NB201Supernet)])
def test_dispatch_and_subnet_equals_supernet(name, cls, small_config):
    space = get_search_space(name)
    net = build_supernet(space, small_config, random_state=0)
    assert type(net) is cls
    sub = space.subspace([0], space.sample(1, rng=0)[0])
    assert type(build_supernet(sub, small_config)) is cls  # a subspace: its whole space
    archs = space.sample(3, rng=1)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():  # BN statistics far from their defaults (mean 0, var 1) on every path
        for _ in range(3):
            for arch in archs:
                net(3 * torch.randn(4, 1, 8, 8, generator=g) + 2, arch)
    x = torch.randn(3, 1, 8, 8, generator=g)
    net.eval()
    for arch in archs:
        sub = net.extract_subnet(arch).eval()
        bns = [m for m in sub.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert bns and all(m.num_batches_tracked > 0 and not torch.allclose(
            m.running_var, torch.ones_like(m.running_var)) for m in bns)
        torch.testing.assert_close(sub(x), net(x, arch), rtol=0, atol=1e-5)
        sub.train()  # the statistics are what makes the two agree
        assert not torch.allclose(sub(x), net(x, arch), atol=1e-3)


def test_only_chosen_options_get_gradients(tiny_space):
    net = build_supernet(tiny_space, random_state=0)
    arch = tiny_space.sample(1, rng=3)[0]
    net(torch.randn(4, 1, 8, 8), arch).sum().backward()
    for l, (block, c) in enumerate(zip(net.blocks, arch.choices)):
        for o, op in enumerate(block):
            grads = [p.grad for p in op.parameters()]
            if o == c:
                assert all(g is not None for g in grads), (l, o)
            else:
                assert all(g is None for g in grads), (l, o)
    assert all(p.grad is not None for p in net.stem.parameters())


def test_nb201_only_chosen_ops_get_gradients(small_config):
    space = get_search_space("nasbench201")
    net = build_supernet(space, small_config, random_state=0)
    arch = space.from_str("|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|"
                          "nor_conv_3x3~1|avg_pool_3x3~2|")
    net(torch.randn(2, 1, 8, 8), arch).sum().backward()
    cell = net.stages[0]
    for e, c in enumerate(arch.choices):
        for o, op in enumerate(cell.edges[e]):
            for p in op.parameters():
                assert (p.grad is not None) == (o == c), (e, o)


def test_seeded_init_is_reproducible_and_leaves_global_rng(tiny_space):
    state = torch.get_rng_state()
    a, b = build_supernet(tiny_space, random_state=5), build_supernet(tiny_space, random_state=5)
    assert torch.equal(torch.get_rng_state(), state)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_macro_subnet_params_match_published():
    space = get_search_space("macro")
    net = build_supernet(space)
    arch = space.from_str("00000000")
    assert sum(p.numel() for p in net.extract_subnet(arch).parameters()) == 387_882


def test_fairnas_published_accounting():
    space = get_search_space("fairnas")
    for classes in (1000, 100):
        net = build_supernet(space, SupernetConfig(num_classes=classes))
        arch = space.default_arch()
        sub = sum(p.numel() for p in net.extract_subnet(arch).parameters())
        if classes == 1000:
            assert sub == space.params(arch)
        # all six options of all 19 layers present: supernet = fixed part + every option
        base, tables = space.cost_tables("params")
        total = base + sum(t.sum() for t in tables) - 1281 * (1000 - classes)
        assert sum(p.numel() for p in net.parameters()) == total
        # the totals themselves (1,280 features -> classes)
        assert total == {1000: 15_992_600, 100: 14_839_700}[classes]
        if classes == 1000:
            assert space.to_str(arch) == "1" * 19  # k3_e6 in every layer
            assert sub == 4_679_144
    assert all(len(b) == 6 for b in net.blocks) and len(net.blocks) == 19


def test_bad_arch_and_input(tiny_space, small_config):
    net = build_supernet(tiny_space, random_state=0)
    other = get_search_space("macro").sample(1, rng=0)[0]
    with pytest.raises(ValueError, match="Expected an architecture of the 'tiny_chain' space"):
        net(torch.randn(2, 1, 8, 8), other)
    with pytest.raises(ValueError, match="Expected an architecture of the 'tiny_chain' space"):
        net.extract_subnet(other)
    with pytest.raises(ValueError, match="out of range"):
        net(torch.randn(2, 1, 8, 8), ChoiceArch("tiny_chain", (0, 0, 7)))
    arch = tiny_space.sample(1, rng=0)[0]
    with pytest.raises(ValueError, match=r"must have shape \[batch, 1, 8, 8\]"):
        net(torch.randn(2, 3, 8, 8), arch)
    with pytest.raises(TypeError, match="'space' parameter of build_supernet must be a chain "
                                        "space or the 'nasbench201' space.*'nasbench101'"):
        build_supernet(get_search_space("nasbench101"))
    nb201 = build_supernet(get_search_space("nasbench201"), small_config, random_state=0)
    with pytest.raises(ValueError, match="Expected an architecture of the 'nasbench201' space"):
        nb201(torch.randn(2, 1, 8, 8), other)
    with pytest.raises(ValueError, match="Expected an architecture of the 'nasbench201' space"):
        nb201.extract_subnet(arch)
    with pytest.raises(TypeError, match="'config' parameter of ChainSupernet must be a "
                                        "SupernetConfig. Got dict"):
        build_supernet(tiny_space, {"width_mult": 1})
    with pytest.raises(TypeError, match="'random_state' parameter of ChainSupernet must be "
                                        "None or an int. Got 1.5"):
        build_supernet(tiny_space, random_state=1.5)


def test_each_kind_builds_its_own_spaces_only(tiny_space):
    with pytest.raises(TypeError, match="'space' parameter of NB201Supernet must be a "
                                        "NASBench201Space or a subspace of one. Got ChainSpace "
                                        "'tiny_chain'"):
        NB201Supernet(tiny_space)
    with pytest.raises(TypeError, match="'space' parameter of ChainSupernet must be a ChainSpace"):
        ChainSupernet(get_search_space("nasbench201"))
    with pytest.raises(TypeError, match="SuperNet is the base class.*build_supernet"):
        SuperNet(tiny_space)
    a, b = ChainSupernet(tiny_space), build_supernet(tiny_space)  # both seeded with 0
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(),
                                                 b.state_dict().values()))

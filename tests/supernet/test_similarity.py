import copy

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from archgraph.graphs.similarity import check_similarity
from archgraph.predictors.space_gcn import SpaceGCNPredictor
from archgraph.spaces import ChoiceArch, Subspace, get_search_space
from supernet import SupernetEvaluator, build_supernet
from supernet.similarity import measured_space_similarity, option_features

KW = dict(num_batches=2, batch_size=8)  # 16 images


@pytest.fixture
def net(tiny_space):
    return build_supernet(tiny_space, random_state=0)


def arch(*choices):
    return ChoiceArch("tiny_chain", choices)


def test_shapes_and_validity(net, tiny_space, tiny_data):
    feats = option_features(net, tiny_data, **KW)
    assert [f.shape for f in feats] == [(3, 16 * 6), (3, 16 * 6), (3, 16 * 8)]  # [O_l, N*C_l]
    assert all(f.dtype == np.float64 and np.all(np.isfinite(f)) for f in feats)
    for kind in ("cosine", "rbf"):
        sims = measured_space_similarity(net, tiny_data, kind=kind, **KW)
        check_similarity(sims, tiny_space.num_options)  # [O_l, O_l], symmetric, >= 0, diag 0
        assert all(s.max() <= 1 for s in sims)


def test_identical_options_have_similarity_one(net, tiny_data):
    net.blocks[1][2] = copy.deepcopy(net.blocks[1][1])  # option 2 now computes option 1
    feats = option_features(net, tiny_data, **KW)
    np.testing.assert_allclose(feats[1][2], feats[1][1])
    s = measured_space_similarity(net, tiny_data, **KW)[1]
    assert s[1, 2] == pytest.approx(1.0)
    assert s[0, 1] < 1 - 1e-6


def test_deterministic_and_seeded(net, tiny_data):
    a = option_features(net, tiny_data, random_state=3, **KW)
    b = option_features(net, tiny_data, random_state=3, **KW)
    c = option_features(net, tiny_data, random_state=4, **KW)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.allclose(a[0], c[0])  # other images


def test_mode_restored_and_weights_untouched(net, tiny_data):
    before = copy.deepcopy(net.state_dict())
    net.train()
    option_features(net, tiny_data, **KW)
    assert net.training
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())
    net.eval()
    option_features(net, tiny_data, **KW)
    assert not net.training


def test_path_feeds_later_layers_only(net, tiny_data):
    a = option_features(net, tiny_data, arch=arch(0, 0, 0), **KW)
    b = option_features(net, tiny_data, arch=arch(2, 0, 0), **KW)
    np.testing.assert_array_equal(a[0], b[0])  # layer 0 sees the stem output either way
    assert not np.allclose(a[1], b[1])
    only = option_features(net, tiny_data, arch=arch(2, 0, 0), layers=[2], **KW)
    assert len(only) == 1 and np.array_equal(only[0], b[2])


def test_subspace_single_layer_factors_are_rows(net, tiny_space, tiny_data):
    base = arch(1, 2, 0)
    full = option_features(net, tiny_data, arch=base, **KW)
    sub = tiny_space.subspace([0, 2], base)
    feats = option_features(net, tiny_data, space=sub, **KW)  # path defaults to the base
    assert np.array_equal(feats[0], full[0]) and np.array_equal(feats[1], full[2])
    pick = Subspace(tiny_space, base, [((1,), [(2,), (0,)])])
    assert np.array_equal(option_features(net, tiny_data, space=pick, **KW)[0],
                          full[1][[2, 0]])
    assert [s.shape for s in measured_space_similarity(net, tiny_data, space=sub, **KW)] == [
        (3, 3), (3, 3)]


def test_subspace_supercell_composes_layers(net, tiny_space, tiny_data):
    base = arch(0, 0, 0)
    settings = [arch(0, 1, 2), arch(0, 2, 0), arch(0, 0, 1)]
    sub = tiny_space.subspace([0], base).with_supercell([1, 2], settings)
    feats = option_features(net, tiny_data, space=sub, **KW)
    assert [f.shape[0] for f in feats] == list(sub.num_options)  # [3, 3]
    for k, a in enumerate(settings):  # layer 2's output with layer 1 set as in the setting
        ref = option_features(net, tiny_data, arch=a, layers=[2], **KW)[0][a.choices[2]]
        np.testing.assert_array_equal(feats[1][k], ref)


def test_space_gcn_fits_with_measured_similarity(net, tiny_space, tiny_data):
    sims = measured_space_similarity(net, tiny_data, **KW)
    archs = tiny_space.sample(10, 0)
    y = SupernetEvaluator(net, tiny_data, tiny_data, recal_batches=1,
                          batch_size=16).evaluate(archs)
    gcn = SpaceGCNPredictor(tiny_space, similarity=sims, epochs=20, random_state=0).fit(archs, y)
    pred = gcn.predict(list(tiny_space.enumerate()))
    assert pred.shape == (27,) and np.all(np.isfinite(pred))


def test_bad_inputs(net, tiny_space, tiny_data, small_config):
    with pytest.raises(TypeError, match="'supernet' parameter of option_features must be a "
                                        "SuperNet"):
        option_features(torch.nn.Linear(2, 2), tiny_data)
    nb201 = build_supernet(get_search_space("nasbench201"), small_config, random_state=0)
    with pytest.raises(TypeError, match="must be a chain supernet.*NAS-Bench-201"):
        option_features(nb201, tiny_data)
    with pytest.raises(ValueError, match="'space' parameter of option_features must be the "
                                         "supernet's space 'tiny_chain'.*'digits5'"):
        option_features(net, tiny_data, space=get_search_space("digits5"))
    with pytest.raises(TypeError, match="'space' parameter.*ProductSpace"):
        option_features(net, tiny_data, space="tiny_chain")
    with pytest.raises(ValueError, match="'num_batches' parameter of option_features must be "
                                         "an int in \\[1, inf\\]. Got 0"):
        option_features(net, tiny_data, num_batches=0)
    with pytest.raises(ValueError, match="'batch_size' parameter"):
        option_features(net, tiny_data, batch_size=0)
    with pytest.raises(ValueError, match="'layers' parameter of option_features must be an "
                                         "int in \\[0, 2\\]. Got 3"):
        option_features(net, tiny_data, layers=[3])
    with pytest.raises(ValueError, match="distinct layer indices of 0..2. Got \\[1, 1\\]"):
        option_features(net, tiny_data, layers=[1, 1])
    with pytest.raises(ValueError, match="distinct layer indices.*Got \\[\\]"):
        option_features(net, tiny_data, layers=[])
    with pytest.raises(ValueError, match="Expected an architecture of the 'tiny_chain' space"):
        option_features(net, tiny_data, arch=ChoiceArch("digits5", (0,) * 5))
    with pytest.raises(ValueError, match="'data' parameter of option_features must hold "
                                         "images of shape \\[1, 8, 8\\]"):
        option_features(net, TensorDataset(torch.zeros(4, 3, 8, 8), torch.zeros(4).long()))
    with pytest.raises(ValueError, match="'kind' parameter of measured_space_similarity"):
        measured_space_similarity(net, tiny_data, kind="dot")

import itertools

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.lookup import LookupTable
from archgraph.predictors import CorrectSmoothPredictor, RidgePredictor, get_predictor, load
from archgraph.predictors.correct_smooth import (
    additive_grid,
    layer_pairs,
    pair_features,
    propagate,
    propagate_grid,
)
from archgraph.spaces import ProductSpace, get_search_space


def toy(num_options=(4, 3, 4, 2)):
    return ProductSpace("toy", [[f"op{i}" for i in range(o)] for o in num_options],
                        costs={"flops": (10.0, [np.arange(o) * 2.0 for o in num_options])})


def pair_target(space, archs):
    """Per-layer effects plus one interaction of the first two layers."""
    c = space.encode(archs)
    rng = np.random.default_rng(0)
    unary = [rng.normal(size=o) for o in space.num_options]
    joint = rng.normal(size=(space.num_options[0], space.num_options[1]))
    return 70 + sum(u[c[:, l]] for l, u in enumerate(unary)) + 2 * joint[c[:, 0], c[:, 1]]


@pytest.mark.parametrize("interactions", ["none", "neighbours", "all"])
def test_additive_grid_equals_features_times_weights(interactions):
    space = toy()
    pairs = layer_pairs(space.num_layers, interactions)
    choices = space.all_choices(dtype=np.int64)
    x = pair_features(choices, space.num_options, pairs)
    assert x.shape == (len(space), sum(space.num_options) + sum(
        space.num_options[i] * space.num_options[j] for i, j in pairs))
    assert np.all(x.sum(1) == space.num_layers + len(pairs))  # one hot code per block
    coef = np.random.default_rng(1).normal(size=x.shape[1])
    np.testing.assert_allclose(additive_grid(space.num_options, 0.5, coef, pairs),
                               x @ coef + 0.5, rtol=1e-12)
    assert layer_pairs(4, "all") == list(itertools.combinations(range(4), 2))


def test_propagate_keeps_anchors_and_alpha_zero_is_identity():
    space = toy()
    adj = KroneckerAdjacency.from_space(space)
    start = torch.randn(len(space), 3, generator=torch.Generator().manual_seed(0))
    anchors = torch.tensor([0 * 3 + 0, 5 * 3 + 1, 7 * 3 + 2])  # node 0 col 0, node 5 col 1, ...
    alpha = torch.tensor([0.0, 0.5, 0.9])
    out = propagate(adj, start, alpha, anchors, 20)
    torch.testing.assert_close(out[:, 0], start[:, 0])  # alpha 0 keeps the start
    flat = out.reshape(-1)
    torch.testing.assert_close(flat[anchors], start.reshape(-1)[anchors], rtol=0, atol=0)
    assert not torch.allclose(out[:, 2], start[:, 2])
    # a fixed point of G = (1 - a) G0 + a A G with the anchors reset (20 steps of a = 0.5)
    g = out[:, 1:2]
    nxt = (1 - 0.5) * start[:, 1:2] + 0.5 * (adj @ g)
    nxt[5] = start[5, 1]
    torch.testing.assert_close(nxt, g, rtol=0, atol=1e-5)


@pytest.mark.parametrize("free_start", [True, False])
def test_propagate_grid_equals_one_propagation_per_column_and_alpha(free_start):
    space = toy()
    n = len(space)
    adj = KroneckerAdjacency.from_space(space, dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    start = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    anchors = torch.randperm(n * 3, generator=gen)[:12]
    if not free_start:  # the correction stage: zero away from the anchors
        kept = torch.zeros(n * 3, dtype=torch.float64)
        kept[anchors] = start.reshape(-1)[anchors]
        start = kept.view(n, 3)
    alphas = torch.tensor([0.0, 0.5, 0.9, 0.99], dtype=torch.float64)
    rows = torch.tensor([0, 3, 5, n - 1])
    whole = propagate_grid(adj, start, alphas, anchors, 30)
    some = propagate_grid(adj, start, alphas, anchors, 30, rows=rows)
    for j, a in enumerate(alphas):
        col_alpha = torch.full((3,), float(a), dtype=torch.float64)
        ref = propagate(adj, start, col_alpha, anchors, 30)  # [N, 3]
        # float64 both ways: the same sums in another order, exact to rounding
        torch.testing.assert_close(whole[:, :, j], ref, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(some[:, :, j], ref[rows], rtol=1e-10, atol=1e-12)


def test_fit_predict_lookup_table_and_shapes():
    space = toy()
    archs = space.sample(40, rng=0)
    y = pair_target(space, archs)
    model = CorrectSmoothPredictor(space, random_state=0)
    assert model.fit(archs, y) is model
    everything = list(space.enumerate())
    pred = model.predict(everything)
    assert pred.dtype == np.float64 and pred.shape == (len(space),)
    assert model.predictions_.shape == (len(space),)
    truth = pair_target(space, everything)
    assert np.corrcoef(pred, truth)[0, 1] > 0.95  # noise-free target: nearly recovered
    assert model.correction_scores_.shape == (5, 1) and model.smoothing_scores_.shape == (8,)
    assert model.interactions_ in {"neighbours", "all"}  # the pair effect is found
    table = model.lookup_table()
    assert isinstance(table, LookupTable) and len(table) == len(space)
    np.testing.assert_allclose(table.frame["accuracy"], model.predictions_)
    np.testing.assert_allclose(model.predict_space(), model.predictions_)


@pytest.mark.parametrize("alphas", [(0.0,), (0.5,), (0.95,)])
def test_labelled_nodes_keep_their_label(alphas):
    space = toy()
    archs = space.sample(30, rng=2)
    y = pair_target(space, archs) + np.random.default_rng(0).normal(size=30)
    archs, y = archs + archs[:3], np.concatenate([y, y[:3] + 2.0])  # repeated: their mean
    model = CorrectSmoothPredictor(space, correction_alphas=alphas, smoothing_alphas=alphas,
                                   labelled="label", random_state=0).fit(archs, y)
    expect = np.concatenate([y[:3] + 1.0, y[3:30]])
    np.testing.assert_array_equal(model.predict(archs[:30]), expect)  # exact, float64
    assert model.smoothing_alpha_ == alphas[0] and model.correction_alpha_ == alphas[0]


def test_out_of_fold_predictions_of_labelled_nodes():
    space = toy()
    archs = space.sample(30, rng=2)
    truth = pair_target(space, archs)
    y = truth + np.random.default_rng(0).normal(size=30)
    kw = dict(interactions="all", random_state=0)
    label = CorrectSmoothPredictor(space, labelled="label", **kw).fit(archs, y)
    oof = CorrectSmoothPredictor(space, **kw).fit(archs, y)  # the default
    order = np.argsort(space.indices(archs))  # labelled_nodes_ are sorted
    np.testing.assert_array_equal(oof.predict(archs)[order], oof.out_of_fold_)
    np.testing.assert_array_equal(label.out_of_fold_, oof.out_of_fold_)
    others = np.setdiff1d(np.arange(len(space)), oof.labelled_nodes_)
    np.testing.assert_array_equal(oof.predictions_[others], label.predictions_[others])
    assert np.all(oof.predict(archs) != y)  # none copies its own label


def test_no_correction_no_smoothing_is_the_base_model():
    space = toy()
    archs = space.sample(30, rng=3)
    y = pair_target(space, archs) + np.random.default_rng(1).normal(size=30)
    model = CorrectSmoothPredictor(space, correction_alphas=(0.0,), smoothing_alphas=(0.0,),
                                   interactions="neighbours", random_state=0).fit(archs, y)
    labelled = set(space.indices(archs))
    others = [a for i, a in enumerate(space.enumerate()) if i not in labelled]
    # the propagation runs in float32: a few ulps of accuracies near 70
    np.testing.assert_allclose(model.predict(others), model.predict_base(others), atol=1e-4)
    # smoothing moves the unlabelled nodes toward their labelled neighbours, and so does
    # the correction (the target's pair effect of layers 0 and 1 is not all in the base)
    for change in (dict(smoothing_alphas=(0.9,)), dict(correction_alphas=(0.9,)),
                   dict(correction_alphas=(0.9,), correction_scales=(0.5,))):
        other = clone(model).set_params(**change).fit(archs, y)
        assert not np.allclose(other.predict(others), model.predict(others), atol=1e-3)


def test_any_predictor_as_the_base(tmp_path):
    space = toy()
    archs = space.sample(30, rng=3)
    y = pair_target(space, archs) + np.random.default_rng(1).normal(size=30)
    base = RidgePredictor(alpha=0.5)  # no space: it takes the one being fitted
    model = CorrectSmoothPredictor(space, base=base, correction_alphas=(0.0,),
                                   smoothing_alphas=(0.0,), random_state=0).fit(archs, y)
    assert base.get_params()["space"] is None  # cloned, not fitted in place
    alone = RidgePredictor(space, alpha=0.5).fit(archs, y)
    labelled = set(space.indices(archs))
    others = [a for i, a in enumerate(space.enumerate()) if i not in labelled]
    # no correction, no smoothing: the base's predictions (propagated in float32)
    np.testing.assert_allclose(model.predict(others), alone.predict(others), atol=1e-4)
    # the same ridge, fitted on the labelled nodes in sorted order: rounding differences only
    np.testing.assert_allclose(model.predict_base(others), alone.predict(others), rtol=1e-6)
    assert model.interactions_ is None and model.base_coef_ is None
    smoothed = clone(model).set_params(smoothing_alphas=(0.8,)).fit(archs, y)
    assert not np.allclose(smoothed.predict(others), model.predict(others), atol=1e-3)
    loaded = load(smoothed.save(tmp_path / "cs.safetensors"), space=space)
    assert isinstance(loaded.base_estimator_, RidgePredictor)
    np.testing.assert_array_equal(loaded.predict(others), smoothed.predict(others))
    np.testing.assert_array_equal(loaded.predict_base(others), smoothed.predict_base(others))


def test_cross_validation_picks_from_the_grid():
    space = toy((4, 4, 4, 4))
    archs = space.sample(80, rng=4)
    y = pair_target(space, archs) + np.random.default_rng(2).normal(scale=0.5, size=80)
    for scoring in ("kendall", "mse"):
        model = CorrectSmoothPredictor(space, correction_alphas=(0.0, 0.3, 0.9),
                                       correction_scales=(0.5, 1.0),
                                       smoothing_alphas=(0.0, 0.4, 0.8), scoring=scoring,
                                       random_state=0).fit(archs, y)
        j, i = np.unravel_index(np.argmax(model.correction_scores_), (3, 2))
        assert model.correction_alpha_ == (0.0, 0.3, 0.9)[j]
        assert model.correction_scale_ == (0.5, 1.0)[i]
        assert model.smoothing_alpha_ == (0.0, 0.4, 0.8)[np.argmax(model.smoothing_scores_)]
        if scoring == "mse":
            assert np.all(model.correction_scores_ < 0)  # negative MSE, higher is better
        else:
            assert np.all(np.abs(model.smoothing_scores_) <= 1)


def test_cross_validation_smooths_iid_noise_on_a_smooth_signal():
    """A signal constant over large regions of the graph plus i.i.d. noise, which the base
    ridge cannot fit: held-out labels are best predicted after smoothing."""
    space = toy((5, 5, 5, 5))
    everything = space.all_choices(dtype=np.int64)
    truth = 10.0 * np.cos(everything.sum(1) * 0.6) * (everything[:, 0] * everything[:, 2] % 3)
    idx = np.random.default_rng(5).choice(len(space), 300, replace=False)
    y = truth[idx] + np.random.default_rng(6).normal(size=300)
    model = CorrectSmoothPredictor(space, scoring="mse", random_state=0).fit(
        space.from_index(idx), y)
    assert model.correction_alpha_ > 0 or model.smoothing_alpha_ > 0


def test_same_seed_same_numbers():
    space = toy()
    archs = space.sample(40, rng=5)
    y = pair_target(space, archs) + np.random.default_rng(3).normal(size=40)
    a = CorrectSmoothPredictor(space, random_state=7).fit(archs, y)
    b = CorrectSmoothPredictor(space, random_state=7).fit(archs, y)
    np.testing.assert_array_equal(a.predictions_, b.predictions_)
    np.testing.assert_array_equal(a.smoothing_scores_, b.smoothing_scores_)
    c = CorrectSmoothPredictor(space, random_state=8).fit(archs, y)  # other folds
    assert not np.array_equal(a.smoothing_scores_, c.smoothing_scores_)


def test_subspace_registry_and_space_from_archs():
    root = toy((3, 3, 3, 3))
    base = root.decode([[0, 0, 0, 0]])[0]
    best = root.decode([[0, 0, 0, 0], [1, 2, 0, 0], [2, 1, 0, 0], [1, 1, 0, 0], [2, 2, 0, 0]])
    sub = root.subspace([0, 1, 2], base).with_supercell([0, 1], best)
    archs = sub.sample(10, rng=0)
    model = get_predictor("correct_smooth", space=sub, cv=3, random_state=0).fit(
        archs, np.arange(10.0))
    assert model.predictions_.shape == (len(sub),) == (15,)
    space = get_search_space("nasbench201")
    model = CorrectSmoothPredictor(random_state=0).fit(space.sample(20, rng=0),
                                                       np.linspace(0, 1, 20))
    assert model.space_.name == "nasbench201" and len(model.predictions_) == 15625


def test_errors():
    space = toy()
    archs = space.sample(12, rng=0)
    y = np.arange(12.0)
    with pytest.raises(NotFittedError, match="This CorrectSmoothPredictor instance is not "
                                             "fitted"):
        CorrectSmoothPredictor(space).predict(archs)
    with pytest.raises(ValueError, match="'scoring' parameter of CorrectSmoothPredictor must be "
                                         "a str among .*'kendall'.* Got 'r2' instead"):
        CorrectSmoothPredictor(space, scoring="r2").fit(archs, y)
    with pytest.raises(ValueError, match="'labelled' parameter of CorrectSmoothPredictor must "
                                         "be a str among .*'out_of_fold'.* Got 'oof'"):
        CorrectSmoothPredictor(space, labelled="oof").fit(archs, y)
    with pytest.raises(ValueError, match="'interactions' parameter of CorrectSmoothPredictor "
                                         "must be a str among .*'neighbours'.* Got 'pairs'"):
        CorrectSmoothPredictor(space, interactions="pairs").fit(archs, y)
    with pytest.raises(ValueError, match="'base' parameter of CorrectSmoothPredictor must be "
                                         "a str among \\{'ridge'\\} or an object implementing "
                                         "'fit' and 'predict_space'. Got 'gcn'"):
        CorrectSmoothPredictor(space, base="gcn").fit(archs, y)
    with pytest.raises(ValueError, match="'cv' parameter of CorrectSmoothPredictor must be an "
                                         "int in the range \\[2, inf\\). Got 1"):
        CorrectSmoothPredictor(space, cv=1).fit(archs, y)
    with pytest.raises(ValueError, match="'smoothing_alphas' parameter of "
                                         "CorrectSmoothPredictor must hold numbers in \\[0, 1\\) "
                                         ".*Got \\[0.5, 1.0\\]"):
        CorrectSmoothPredictor(space, smoothing_alphas=(0.5, 1.0)).fit(archs, y)
    for bad in ((), (-0.1,), ("a",), (np.nan,)):
        with pytest.raises(ValueError, match="'correction_alphas' parameter of "
                                             "CorrectSmoothPredictor must be a non-empty "
                                             "sequence of numbers in \\[0.0, 1.0\\]"):
            CorrectSmoothPredictor(space, correction_alphas=bad).fit(archs, y)
    with pytest.raises(ValueError, match="'correction_scales' .* numbers in \\[0.0, inf\\). "
                                         "Got \\(-1.0,\\)"):
        CorrectSmoothPredictor(space, correction_scales=(-1.0,)).fit(archs, y)
    with pytest.raises(ValueError, match="more distinct labelled architectures than 'cv' "
                                         "folds \\(5\\). Got 3"):
        CorrectSmoothPredictor(space).fit(archs[:3] * 4, y)
    with pytest.raises(ValueError, match="same length. Got 12 architectures and 11 targets"):
        CorrectSmoothPredictor(space).fit(archs, y[:11])
    with pytest.raises(ValueError, match="'device' parameter of CorrectSmoothPredictor must "
                                         "name a torch device"):
        CorrectSmoothPredictor(space, device="gpu7").fit(archs, y)
    with pytest.raises(ValueError, match="shape \\(4, 4\\) at layer 0"):
        CorrectSmoothPredictor(space, similarity=[np.zeros((2, 2))] * 4).fit(archs, y)
    big = toy((6,) * 9)
    with pytest.raises(MemoryError, match="10,077,696-node space .* more than the "
                                          "'max_memory_gb' budget of 0.50 GiB"):
        CorrectSmoothPredictor(big, max_memory_gb=0.5).fit(big.sample(12, rng=0), y)
    with pytest.raises(TypeError, match="takes from 1 to 2 positional arguments"):
        CorrectSmoothPredictor(space, "all")
    sub = space.subspace([0, 1], archs[0])
    outside = next(a for a in space.sample(50, rng=1) if a not in sub)
    model = CorrectSmoothPredictor(sub, cv=2).fit(sub.sample(6, rng=0), np.arange(6.0))
    with pytest.raises(ValueError, match="outside the subspace"):
        model.predict([outside])

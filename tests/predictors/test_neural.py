import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score

from archgraph.metrics import kendall_tau
from archgraph.predictors import NeuralPredictor
from archgraph.spaces import get_search_space

FAST = dict(hidden_channels=16, fc_channels=(16,), epochs=40, batch_size=32, lr=1e-2)


@pytest.fixture(scope="module")
def macro():
    space = get_search_space("macro")
    archs = space.sample(120, rng=0)
    c = space.encode(archs)
    y = 60.0 + 5.0 * (c == 2).sum(1) + 2.0 * (c[:, :3] == 1).sum(1)  # a learnable signal
    return space, archs, y


def test_learns_a_ranking(macro):
    space, archs, y = macro
    model = NeuralPredictor(space=space, random_state=0, **FAST).fit(archs[:80], y[:80])
    assert kendall_tau(y[80:], model.predict(archs[80:])) > 0.5
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert model.n_train_ == 80


def test_dense_prediction_equals_message_passing(macro):
    from archgraph.predictors.neural import predict_graph_net

    space, archs, y = macro
    model = NeuralPredictor(space=space, random_state=0, **FAST).fit(archs[:40], y[:40])
    assert model.batcher_.template is not None  # a chain space: predict takes the dense path
    sparse = predict_graph_net(model.net_, model.batcher_, archs, "cpu", dense=False)
    np.testing.assert_allclose(model.predict(archs), model.y_mean_ + model.y_std_ * sparse,
                               rtol=0, atol=1e-4)


def test_full_batch_and_minibatch_paths(macro):
    space, archs, y = macro
    kw = dict(FAST, epochs=3)
    full = NeuralPredictor(space=space, random_state=0, **dict(kw, batch_size=100))
    mini = NeuralPredictor(space=space, random_state=0, **dict(kw, batch_size=16))
    assert len(full.fit(archs[:60], y[:60]).loss_curve_) == 3
    mini.fit(archs[:60], y[:60])
    assert not np.allclose(full.predict(archs[60:]), mini.predict(archs[60:]))


def test_output_range_bounds_predictions(macro):
    space, archs, y = macro
    model = NeuralPredictor(space=space, output_range=(10.0, 100.0), random_state=0, **FAST)
    pred = model.fit(archs[:60], y[:60]).predict(archs)
    assert np.all((pred > 10.0) & (pred < 100.0))


def test_nb201_and_nb101_graphs():
    for name in ["nasbench201", "nasbench101"]:
        space = get_search_space(name)
        archs = space.sample(30, rng=0)
        y = np.linspace(0.5, 0.9, 30)
        pred = NeuralPredictor(space=space, random_state=0, **dict(FAST, epochs=3)).fit(
            archs, y).predict(archs)
        assert pred.shape == (30,) and np.all(np.isfinite(pred))


def test_sklearn_model_selection(macro):
    space, archs, y = macro
    est = NeuralPredictor(space=space, random_state=0, **dict(FAST, epochs=5))
    scores = cross_val_score(est, archs[:60], y[:60], cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    grid = GridSearchCV(est, {"lr": [1e-3, 1e-2]}, cv=2).fit(archs[:60], y[:60])
    assert grid.best_params_["lr"] in (1e-3, 1e-2)
    assert grid.predict(archs[60:]).shape == (60,)
    cloned = clone(est).get_params()
    assert cloned.pop("space").name == "macro"  # spaces are deep-copied by clone
    assert cloned == {k: v for k, v in est.get_params().items() if k != "space"}


def test_bad_input(macro):
    space, archs, y = macro
    est = NeuralPredictor(space=space, **dict(FAST, epochs=1))
    with pytest.raises(NotFittedError, match="This NeuralPredictor instance is not fitted yet"):
        est.predict(archs)
    with pytest.raises(ValueError, match="'archs' argument of NeuralPredictor must hold at least"):
        est.fit([], [])
    with pytest.raises(ValueError, match="same length. Got 10 architectures and 9 targets"):
        est.fit(archs[:10], y[:9])
    with pytest.raises(ValueError, match="'y' parameter of NeuralPredictor.fit must contain "
                                         "only finite"):
        est.fit(archs[:3], [1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="finite numbers. Got inf"):
        est.fit(archs[:3], [1.0, np.inf, 2.0])
    other = get_search_space("fairnas").sample(3, rng=0)
    with pytest.raises(ValueError, match="Expected an architecture of the 'macro' space"):
        est.fit(other, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="'archs' argument of NeuralPredictor must be a sequence"):
        est.fit("arch", [1.0])
    with pytest.raises(TypeError, match="The 'space' parameter of NeuralPredictor must be an "
                                        "instance of '.*SearchSpace'. Got None instead"):
        NeuralPredictor().fit(archs[:3], y[:3])
    with pytest.raises(ValueError, match="at least 2 architectures"):
        est.fit(archs[:1], y[:1])
    fitted = NeuralPredictor(space=space, **dict(FAST, epochs=1)).fit(archs[:5], y[:5])
    with pytest.raises(ValueError, match="'archs' argument of NeuralPredictor must hold at least"):
        fitted.predict([])


@pytest.mark.parametrize("param, value, exc, match", [
    ("lr", -1, ValueError, r"The 'lr' parameter of NeuralPredictor must be a float in the range "
                           r"\(0.0, inf\). Got -1 instead"),
    ("epochs", 0, ValueError, r"'epochs' parameter of NeuralPredictor must be an int in the "
                              r"range \[1, inf\). Got 0"),
    ("num_layers", 1.5, TypeError, "'num_layers' parameter of NeuralPredictor must be an int"),
    ("hidden_channels", 0, ValueError, "'hidden_channels' parameter .* Got 0"),
    ("batch_size", 0, ValueError, "'batch_size' parameter .* Got 0"),
    ("weight_decay", -0.1, ValueError, r"'weight_decay' parameter of NeuralPredictor must be a "
                                       r"float in the range \[0.0, inf\)"),
    ("fc_channels", 8, TypeError, "'fc_channels' parameter of NeuralPredictor must be an "
                                  "instance of 'tuple' or an instance of 'list'. Got 8"),
    ("fc_channels", (8, 0), ValueError, r"'fc_channels' parameter of NeuralPredictor must be a "
                                        r"sequence of positive ints. Got \(8, 0\)"),
    ("output_range", (100, 10), ValueError, "'output_range' parameter of NeuralPredictor must "
                                            "be None or a pair"),
    ("output_range", 10, TypeError, "'output_range' parameter of NeuralPredictor must be an "
                                    "instance of 'tuple', an instance of 'list' or None"),
    ("output_range", (80, 100), ValueError, "must lie strictly inside output_range"),
    ("device", "gpu7", ValueError, "'device' parameter of NeuralPredictor must name a torch "
                                   "device .* Got 'gpu7'"),
    ("device", 7.0, TypeError, "'device' parameter of NeuralPredictor must be an instance of "
                               "'str' or an instance of 'torch.device'"),
    ("random_state", "0", TypeError, "'random_state' parameter of NeuralPredictor must be an "
                                     "int in the range \\[0, inf\\), .*Generator"),
])
def test_bad_params(macro, param, value, exc, match):
    space, archs, y = macro
    with pytest.raises(exc, match=match):
        NeuralPredictor(space=space, **{**FAST, "epochs": 1, param: value}).fit(archs[:5], y[:5])


def test_keyword_only_hyperparameters(macro):
    space, _, _ = macro
    with pytest.raises(TypeError, match="takes from 1 to 2 positional arguments but 3"):
        NeuralPredictor(space, 3)
    assert NeuralPredictor(space, num_layers=2).get_params()["num_layers"] == 2

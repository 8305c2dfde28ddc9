"""One contract for every registered predictor: registering a predictor adds it here.

A predictor new to this file may need an entry in ``FAST`` (small settings so it fits in a
second), ``ALTERNATIVES`` (a changed value for parameters the generic rule of
``_changed`` cannot derive, e.g. strings and ``None``) or ``EXEMPT``/``EXEMPT_FOR`` (with the
reason).
"""
import inspect
import numbers

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks

import archgraph.predictors
from archgraph.graphs.similarity import measured_similarity
from archgraph.predictors import (
    BasePredictor,
    NeuralClassifier,
    NeuralPredictor,
    get_predictor,
    list_predictors,
)
from archgraph.spaces import SearchSpace, get_search_space

NET = dict(hidden_channels=16, fc_channels=(16,), epochs=30, batch_size=32, lr=1e-2)
#: small settings per predictor (its data-independent constructor arguments)
FAST = {"neural": NET, "random_forest": dict(n_estimators=10), "xgboost": dict(n_estimators=20),
        "gp": dict(n_restarts_optimizer=1),
        "space_gcn": dict(hidden_channels=16, epochs=30),
        "correct_smooth": dict(smoothing_alphas=(0.8,)),  # smooths, so every part matters
        "two_stage": dict(classifier=NeuralClassifier(**NET), regressor=NeuralPredictor(**NET))}
#: parameters that legitimately leave the predictions unchanged (a nested parameter
#: ``stage__name`` of a meta-estimator is looked up by its full name, then by ``name``)
EXEMPT = {"space": "fixed by the data",
          "device": "where the computation runs, same numbers on CPU",
          "verbose": "progress display only",
          "n_jobs": "threads only, same numbers (XGBoost's histogram trees are deterministic)",
          "graph": "two forms of the same space graph, same numbers",
          "max_memory_gb": "a resource check only",
          "clip": "acts only on predictions outside the labels' range "
                  "(tests/predictors/test_space_gcn_range.py)",
          "classifier": "an estimator: its own parameters are checked one by one",
          "regressor": "an estimator: its own parameters are checked one by one",
          "classifier__random_state": "replaced by the cascade's random_state",
          "regressor__random_state": "replaced by the cascade's random_state"}
#: as ``EXEMPT``, for one predictor only
EXEMPT_FOR = {"correct_smooth": {
    "correction_alphas": "the contract data are additive and noise-free, so the base ridge "
                         "leaves no residual to correct (test_correct_smooth.py)",
    "correction_scales": "as correction_alphas",
    "cv": "other folds may pick the same grid point, hence the same model "
          "(test_correct_smooth.py checks that the folds change the scores)",
    "random_state": "seeds the folds only: as cv",
    "scoring": "another criterion may pick the same grid point: as cv",
    "labelled": "acts on the labelled nodes only, this test predicts others "
                "(test_correct_smooth.py)"},
    "gp": {"kernel": "on these additive noise-free data both kernels take the linear limit "
                     "(long length scales) and interpolate the same additive fit "
                     "(test_baselines.py checks the kernels differ on interactions)",
           "n_restarts_optimizer": "more starts of the likelihood search find the same optimum "
                                   "on these data (test_baselines.py checks that restarts never "
                                   "lower the likelihood)",
           "random_state": "seeds the restarts only: as n_restarts_optimizer"}}
#: the checks of ``sklearn.utils.estimator_checks.check_estimator`` that need no array input
#: (``check_param_validation`` calls ``fit`` on arrays with invalid parameters, which our
#: ``fit`` rejects before it looks at the data)
SKLEARN_CHECKS = ["check_parameters_default_constructible", "check_no_attributes_set_in_init",
                  "check_get_params_invariance", "check_set_params",
                  "check_estimator_cloneable", "check_estimator_repr",
                  "check_do_not_raise_errors_in_init_or_set_params", "check_param_validation",
                  "check_mixin_order", "check_valid_tag_types",
                  "check_estimator_tags_renamed"]
#: changed values the generic rule cannot derive (a callable gets the space)
ALTERNATIVES = {"output_range": (0.0, 200.0), "features": "gray+onehot", "kernel": "rbf",
                "interactions": "all", "scoring": "mse", "labelled": "label",
                "base": lambda space: archgraph.predictors.RidgePredictor(),
                "correction_alphas": (0.3,),
                "smoothing_alphas": (0.0,), "correction_scales": (0.5,), "num_iterations": 1,
                "similarity": lambda space: measured_similarity(
                    [np.random.default_rng(l).random((o, 3)) for l, o in
                     enumerate(space.num_options)])}


@pytest.fixture(scope="module")
def data():
    root = get_search_space("macro")
    space = root.subspace([0, 2, 3, 5, 7], root.sample(1, rng=3)[0])  # 243 architectures
    archs = list(space.enumerate())
    c = space.encode(archs)
    y = 60.0 + 5.0 * (c == 2).sum(1) + 2.0 * (c[:, :2] == 1).sum(1) + 0.1 * c[:, 4]
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(archs))
    train, test = idx[:60], idx[60:100]
    return (space, [archs[i] for i in train], y[train], [archs[i] for i in test])


def _make(name, space, y, **kw):
    kw = {**FAST.get(name, {}), **kw}
    if name == "two_stage":
        kw.setdefault("threshold", float(np.median(y)))
    return get_predictor(name, space=space, **kw)


def _changed(name, value, space, y):
    if name == "threshold":
        return float(np.quantile(y, 0.3))
    if name in ALTERNATIVES:
        alt = ALTERNATIVES[name]
        return alt(space) if callable(alt) else alt
    if isinstance(value, bool):
        return not value
    if isinstance(value, numbers.Integral):
        return value // 2 if value >= 2 else value + 1
    if isinstance(value, numbers.Real):
        return value / 2 if value else 1e-2
    if isinstance(value, (tuple, list)):
        return tuple(value) + (value[-1],)
    raise AssertionError(f"No changed value for parameter {name!r}={value!r}: add it to "
                         f"ALTERNATIVES or EXEMPT in this file.")


@pytest.mark.parametrize("name", list_predictors())
def test_contract(name, data):
    space, archs, y, test = data
    est = _make(name, space, y, **({"random_state": 0}
                                   if "random_state" in _make(name, space, y).get_params()
                                   else {}))
    with pytest.raises(NotFittedError, match=f"This {type(est).__name__} instance is not "
                                             f"fitted yet. Call 'fit'"):
        est.predict(test)
    assert est.fit(archs, y) is est
    pred = est.predict(test)
    assert isinstance(pred, np.ndarray) and pred.shape == (len(test),)
    assert np.all(np.isfinite(pred))
    again = clone(est)
    np.testing.assert_array_equal(again.fit(archs, y).predict(test), pred)  # same random_state

    def plain(params):  # nested estimators compare through their own (deep) parameters
        return {k: v for k, v in params.items()
                if k != "space" and not isinstance(v, BaseEstimator)}

    params = est.get_params()
    cloned = clone(est).get_params()
    assert {k for k, v in cloned.items() if isinstance(v, SearchSpace)} <= {"space"}
    assert plain(cloned) == plain(params)


@pytest.mark.parametrize("name", list_predictors())
def test_bad_input(name, data):
    space, archs, y, test = data
    est = _make(name, space, y)
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="'y' parameter of .* must contain only finite "
                                             "numbers"):
            clone(est).fit(archs, np.where(np.arange(len(y)) == 3, bad, y))
    with pytest.raises(ValueError, match="must have the same length"):
        clone(est).fit(archs, y[:-1])
    est.fit(archs, y)
    other = get_search_space("nasbench201").sample(2, rng=0)
    with pytest.raises(ValueError, match="Expected an architecture of the 'macro' space. Got "
                                         "one of the 'nasbench201' space"):
        est.predict(other)


@pytest.mark.slow
@pytest.mark.parametrize("name", list_predictors())
def test_every_parameter_changes_the_model(name, data):
    space, archs, y, test = data
    base = _make(name, space, y)
    if "random_state" in base.get_params():
        base.set_params(random_state=0)
    pred = base.fit(archs, y).predict(test)
    for param, value in base.get_params().items():
        if param in EXEMPT or param.rsplit("__", 1)[-1] in EXEMPT or \
                param in EXEMPT_FOR.get(name, {}):
            continue
        alt = _changed(param.rsplit("__", 1)[-1], value, space, y)
        changed = clone(base).set_params(**{param: alt})
        other = changed.fit(archs, y).predict(test)
        assert not np.allclose(other, pred), f"{name}: changing {param!r} changed nothing"


@pytest.mark.parametrize("check", SKLEARN_CHECKS)
@pytest.mark.parametrize("name", list_predictors())
def test_sklearn_estimator_checks(name, check, data):
    space = data[0]
    est = get_predictor(name, space=space)  # a space first: the checks validate the rest
    getattr(estimator_checks, check)(type(est).__name__, est)


@pytest.mark.parametrize("name", list_predictors())
def test_fit_does_not_change_parameters(name, data):
    """``check_estimators_overwrite_params`` and ``check_dont_overwrite_parameters`` on
    architectures: ``fit`` leaves the parameters as given and adds only attributes ending
    in ``_``."""
    space, archs, y, _ = data
    est = _make(name, space, y)
    before = {k: joblib.hash(v) for k, v in est.get_params().items()}
    public = set(vars(est))
    est.fit(archs, y)
    assert {k: joblib.hash(v) for k, v in est.get_params().items()} == before
    added = set(vars(est)) - public
    assert added and all(k.endswith("_") for k in added if not k.startswith("_")), added


@pytest.mark.parametrize("name", list_predictors())
def test_signature_clone_and_export(name, data):
    space = data[0]
    est = get_predictor(name, space=space)
    cls = type(est)
    assert isinstance(est, BasePredictor) and getattr(archgraph.predictors, cls.__name__) is cls
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert params[0].name == "space"
    assert all(p.kind is p.KEYWORD_ONLY for p in params[1:]), cls  # hyperparameters after *
    with pytest.raises(TypeError, match="positional argument"):
        cls(space, params[1].default)
    default = cls(space=space).get_params(deep=False)
    assert set(default) == {p.name for p in params}
    assert default == {"space": space, **{p.name: p.default for p in params[1:]}}
    twin = clone(est)
    assert twin is not est and type(twin) is cls
    assert {k: v for k, v in twin.get_params(deep=False).items() if k != "space"} == \
        {k: v for k, v in default.items() if k != "space"}
    assert twin.get_params()["space"].name == space.name  # clone deep-copies the space
    for value in default.values():  # nested estimators come back unfitted clones
        assert not isinstance(value, BaseEstimator) or not hasattr(value, "n_train_")


def test_one_vocabulary_of_hyperparameters():
    """The shared hyperparameters have one name in every predictor (no ``hidden`` beside
    ``hidden_channels``)."""
    names = set()
    for name in list_predictors():
        names |= set(get_predictor(name).get_params(deep=False))
    synonyms = {"hidden", "layers", "n_layers", "num_epochs", "learning_rate", "seed",
                "hidden_dim", "hidden_size", "wd", "drop"}
    assert not names & synonyms, names & synonyms

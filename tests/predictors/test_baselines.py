import json
import sys

import numpy as np
import pytest

from archgraph.metrics import kendall_tau
from archgraph.predictors import (
    GaussianProcessPredictor,
    RandomForestPredictor,
    RidgePredictor,
    XGBoostPredictor,
    load,
)
from archgraph.spaces import get_search_space

try:
    import xgboost  # noqa: F401
    HAS_XGBOOST = True
except ImportError:
    HAS_XGBOOST = False
needs_xgboost = pytest.mark.skipif(not HAS_XGBOOST, reason="xgboost is not installed: pip "
                                                           "install 'archgraph[xgboost]'")
BASELINES = [RidgePredictor, RandomForestPredictor, GaussianProcessPredictor,
             pytest.param(XGBoostPredictor, marks=needs_xgboost)]


@pytest.fixture(scope="module")
def macro():
    space = get_search_space("macro")
    archs = space.sample(200, rng=0)
    y = space.features(archs) @ np.random.default_rng(0).normal(size=24)  # additive signal
    return space, archs, y


@pytest.fixture(scope="module")
def interacting(macro):
    """The additive signal plus products of pairs of layers' choices: no linear model fits it."""
    space, archs, y = macro
    c = space.encode(archs).astype(float)
    return space, archs, y + 0.8 * (c[:, 0] * c[:, 1] - c[:, 2] * c[:, 5] + c[:, 3] * c[:, 7])


@pytest.mark.parametrize("cls", BASELINES)
def test_learns_additive_signal(cls, macro):
    space, archs, y = macro
    model = cls(space=space).fit(archs[:150], y[:150])
    assert kendall_tau(y[150:], model.predict(archs[150:])) > 0.5


@pytest.mark.data
@pytest.mark.parametrize("cls", BASELINES)
def test_learns_nasbench201(cls, shared_data):
    """N = 200 cells of NB201 (CIFAR-10, 200-epoch test accuracy), tau on the 15,425 others.
    A ranking with no information has tau 0 +- 0.006 (one standard deviation over that many
    cells); the baselines reach 0.43 (ridge) to 0.6 (XGBoost) at N = 200, mean of 5 splits in
    BENCHMARKS.md, 0.37 at the lowest split. The floor of 0.3 fails a model that learns
    little while leaving room for the split-to-split spread."""
    from archgraph.datasets.benchmarks import load_nasbench201

    space = get_search_space("nasbench201")
    df = load_nasbench201(shared_data)
    archs = [space.from_str(s) for s in df["arch"]]
    y = df["cifar10_test_200"].to_numpy()
    perm = np.random.default_rng(0).permutation(len(archs))
    train, test = perm[:200], perm[200:]
    kw = {} if cls is RidgePredictor else {"random_state": 0}
    model = cls(space=space, **kw).fit([archs[i] for i in train], y[train])
    assert kendall_tau(y[test], model.predict([archs[i] for i in test])) > 0.3


def test_ridge_penalty_shrinks(macro):
    space, archs, y = macro
    loose = RidgePredictor(space=space, alpha=1e-3).fit(archs, y).predict(archs)
    tight = RidgePredictor(space=space, alpha=1e3).fit(archs, y).predict(archs)
    assert np.abs(loose - y).max() < 1e-2  # the signal is exactly additive
    assert tight.std() < loose.std()


def test_gp_kernels_differ_on_interactions(interacting):
    space, archs, y = interacting
    fits = [GaussianProcessPredictor(space=space, kernel=k, random_state=0)
            .fit(archs[:150], y[:150]) for k in ("matern", "rbf")]
    preds = [f.predict(archs[150:]) for f in fits]
    assert not np.allclose(*preds)
    for pred in preds:  # and both learn what ridge cannot fit exactly
        assert kendall_tau(y[150:], pred) > 0.5


def test_gp_restarts_never_lower_the_likelihood(interacting):
    """Restarts add starting points to the first, deterministic one; the fit keeps the best."""
    space, archs, y = interacting
    lml = [GaussianProcessPredictor(space=space, n_restarts_optimizer=r, random_state=0)
           .fit(archs[:80], y[:80]).model_.log_marginal_likelihood_value_ for r in (0, 3)]
    assert lml[1] >= lml[0]


def test_gp_fits_label_noise(macro):
    """The WhiteKernel takes up noise on the labels: larger noise, larger fitted level."""
    space, archs, y = macro
    rng = np.random.default_rng(1)
    levels = []
    for scale in (0.0, 1.0):
        model = GaussianProcessPredictor(space=space, random_state=0).fit(
            archs, y + scale * rng.normal(size=len(y)))
        levels.append(model.model_.kernel_.k2.noise_level)
    assert levels[1] > 100 * levels[0]


@pytest.mark.parametrize("cls", [GaussianProcessPredictor,
                                 pytest.param(XGBoostPredictor, marks=needs_xgboost)])
def test_predict_space_equals_predict(cls, macro):
    space, archs, y = macro
    model = cls(space=space, random_state=0).fit(archs, y)
    sub = space.subspace([1, 4, 6], space.sample(1, rng=5)[0])  # 27 architectures
    # the same one-hot rows either way; only the chunking of the products changes. On these
    # additive labels the GP takes the linear limit (variance ~1e3, long length scale), so
    # K @ alpha_ sums terms of ~1e4 to values of ~1 and the chunking moves it by a few ulps
    # of those terms (6e-11 here), far below 1e-8 of the targets' range
    np.testing.assert_allclose(model.predict_space(sub, chunk_size=10),
                               model.predict(list(sub.enumerate())), rtol=0,
                               atol=1e-8 * np.ptp(y))


@needs_xgboost
def test_xgboost_threads_give_the_same_numbers(macro):
    space, archs, y = macro
    one, two = (XGBoostPredictor(space=space, n_jobs=j, random_state=0).fit(archs, y)
                .predict(archs) for j in (1, 2))
    np.testing.assert_array_equal(one, two)


@needs_xgboost
def test_xgboost_seed_and_subsample(macro):
    space, archs, y = macro

    def fit(**kw):
        return XGBoostPredictor(space=space, **kw).fit(archs, y).predict(archs)

    assert not np.allclose(fit(random_state=0), fit(random_state=1))
    # without subsampling every tree sees every architecture: the seed has nothing to draw
    np.testing.assert_array_equal(fit(subsample=1.0, random_state=0),
                                  fit(subsample=1.0, random_state=1))
    gen = fit(random_state=np.random.default_rng(3))
    assert gen.shape == (len(archs),) and np.isfinite(gen).all()


def test_xgboost_missing_names_the_extra(macro, monkeypatch, tmp_path):
    space, archs, y = macro
    model = XGBoostPredictor(space=space)  # built without xgboost: it is needed by fit
    monkeypatch.setitem(sys.modules, "xgboost", None)
    with pytest.raises(ImportError, match=r"XGBoostPredictor needs xgboost: pip install "
                                          r"'archgraph\[xgboost\]'"):
        model.fit(archs, y)


@needs_xgboost
def test_xgboost_file_needs_xgboost(macro, monkeypatch, tmp_path):
    space, archs, y = macro
    path = XGBoostPredictor(space=space, n_estimators=5).fit(archs, y).save(tmp_path / "x.st")
    monkeypatch.setitem(sys.modules, "xgboost", None)
    with pytest.raises(ImportError, match=r"pip install 'archgraph\[xgboost\]'"):
        load(path)


def _resave(path, out, arrays=None, params=None):
    """A copy of predictor file ``path`` with some tensors or parameters replaced and a
    matching checksum (a file written wrong, not one damaged on the way)."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    from archgraph.utils.io import state_digest
    with safe_open(str(path), "np") as fh:
        meta = dict(fh.metadata())
    tensors = {**load_file(str(path)), **(arrays or {})}
    header = json.loads(meta["archgraph"])
    header["params"].update(params or {})
    meta["archgraph"] = json.dumps(header, sort_keys=True)
    meta["sha256"] = state_digest({"header": meta["archgraph"], "arrays": tensors})
    save_file(tensors, str(out), metadata=meta)
    return out


def test_gp_file_with_inconsistent_state_is_refused(macro, tmp_path):
    space, archs, y = macro
    path = GaussianProcessPredictor(space=space, random_state=0).fit(archs[:50], y[:50]).save(
        tmp_path / "gp.st")
    bad = _resave(path, tmp_path / "short.st", arrays={"state.model_.L_": np.eye(49)})
    with pytest.raises(ValueError, match=r"does not fit GaussianProcessPredictor .*inputs "
                                         r"\(50, 24\), alpha_ \(50,\), L_ \(49, 49\).*expected "
                                         r"50 training architectures"):
        load(bad)
    nan = np.eye(50)
    nan[3, 1] = np.nan
    bad = _resave(path, tmp_path / "nan.st", arrays={"state.model_.L_": nan})
    with pytest.raises(ValueError, match="holds non-finite numbers"):
        load(bad)
    bad = _resave(path, tmp_path / "rbf.st", params={"kernel": "rbf"})
    with pytest.raises(ValueError, match="fitted with the 'matern' kernel, its parameters say "
                                         "'rbf'"):
        load(bad)


@needs_xgboost
def test_xgboost_file_with_bad_model_bytes_is_refused(macro, tmp_path):
    space, archs, y = macro
    path = XGBoostPredictor(space=space, n_estimators=5, random_state=0).fit(archs, y).save(
        tmp_path / "x.st")
    bad = _resave(path, tmp_path / "junk.st",
                  arrays={"state.model_.ubj": np.frombuffer(b"not a model", dtype=np.uint8)})
    with pytest.raises(ValueError, match=r"does not fit XGBoostPredictor .*model bytes do not "
                                         r"load"):
        load(bad)
    bad = _resave(path, tmp_path / "rounds.st", params={"n_estimators": 7})
    with pytest.raises(ValueError, match="the stored booster has 5 boosting rounds, expected "
                                         "n_estimators=7"):
        load(bad)


def test_bad_params(macro):
    space, archs, y = macro
    with pytest.raises(ValueError, match=r"The 'alpha' parameter of RidgePredictor must be a "
                                         r"float in the range \[0.0, inf\). Got -1.0 instead"):
        RidgePredictor(space=space, alpha=-1.0).fit(archs, y)
    with pytest.raises(ValueError, match=r"'max_features' parameter of RandomForestPredictor "
                                         r"must be a float in the range \(0.0, 1.0\]. Got 2.0"):
        RandomForestPredictor(space=space, max_features=2.0).fit(archs, y)
    with pytest.raises(ValueError, match=r"'n_estimators' parameter of RandomForestPredictor "
                                         r"must be an int in the range \[1, inf\). Got 0"):
        RandomForestPredictor(space=space, n_estimators=0).fit(archs, y)
    with pytest.raises(TypeError, match="takes from 1 to 2 positional arguments"):
        RidgePredictor(space, 1.0)  # hyperparameters are keyword-only
    with pytest.raises(ValueError, match="Expected an architecture of the 'macro' space"):
        RidgePredictor(space=space).fit(get_search_space("nasbench201").sample(3, rng=0), y[:3])


@pytest.mark.parametrize("cls, kw, message", [
    (GaussianProcessPredictor, dict(kernel="linear"),
     r"The 'kernel' parameter of GaussianProcessPredictor must be a str among "
     r"\{'(matern|rbf)', '(matern|rbf)'\}. Got 'linear' instead"),  # a set: either order
    (GaussianProcessPredictor, dict(n_restarts_optimizer=-1),
     r"The 'n_restarts_optimizer' parameter of GaussianProcessPredictor must be an int in the "
     r"range \[0, inf\). Got -1 instead"),
    (GaussianProcessPredictor, dict(random_state="seed"),
     r"The 'random_state' parameter of GaussianProcessPredictor must be .*Got 'seed' instead"),
    (XGBoostPredictor, dict(n_estimators=0),
     r"The 'n_estimators' parameter of XGBoostPredictor must be an int in the range "
     r"\[1, inf\). Got 0 instead"),
    (XGBoostPredictor, dict(max_depth=0),
     r"The 'max_depth' parameter of XGBoostPredictor must be an int in the range \[1, inf\). "
     r"Got 0 instead"),
    (XGBoostPredictor, dict(lr=0.0),
     r"The 'lr' parameter of XGBoostPredictor must be a float in the range \(0.0, 1.0\]. "
     r"Got 0.0 instead"),
    (XGBoostPredictor, dict(lr=1.5), r"The 'lr' parameter of XGBoostPredictor .*Got 1.5"),
    (XGBoostPredictor, dict(subsample=0),
     r"The 'subsample' parameter of XGBoostPredictor must be a float in the range "
     r"\(0.0, 1.0\]. Got 0 instead"),
    (XGBoostPredictor, dict(n_jobs=0),
     r"The 'n_jobs' parameter of XGBoostPredictor must be an int in the range \[1, inf\) or "
     r"None. Got 0 instead"),
])
def test_bad_params_of_gp_and_xgboost(cls, kw, message, macro):
    space, archs, y = macro
    with pytest.raises(ValueError, match=message):  # checked before xgboost is imported
        cls(space=space, **kw).fit(archs, y)

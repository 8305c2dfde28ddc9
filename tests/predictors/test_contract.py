"""One contract for every registered predictor: registering a predictor adds it here.

A predictor new to this file may need an entry in ``FAST`` (small settings so it fits in a
second), ``ALTERNATIVES`` (a changed value for parameters the generic rule of
``_changed`` cannot derive, e.g. strings and ``None``) or ``EXEMPT`` (with the reason).
"""
import numbers

import numpy as np
import pytest
from sklearn.base import clone

from archgraph.graphs.similarity import measured_similarity
from archgraph.predictors import get_predictor, list_predictors
from archgraph.spaces import SearchSpace, get_search_space
from archgraph.utils.validation import NotFittedError

NET = dict(hidden_channels=16, fc_channels=(16,), epochs=30, batch_size=32, lr=1e-2)
#: small settings per predictor (its data-independent constructor arguments)
FAST = {"neural": NET, "two_stage": NET, "random_forest": dict(n_estimators=10),
        "space_gcn": dict(hidden=16, epochs=30)}
#: parameters that legitimately leave the predictions unchanged
EXEMPT = {"space": "fixed by the data",
          "device": "where the computation runs, same numbers on CPU",
          "verbose": "progress display only",
          "graph": "two forms of the same space graph, same numbers",
          "max_memory_gb": "a resource check only"}
#: changed values the generic rule cannot derive (a callable gets the space)
ALTERNATIVES = {"output_range": (0.0, 200.0), "features": "gray+onehot",
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
    with pytest.raises(NotFittedError, match="is not fitted yet. Call 'fit'"):
        est.predict(test)
    assert est.fit(archs, y) is est
    pred = est.predict(test)
    assert isinstance(pred, np.ndarray) and pred.shape == (len(test),)
    assert np.all(np.isfinite(pred))
    again = clone(est)
    np.testing.assert_array_equal(again.fit(archs, y).predict(test), pred)  # same random_state

    params = est.get_params()
    cloned = clone(est).get_params()
    assert {k for k, v in cloned.items() if isinstance(v, SearchSpace)} <= {"space"}
    assert {k: v for k, v in cloned.items() if k != "space"} == \
        {k: v for k, v in params.items() if k != "space"}


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
        if param in EXEMPT:
            continue
        changed = clone(base).set_params(**{param: _changed(param, value, space, y)})
        other = changed.fit(archs, y).predict(test)
        assert not np.allclose(other, pred), f"{name}: changing {param!r} changed nothing"

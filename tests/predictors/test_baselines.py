import numpy as np
import pytest

from archgraph.metrics import kendall_tau
from archgraph.predictors import RandomForestPredictor, RidgePredictor
from archgraph.spaces import get_search_space


@pytest.fixture(scope="module")
def macro():
    space = get_search_space("macro")
    archs = space.sample(200, rng=0)
    y = space.features(archs) @ np.random.default_rng(0).normal(size=24)  # additive signal
    return space, archs, y


@pytest.mark.parametrize("cls", [RidgePredictor, RandomForestPredictor])
def test_learns_additive_signal(cls, macro):
    space, archs, y = macro
    model = cls(space=space).fit(archs[:150], y[:150])
    assert kendall_tau(y[150:], model.predict(archs[150:])) > 0.5


def test_ridge_penalty_shrinks(macro):
    space, archs, y = macro
    loose = RidgePredictor(space=space, alpha=1e-3).fit(archs, y).predict(archs)
    tight = RidgePredictor(space=space, alpha=1e3).fit(archs, y).predict(archs)
    assert np.abs(loose - y).max() < 1e-2  # the signal is exactly additive
    assert tight.std() < loose.std()


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

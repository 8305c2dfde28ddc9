import numpy as np
import pytest

from archgraph.predictors import RidgePredictor
from archgraph.predictors.tuning import tune_predictor
from archgraph.spaces import get_search_space


@pytest.fixture(scope="module")
def macro():
    space = get_search_space("macro")
    archs = space.sample(90, rng=0)
    y = space.features(archs) @ np.random.default_rng(0).normal(size=24)
    return space, archs, y


def test_picks_best_and_refits_on_all(macro):
    space, archs, y = macro
    est = RidgePredictor(space=space)
    res = tune_predictor(est, archs, y, {"alpha": [1e-3, 1e4]}, random_state=0)
    assert res.best_params == {"alpha": 1e-3}
    assert [p["alpha"] for p, _ in res.results] == [1e-3, 1e4]
    assert res.best_score == max(s for _, s in res.results)
    assert res.best_estimator.n_train_ == 90 and res.best_estimator.alpha == 1e-3
    assert not hasattr(est, "n_train_")  # the given estimator is untouched


def test_bad_input(macro):
    space, archs, y = macro
    est = RidgePredictor(space=space)
    with pytest.raises(ValueError, match=r"The 'holdout' parameter of tune_predictor must be "
                                         r"a float in the range \(0.0, 1.0\). Got 1.5 instead"):
        tune_predictor(est, archs, y, {"alpha": [1.0]}, holdout=1.5)
    with pytest.raises(ValueError, match="must leave at least 2 pairs"):
        tune_predictor(est, archs[:4], y[:4], {"alpha": [1.0]})
    with pytest.raises(ValueError, match="same length"):
        tune_predictor(est, archs, y[:5], {"alpha": [1.0]})
    with pytest.raises(ValueError, match=r"names \['lr'\], which RidgePredictor does not have"):
        tune_predictor(est, archs, y, {"lr": [1.0]})
    with pytest.raises(TypeError, match="'param_grid' parameter of tune_predictor must be an "
                                        "instance of 'dict' or an instance of 'list'. Got 3"):
        tune_predictor(est, archs, y, 3)
    with pytest.raises(TypeError, match="Parameter grid for parameter 'alpha' needs to be a "
                                        "list or a numpy array"):
        tune_predictor(est, archs, y, {"alpha": 1.0})
    with pytest.raises(TypeError, match="'estimator' parameter of tune_predictor must be an "
                                        "object implementing 'fit', 'predict'"):
        tune_predictor(object(), archs, y, {"alpha": [1.0]})
    with pytest.raises(ValueError, match="'y' parameter of tune_predictor must contain only "
                                         "finite"):
        tune_predictor(est, archs[:3], [1.0, np.nan, 2.0], {"alpha": [1.0]})

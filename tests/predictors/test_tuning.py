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


def test_k_random_splits_one_third_held_out_mean_mse(macro):
    """Wen et al.'s recipe: the score of a grid point is the mean over k splits of minus the
    validation MSE on 30 of the 90 pairs, the model fitted on the other 60."""
    space, archs, y = macro
    est = RidgePredictor(space=space)
    res = tune_predictor(est, archs, y, {"alpha": [0.1, 10.0]}, n_splits=4, random_state=3)
    assert np.shape(res.split_scores) == (2, 4)
    assert [s for _, s in res.results] == pytest.approx(np.mean(res.split_scores, axis=1))
    # recompute the first split by hand: the same permutation of the same seed
    perm = np.random.default_rng(3).permutation(90)
    val, train = perm[:30], perm[30:]
    model = RidgePredictor(space=space, alpha=0.1).fit([archs[i] for i in train], y[train])
    mse = np.mean((model.predict([archs[i] for i in val]) - y[val]) ** 2)
    assert res.split_scores[0][0] == pytest.approx(-mse, rel=1e-12)
    assert all(s <= 0 for row in res.split_scores for s in row)  # minus an MSE
    assert len(set(res.split_scores[0])) == 4  # different splits, different scores


def test_kendall_and_callable_scoring_and_same_seed(macro):
    space, archs, y = macro
    est = RidgePredictor(space=space)
    grid = {"alpha": [1e-3, 1e4]}
    kendall = tune_predictor(est, archs, y, grid, scoring="kendall", random_state=0)
    assert all(-1 <= s <= 1 for _, s in kendall.results)
    assert kendall.best_params == {"alpha": 1e-3}

    def neg_max_error(y_true, y_pred):
        return -float(np.max(np.abs(y_true - y_pred)))

    custom = tune_predictor(est, archs, y, grid, scoring=neg_max_error, random_state=0)
    assert all(s <= 0 for _, s in custom.results)
    again = tune_predictor(est, archs, y, grid, scoring="kendall", random_state=0)
    assert again.split_scores == kendall.split_scores
    other = tune_predictor(est, archs, y, grid, scoring="kendall", random_state=1)
    assert other.split_scores != kendall.split_scores


def test_bad_input(macro):
    space, archs, y = macro
    est = RidgePredictor(space=space)
    with pytest.raises(ValueError, match=r"The 'holdout' parameter of tune_predictor must be "
                                         r"a float in the range \(0.0, 1.0\). Got 1.5 instead"):
        tune_predictor(est, archs, y, {"alpha": [1.0]}, holdout=1.5)
    with pytest.raises(ValueError, match=r"The 'n_splits' parameter of tune_predictor must be "
                                         r"an int in the range \[1, inf\). Got 0 instead"):
        tune_predictor(est, archs, y, {"alpha": [1.0]}, n_splits=0)
    with pytest.raises(ValueError, match=r"The 'scoring' parameter of tune_predictor must be "
                                         r"a str among .*'mse'.* or a callable. Got 'r2'"):
        tune_predictor(est, archs, y, {"alpha": [1.0]}, scoring="r2")
    with pytest.raises(TypeError, match="too many positional arguments"):
        tune_predictor(est, archs, y, {"alpha": [1.0]}, 3)  # n_splits is keyword-only
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

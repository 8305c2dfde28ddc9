import numpy as np
import pytest

from archgraph.predictors import TwoStagePredictor
from archgraph.spaces import get_search_space
from archgraph.utils.validation import NotFittedError

FAST = dict(hidden_channels=16, fc_channels=(16,), epochs=40, batch_size=64, lr=1e-2)


@pytest.fixture(scope="module")
def macro():
    space = get_search_space("macro")
    archs = space.sample(140, rng=0)
    c = space.encode(archs)
    y = 60.0 + 5.0 * (c == 2).sum(1) + 2.0 * (c[:, :3] == 1).sum(1)
    return space, archs, y


def test_rejected_rank_below_accepted(macro):
    space, archs, y = macro
    threshold = float(np.median(y[:80]))
    model = TwoStagePredictor(space=space, threshold=threshold, random_state=0, **FAST)
    model.fit(archs[:80], y[:80])
    assert 2 <= model.n_positive_ < 80
    prob = model.accept_proba(archs[80:])
    pred = model.predict(archs[80:])
    accepted = prob >= 0.5
    assert accepted.any() and (~accepted).any()
    assert pred[~accepted].max() < threshold <= pred[accepted].min()
    # rejected ones are ordered by the classifier's probability
    rej = np.flatnonzero(~accepted)
    assert np.all(np.diff(pred[rej][np.argsort(prob[rej])]) >= 0)
    fnr = model.false_negative_rate(archs[80:], y[80:])
    assert 0.0 <= fnr < 0.5


def test_regressor_sees_only_positives(macro):
    space, archs, y = macro
    threshold = float(np.quantile(y[:80], 0.7))
    model = TwoStagePredictor(space=space, threshold=threshold, random_state=0,
                              **dict(FAST, epochs=2)).fit(archs[:80], y[:80])
    assert model.regressor_.n_train_ == int((y[:80] >= threshold).sum())
    assert model.regressor_.epochs == 2 and model.regressor_.space is space


def test_bad_input(macro):
    space, archs, y = macro
    kw = dict(FAST, epochs=1)
    with pytest.raises(NotFittedError, match="This TwoStagePredictor instance is not fitted"):
        TwoStagePredictor(space=space, threshold=70.0).predict(archs)
    with pytest.raises(TypeError, match="'threshold' parameter of TwoStagePredictor must be a "
                                        "finite float"):
        TwoStagePredictor(space=space, **kw).fit(archs[:20], y[:20])
    with pytest.raises(ValueError, match="'threshold' parameter of TwoStagePredictor must be a "
                                         "finite float.*Got nan"):
        TwoStagePredictor(space=space, threshold=float("nan"), **kw).fit(archs[:20], y[:20])
    with pytest.raises(ValueError, match="leaves no positive class: 0 of 20"):
        TwoStagePredictor(space=space, threshold=1e3, **kw).fit(archs[:20], y[:20])
    one = float(np.sort(y[:20])[-1])  # only the best of the 20 reaches it
    with pytest.raises(ValueError, match="leaves a single positive: 1 of 20"):
        TwoStagePredictor(space=space, threshold=one, **kw).fit(archs[:20], y[:20])
    with pytest.raises(ValueError, match="leaves no negative class: 20 of 20"):
        TwoStagePredictor(space=space, threshold=0.0, **kw).fit(archs[:20], y[:20])
    with pytest.raises(ValueError, match="same length"):
        TwoStagePredictor(space=space, threshold=70.0, **kw).fit(archs[:20], y[:19])
    model = TwoStagePredictor(space=space, threshold=float(np.median(y)), **kw).fit(archs, y)
    with pytest.raises(ValueError, match="holds no target >= threshold"):
        model.false_negative_rate(archs[:5], np.zeros(5))
    with pytest.raises(ValueError, match="false_negative_rate must have the same length"):
        model.false_negative_rate(archs[:5], y[:4])
    with pytest.raises(ValueError, match="must contain only finite numbers"):
        model.false_negative_rate(archs[:2], [np.nan, 1.0])

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from archgraph.predictors import (
    NeuralClassifier,
    NeuralPredictor,
    RidgePredictor,
    TwoStagePredictor,
)
from archgraph.spaces import get_search_space

FAST = dict(hidden_channels=16, fc_channels=(16,), epochs=40, batch_size=64, lr=1e-2)


def stages(**kw):
    """Small GCN stages (the defaults are the paper's, too slow for a test)."""
    net = dict(FAST, **kw)
    return dict(classifier=NeuralClassifier(**net), regressor=NeuralPredictor(**net))


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
    model = TwoStagePredictor(space=space, threshold=threshold, random_state=0, **stages())
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


def test_stages_are_clones_on_the_cascade_space(macro):
    space, archs, y = macro
    threshold = float(np.quantile(y[:80], 0.7))
    given = stages(epochs=2)
    model = TwoStagePredictor(space=space, threshold=threshold, random_state=0,
                              **given).fit(archs[:80], y[:80])
    assert model.regressor_.n_train_ == int((y[:80] >= threshold).sum())
    assert model.classifier_.n_train_ == 80
    assert model.regressor_.epochs == 2 and model.regressor_.space is space
    assert model.classifier_ is not given["classifier"] and given["classifier"].space is None
    assert not hasattr(given["regressor"], "n_train_")  # the given estimators stay unfitted
    assert list(model.classifier_.classes_) == [False, True]


def test_any_registered_regressor(macro):
    space, archs, y = macro
    threshold = float(np.median(y[:80]))
    model = TwoStagePredictor(space=space, threshold=threshold, random_state=0,
                              classifier=NeuralClassifier(**FAST), regressor=RidgePredictor())
    pred = model.fit(archs[:80], y[:80]).predict(archs[80:])
    accepted = model.accept_proba(archs[80:]) >= 0.5
    ridge = RidgePredictor(space=space).fit([a for a, k in zip(archs[:80], y[:80] >= threshold)
                                             if k], y[:80][y[:80] >= threshold])
    expected = np.maximum(ridge.predict([a for a, k in zip(archs[80:], accepted) if k]),
                          threshold)
    np.testing.assert_array_equal(pred[accepted], expected)  # the same computation


def test_random_state_seeds_both_stages(macro):
    space, archs, y = macro
    kw = dict(space=space, threshold=float(np.median(y[:60])), **stages(epochs=5))
    a = TwoStagePredictor(random_state=3, **kw).fit(archs[:60], y[:60]).predict(archs[60:])
    b = TwoStagePredictor(random_state=3, **kw).fit(archs[:60], y[:60]).predict(archs[60:])
    c = TwoStagePredictor(random_state=4, **kw).fit(archs[:60], y[:60]).predict(archs[60:])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_bad_input(macro):
    space, archs, y = macro
    kw = stages(epochs=1)
    with pytest.raises(NotFittedError, match="This TwoStagePredictor instance is not fitted"):
        TwoStagePredictor(space=space, threshold=70.0).predict(archs)
    with pytest.raises(TypeError, match="The 'threshold' parameter of TwoStagePredictor must be "
                                        "a float in the range \\(-inf, inf\\). Got None"):
        TwoStagePredictor(space=space, **kw).fit(archs[:20], y[:20])
    with pytest.raises(ValueError, match="'threshold' parameter of TwoStagePredictor must be a "
                                         "float in the range .*Got nan"):
        TwoStagePredictor(space=space, threshold=float("nan"), **kw).fit(archs[:20], y[:20])
    with pytest.raises(TypeError, match="'regressor' parameter of TwoStagePredictor must be an "
                                        "object implementing 'fit' and 'predict'"):
        TwoStagePredictor(space=space, threshold=70.0, regressor=3).fit(archs[:20], y[:20])
    with pytest.raises(TypeError, match="'classifier' parameter of TwoStagePredictor must be an "
                                        "object implementing 'fit' and 'predict_proba'"):
        TwoStagePredictor(space=space, threshold=70.0,
                          classifier=NeuralPredictor()).fit(archs[:20], y[:20])
    with pytest.raises(ValueError, match="'regressor' parameter of TwoStagePredictor must leave "
                                         "its 'space' unset"):
        TwoStagePredictor(space=space, threshold=float(np.median(y[:20])), **dict(
            kw, regressor=NeuralPredictor(space=space))).fit(archs[:20], y[:20])
    with pytest.raises(ValueError, match="The 'epochs' parameter of NeuralClassifier must be an "
                                         "int in the range \\[1, inf\\). Got 0"):
        TwoStagePredictor(space=space, threshold=float(np.median(y[:20])),
                          **stages(epochs=0)).fit(archs[:20], y[:20])
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


def test_neural_classifier(macro):
    space, archs, y = macro
    labels = np.where(y[:80] >= np.median(y[:80]), "good", "bad")
    with pytest.raises(TypeError, match="'y' parameter of NeuralClassifier.fit must be a "
                                        "sequence of numbers"):
        NeuralClassifier(space=space, **FAST).fit(archs[:80], labels)
    with pytest.raises(ValueError, match="must hold exactly 2 classes. Got 1"):
        NeuralClassifier(space=space, **FAST).fit(archs[:10], np.ones(10))
    clf = NeuralClassifier(space=space, random_state=0, **FAST)
    good = y >= np.median(y[:80])
    clf.fit(archs[:80], good[:80].astype(int))
    proba = clf.predict_proba(archs[80:])
    assert proba.shape == (60, 2) and np.allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(clf.predict(archs[80:]), (proba[:, 1] >= 0.5).astype(int))
    assert clf.score(archs[80:], good[80:].astype(int)) > 0.7  # a learnable signal

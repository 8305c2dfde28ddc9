"""SpaceGCNPredictor flags predictions outside the range of its labels, and clips on request."""
import warnings

import numpy as np
import pytest

from archgraph.predictors import PredictionRangeWarning, SpaceGCNPredictor
from archgraph.spaces import get_search_space


@pytest.fixture(scope="module")
def labelled():
    root = get_search_space("macro")
    space = root.subspace([0, 2, 3, 5, 7], root.sample(1, rng=3)[0])  # 243 architectures
    archs = list(space.enumerate())
    c = space.encode(archs)
    y = 60.0 + 5.0 * (c == 2).sum(1)  # additive: the GCN extrapolates past the labelled ones
    idx = np.random.default_rng(0).permutation(len(archs))[:40]
    keep = [i for i in idx if y[i] < 80]  # labels stop at 75, the space reaches 85
    return space, [archs[i] for i in keep], y[keep]


def _fit(space, archs, y, **kw):
    return SpaceGCNPredictor(space, hidden_channels=16, epochs=200, random_state=0,
                             **kw).fit(archs, y)


def test_far_predictions_warn_and_clip(labelled):
    space, archs, y = labelled
    with pytest.warns(PredictionRangeWarning, match=r"predictions of SpaceGCNPredictor lie "
                                                    r"outside the labelled targets' range "
                                                    r"\[60, 75\].*clip=True"):
        free = _fit(space, archs, y)
    assert free.predictions_.max() > 75 + 0.15  # the case the warning is about
    with pytest.warns(PredictionRangeWarning, match="clipped to the range"):
        clipped = _fit(space, archs, y, clip=True)
    assert clipped.predictions_.min() >= 60 and clipped.predictions_.max() <= 75
    inside = (free.predictions_ >= 60) & (free.predictions_ <= 75)
    np.testing.assert_array_equal(clipped.predictions_[inside], free.predictions_[inside])


def test_predictions_within_range_do_not_warn(labelled):
    space, archs, y = labelled
    with warnings.catch_warnings():
        warnings.simplefilter("error", PredictionRangeWarning)
        model = SpaceGCNPredictor(space, hidden_channels=16, epochs=5, lr=1e-4,
                                  random_state=0).fit(archs, y)  # barely moves from the mean
    assert np.ptp(model.predictions_) < 15

import numpy as np
import pytest

from archgraph.graphs.similarity import assigned_similarity, check_similarity, measured_similarity


def test_assigned_is_uniform_off_diagonal():
    sims = assigned_similarity([3, 1, 4], value=0.5)
    assert [s.shape for s in sims] == [(3, 3), (1, 1), (4, 4)]
    for s in sims:
        assert np.all(np.diag(s) == 0)
        assert np.all(s[~np.eye(len(s), dtype=bool)] == 0.5)


@pytest.mark.parametrize("kind", ["cosine", "rbf"])
def test_measured_is_valid_and_follows_feature_distance(kind):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1, 8))
    feats = [np.concatenate([base, base + 0.01, base * -1.0, rng.normal(size=(1, 8))]),
             rng.normal(size=(2, 3))]
    sims = measured_similarity(feats, kind=kind)
    assert [s.shape for s in sims] == [(4, 4), (2, 2)]
    s = sims[0]
    assert np.allclose(s, s.T) and np.all(s >= 0) and np.all(np.diag(s) == 0)
    assert s[0, 1] > s[0, 2]  # nearly equal outputs are more alike than opposite ones
    if kind == "cosine":
        assert s[0, 2] == 0  # anti-correlated outputs are clipped to no edge


def test_measured_errors():
    with pytest.raises(ValueError, match="'kind' parameter of measured_similarity"):
        measured_similarity([np.ones((2, 2))], kind="dot")
    with pytest.raises(ValueError, match="finite 2-D arrays"):
        measured_similarity([np.ones(3)])
    with pytest.raises(ValueError, match="all-zero feature vector at layer 0"):
        measured_similarity([np.zeros((2, 3))])


def test_check_similarity_errors():
    good = assigned_similarity([2, 3])
    assert len(check_similarity(good, [2, 3])) == 2
    with pytest.raises(TypeError, match="must be a list of 2 matrices"):
        check_similarity(np.zeros((2, 2)), [2, 3])
    with pytest.raises(ValueError, match="one matrix per layer \\(2\\). Got 1"):
        check_similarity(good[:1], [2, 3])
    with pytest.raises(ValueError, match="shape \\(3, 3\\) at layer 1. Got shape \\(2, 2\\)"):
        check_similarity([good[0], good[0]], [2, 3])
    bad = [good[0], good[1].copy()]
    bad[1][0, 1] = bad[1][1, 0] = np.nan
    with pytest.raises(ValueError, match="must be finite"):
        check_similarity(bad, [2, 3])
    bad[1][0, 1] = bad[1][1, 0] = -1.0
    with pytest.raises(ValueError, match="non-negative. Got -1.0 at layer 1"):
        check_similarity(bad, [2, 3])
    bad[1][0, 1] = 2.0
    bad[1][1, 0] = 1.0
    with pytest.raises(ValueError, match="symmetric"):
        check_similarity(bad, [2, 3])
    with pytest.raises(ValueError, match="zero diagonal"):
        check_similarity([np.ones((2, 2)), good[1]], [2, 3])

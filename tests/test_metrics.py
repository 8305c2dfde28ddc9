import numpy as np
import pytest

from archgraph.metrics import (
    evaluate_ranking,
    improvement_curve,
    kendall_tau,
    pearson_r,
    precision_at_k,
    regret_at_k,
    spearman_rho,
)

CORRELATIONS = [kendall_tau, spearman_rho, pearson_r]


@pytest.fixture
def y():
    return np.random.default_rng(0).normal(90, 2, size=50)


@pytest.mark.parametrize("fn", CORRELATIONS)
def test_correlations_perfect_and_reversed(fn, y):
    assert fn(y, y) == pytest.approx(1.0)
    assert fn(y, -y) == pytest.approx(-1.0)
    assert -1 <= fn(y, np.random.default_rng(1).permutation(y)) <= 1


@pytest.mark.parametrize("fn", CORRELATIONS)
@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")
def test_correlations_undefined_for_constant_predictions(fn, y):
    assert np.isnan(fn(y, np.ones_like(y)))


@pytest.mark.parametrize("fn", [kendall_tau, spearman_rho])
def test_rank_correlations_invariant_to_monotone_transform(fn, y):
    assert fn(y, np.exp(y - 90)) == pytest.approx(1.0)


def test_precision_at_k(y):
    assert precision_at_k(y, y, 5) == 1.0
    assert precision_at_k(y, -y, 5) == 0.0
    assert precision_at_k(y, y, 0.1) == 1.0  # 5 of 50
    assert precision_at_k(y, -y, 50) == 1.0  # everything overlaps
    p = precision_at_k(y, np.random.default_rng(2).permutation(y), 10)
    assert 0 <= p <= 1 and p * 10 == round(p * 10)


def test_regret_at_k(y):
    assert regret_at_k(y, y) == 0.0
    assert regret_at_k(y, -y) == pytest.approx(y.max() - y.min())
    assert regret_at_k(y, -y, k=len(y)) == 0.0
    noisy = y + np.random.default_rng(3).normal(0, 1, size=len(y))
    regrets = [regret_at_k(y, noisy, k) for k in (1, 5, 20)]
    assert regrets == sorted(regrets, reverse=True)  # more picks, less regret


def test_improvement_curve_endpoints(y):
    p, v = improvement_curve(y, y)
    assert p[0] == 0 and p[-1] == 1 and len(p) == len(v)
    assert v[0] == pytest.approx(0.0)
    assert v[-1] == pytest.approx(1.0)
    assert np.all(np.diff(v) >= -1e-12)  # perfect predictor: pruning more only helps
    _, v_rev = improvement_curve(y, -y, fractions=[0.0, 0.5])
    assert v_rev[0] == pytest.approx(0.0) and v_rev[1] < 0


def test_improvement_curve_random_predictor_near_zero():
    rng = np.random.default_rng(4)
    y = rng.normal(size=2000)
    _, v = improvement_curve(y, rng.normal(size=2000), fractions=[0.5])
    assert abs(v[0]) < 0.15


def test_evaluate_ranking_keys(y):
    out = evaluate_ranking(y, y)
    assert set(out) == {"kendall_tau", "spearman_rho", "pearson_r", "precision_at_k",
                        "regret_at_k", "regret_at_1"}
    assert out["kendall_tau"] == pytest.approx(1.0) and out["regret_at_1"] == 0


@pytest.mark.parametrize("fn", CORRELATIONS + [precision_at_k, regret_at_k, improvement_curve])
def test_input_validation(fn):
    with pytest.raises(ValueError, match="same length. Got 3 and 2"):
        fn([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="'y_true' .* at least 2 items. Got 1"):
        fn([1], [1])
    with pytest.raises(ValueError, match="'y_true' .* finite numbers. Got nan at position 1"):
        fn([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="'y_pred' .* finite numbers. Got inf at position 2"):
        fn([1, 2, 3], [1, 2, np.inf])
    with pytest.raises(TypeError, match="'y_pred' .* sequence of numbers"):
        fn([1, 2, 3], ["a", "b", "c"])


@pytest.mark.parametrize("fn", [precision_at_k, regret_at_k])
def test_bad_k(fn):
    with pytest.raises(ValueError, match=r"'k' parameter of .* in \[1, 3\]. Got 4"):
        fn([1, 2, 3], [1, 2, 3], 4)
    with pytest.raises(ValueError, match=r"'k' .* or a float in \(0, 1\). Got 1.5"):
        fn([1, 2, 3], [1, 2, 3], 1.5)
    with pytest.raises(TypeError, match="'k' parameter"):
        fn([1, 2, 3], [1, 2, 3], "2")


def test_improvement_curve_errors():
    with pytest.raises(ValueError, match=r"'fractions' .* floats in \[0, 1\]"):
        improvement_curve([1, 2], [1, 2], fractions=[0.5, 1.5])
    with pytest.raises(ValueError, match="'y_true' .* must not be constant"):
        improvement_curve([1, 1, 1], [1, 2, 3])


def test_kendall_tau_within_bins():
    from archgraph.metrics import kendall_tau_within_bins

    by = np.arange(8.0)
    truth = np.array([1, 2, 3, 4, 5, 6, 7, 8.0])
    # within each of 2 bins (by < 4, by >= 4) the prediction is reversed, but not across bins
    pred = np.array([4, 3, 2, 1, 8, 7, 6, 5.0])
    assert kendall_tau_within_bins(truth, pred, by, bins=2) == pytest.approx(-1.0)
    assert kendall_tau_within_bins(truth, pred, by, bins=1) < 1.0
    assert np.isnan(kendall_tau_within_bins(truth, np.ones(8), by, bins=2))  # constant: skipped
    with pytest.raises(ValueError, match="'by' parameter of kendall_tau_within_bins"):
        kendall_tau_within_bins(truth, pred, by[:3])
    with pytest.raises(ValueError, match="bins"):
        kendall_tau_within_bins(truth, pred, by, bins=0)

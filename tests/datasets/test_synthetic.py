import numpy as np
import pytest

from archgraph.datasets import SyntheticBenchmark
from archgraph.datasets.synthetic import MAX_FIXED_NOISE
from archgraph.evaluators import TableEvaluator
from archgraph.spaces import Evaluator, ProductSpace, get_search_space


@pytest.fixture
def space():
    return ProductSpace("toy", [["a", "b", "c"], ["a", "d"], ["e", "f", "g", "h"]],
                        costs={"flops": (1.0, [[0, 1, 2], [0, 10], [0, 0, 5, 5]])})


def test_accuracy_is_offset_plus_additive_plus_pairwise_effects(space):
    bench = SyntheticBenchmark(space, additive=2.0, pairwise=0.5, offset=50.0, random_state=0)
    a, p = bench.additive_effects, bench.pairwise_effects
    assert [e.shape for e in a] == [(3,), (2,), (4,)] and [e.shape for e in p] == [(3, 2), (2, 4)]
    archs = list(space.enumerate())
    expected = [50.0 + sum(a[l][c] for l, c in enumerate(arch.choices))
                + p[0][arch.choices[0], arch.choices[1]] + p[1][arch.choices[1], arch.choices[2]]
                for arch in archs]
    # the same sums in another order: equal up to float rounding
    np.testing.assert_allclose(bench.true_accuracy(archs), expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(bench.accuracies(), bench.true_accuracy(archs))
    np.testing.assert_array_equal(bench.accuracies(space.all_choices()), bench.accuracies())


def test_effects_scale_with_their_deviation(space):
    unit = SyntheticBenchmark(space, additive=1.0, pairwise=1.0, random_state=3)
    scaled = SyntheticBenchmark(space, additive=2.0, pairwise=0.0, offset=-1.0, random_state=3)
    for u, s in zip(unit.additive_effects, scaled.additive_effects):
        np.testing.assert_allclose(s, 2.0 * u, rtol=1e-15)
    assert all(not e.any() for e in scaled.pairwise_effects)
    np.testing.assert_allclose(scaled.accuracies(), -1.0 + 2.0 * SyntheticBenchmark(
        space, additive=1.0, random_state=3).accuracies(), rtol=1e-14)


def test_same_seed_same_numbers_other_seed_other_numbers(space):
    one = SyntheticBenchmark(space, pairwise=0.3, random_state=7).accuracies()
    np.testing.assert_array_equal(SyntheticBenchmark(space, pairwise=0.3,
                                                     random_state=7).accuracies(), one)
    assert not np.array_equal(SyntheticBenchmark(space, pairwise=0.3,
                                                 random_state=8).accuracies(), one)


def test_fixed_noise_repeats_and_fresh_noise_does_not(space):
    archs = space.sample(6, rng=0)
    fixed = SyntheticBenchmark(space, noise_std=1.0, random_state=0)
    assert isinstance(fixed, Evaluator)
    first = fixed.evaluate(archs)
    np.testing.assert_array_equal(fixed.evaluate(archs[::-1]), first[::-1])
    assert not np.allclose(first, fixed.true_accuracy(archs))
    assert fixed.num_evaluations_ == 12  # true_accuracy does not count
    fresh = SyntheticBenchmark(space, noise_std=1.0, noise="fresh", random_state=0)
    a, b = fresh.evaluate(archs), fresh.evaluate(archs)
    assert not np.allclose(a, b)
    exact = SyntheticBenchmark(space, random_state=0)
    np.testing.assert_array_equal(exact.evaluate(archs), exact.true_accuracy(archs))


def test_subspace_factors_are_its_layers():
    root = get_search_space("fairnas")
    sub = root.subspace([0, 3, 5], root.default_arch())
    bench = SyntheticBenchmark(sub, pairwise=0.3, random_state=0)
    assert [e.shape for e in bench.additive_effects] == [(6,)] * 3
    archs = sub.sample(20, rng=1)
    np.testing.assert_array_equal(bench.true_accuracy(archs),
                                  bench.accuracies()[sub.indices(archs)])


def test_fresh_noise_on_a_space_too_big_to_tabulate():
    space = get_search_space("fairnas")  # 6^19 architectures
    bench = SyntheticBenchmark(space, noise_std=1.0, noise="fresh", random_state=0)
    y = bench.evaluate(space.sample(5, rng=0))
    assert y.shape == (5,) and np.isfinite(y).all()
    with pytest.raises(ValueError, match=f"'noise' parameter of SyntheticBenchmark is 'fixed', "
                                         f".*\\(more than {MAX_FIXED_NOISE}\\). Use noise='fresh'"):
        SyntheticBenchmark(space, noise_std=1.0, random_state=0)


def test_table_feeds_a_table_evaluator(space):
    bench = SyntheticBenchmark(space, pairwise=0.3, random_state=0)
    table = bench.table()
    assert list(table.columns) == ["arch", "accuracy", "flops"] and len(table) == len(space)
    np.testing.assert_array_equal(table["flops"], space.costs("flops"))
    archs = space.sample(5, rng=2)
    ev = TableEvaluator(space, table, "arch", "accuracy")
    np.testing.assert_array_equal(ev.evaluate(archs), bench.true_accuracy(archs))


def test_errors(space):
    with pytest.raises(TypeError, match="'space' parameter of SyntheticBenchmark must be a "
                                        "ProductSpace. Got NASBench101Space"):
        SyntheticBenchmark(get_search_space("nasbench101"))
    with pytest.raises(ValueError, match="'pairwise' parameter of SyntheticBenchmark must be a "
                                         "float in \\[0, inf\\). Got -1 instead"):
        SyntheticBenchmark(space, pairwise=-1)
    with pytest.raises(TypeError, match="'offset' parameter of SyntheticBenchmark must be a "
                                        "finite float. Got 'x' instead"):
        SyntheticBenchmark(space, offset="x")
    with pytest.raises(ValueError, match="'noise' parameter of SyntheticBenchmark must be one "
                                         "of 'fixed', 'fresh'. Got 'frsh' instead"):
        SyntheticBenchmark(space, noise="frsh")
    with pytest.raises(TypeError, match="takes 2 positional arguments"):
        SyntheticBenchmark(space, 1.0)
    with pytest.raises(ValueError, match="out of range"):
        SyntheticBenchmark(space, random_state=0).accuracies([[0, 0, 4]])

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from archgraph.datasets import SyntheticBenchmark
from archgraph.search import SearchResult, evolutionary_search, random_search
from archgraph.spaces import ProductSpace, get_search_space


@pytest.fixture(scope="module")
def macro():
    space = get_search_space("macro")  # 3^8 = 6,561 architectures with FLOPs and params
    return space, SyntheticBenchmark(space, pairwise=0.3, random_state=0)


def _toy(layers=10, options=4):
    return ProductSpace("toy", [[f"op{o}" for o in range(options)]] * layers)


def test_finds_the_optimum_of_a_separable_function_far_below_the_space_size():
    space = _toy()                                        # 4^10 = 1,048,576 architectures
    bench = SyntheticBenchmark(space, random_state=1)     # additive: the optimum is per layer
    optimum = tuple(int(np.argmax(a)) for a in bench.additive_effects)
    found = 0
    for seed in range(5):
        res = evolutionary_search(space, bench, population=20, budget=600, top_k=5,
                                  mutation_prob=0.1, random_state=seed)
        assert isinstance(res, SearchResult) and res.num_evaluations == 600
        found += res.arch.choices == optimum
    assert found >= 4  # 600 evaluations, 0.06 % of the space
    # random search with the same budget does not get there
    rand = [random_search(space, bench, budget=600, random_state=s).arch.choices == optimum
            for s in range(5)]
    assert not any(rand)


def test_beats_random_search_at_equal_budget(macro):
    space, bench = macro
    truth = bench.accuracies()
    evo = [truth[space.index(evolutionary_search(space, bench, budget=100, random_state=s).arch)]
           for s in range(10)]
    rnd = [truth[space.index(random_search(space, bench, budget=100, random_state=s).arch)]
           for s in range(10)]
    assert np.mean(evo) > np.mean(rnd)


@given(seed=st.integers(0, 2 ** 20), quantile=st.floats(0.01, 0.9),
       mutation_prob=st.floats(0.0, 1.0))
def test_constraint_never_violated(macro, seed, quantile, mutation_prob):
    space, bench = macro
    flops, params = space.costs("flops"), space.costs("params")
    max_flops = float(np.quantile(flops, quantile))
    max_params = float(np.quantile(params, 0.8))

    class Checked:  # the evaluator itself refuses inadmissible architectures
        def __init__(self):
            self.space = space

        def evaluate(self, archs):
            assert np.all(space.cost("flops", archs) <= max_flops)
            assert np.all(space.cost("params", archs) <= max_params)
            return bench.evaluate(archs)

    res = evolutionary_search(space, Checked(), population=8, budget=40, top_k=4,
                              mutation_prob=mutation_prob, max_flops=max_flops,
                              max_params=max_params, random_state=seed)
    archs = [a for a, _, _ in res.history]
    assert len(set(archs)) == len(archs) <= 40  # never evaluated twice
    assert space.flops(res.arch) <= max_flops and space.params(res.arch) <= max_params


def test_constrained_optimum_and_exhaustion(macro):
    space, bench = macro
    flops = space.costs("flops")
    bound = float(np.quantile(flops, 0.005))              # a few dozen admissible architectures
    ok = np.flatnonzero(flops <= bound)
    res = evolutionary_search(space, bench, population=10, budget=None, max_iterations=1000,
                              max_flops=bound, random_state=0)
    # the search stops once every admissible architecture is evaluated, and so finds the best
    assert res.num_evaluations == len(ok)
    assert space.index(res.arch) == ok[np.argmax(bench.accuracies()[ok])]


def test_deterministic_with_a_seed(macro):
    space, bench = macro
    kw = dict(population=10, budget=50, max_flops=float(np.median(space.costs("flops"))))
    a = evolutionary_search(space, bench, random_state=7, **kw)
    b = evolutionary_search(space, bench, random_state=7, **kw)
    c = evolutionary_search(space, bench, random_state=8, **kw)
    assert a.history == b.history
    assert a.history != c.history
    stages = {s for _, _, s in a.history}
    assert stages <= {"initial", "mutation", "crossover", "random"} and "initial" in stages


def test_max_iterations_counts_generations(macro):
    space, bench = macro
    res = evolutionary_search(space, bench, population=6, budget=None, max_iterations=3,
                              random_state=0)
    assert res.num_evaluations == 4 * 6
    assert [s for _, _, s in res.history[:6]] == ["initial"] * 6


def test_candidates_restrict_the_search(macro):
    space, bench = macro
    pool = space.sample(50, rng=0)
    bound = float(np.median(space.cost("flops", pool)))
    res = evolutionary_search(space, bench, population=6, budget=30, candidates=pool + pool[:5],
                              max_flops=bound, random_state=0)
    assert {a for a, _, _ in res.history} <= set(pool)
    assert all(space.flops(a) <= bound for a, _, _ in res.history)
    # budget beyond the admissible pool: all of it is evaluated, nothing more
    admissible = [a for a in pool if space.flops(a) <= bound]
    res = evolutionary_search(space, bench, population=6, budget=500, candidates=pool,
                              max_flops=bound, random_state=0)
    assert sorted(a.choices for a, _, _ in res.history) == sorted(a.choices for a in admissible)


def test_errors(macro):
    space, bench = macro
    with pytest.raises(TypeError, match="'population' parameter of evolutionary_search"):
        evolutionary_search(space, bench, population=2.5)
    with pytest.raises(ValueError, match="'population' parameter .* int in \\[2, inf\\]"):
        evolutionary_search(space, bench, population=1)
    with pytest.raises(ValueError, match="'mutation_prob' .* float in \\[0, 1\\]. Got 1.5"):
        evolutionary_search(space, bench, mutation_prob=1.5)
    with pytest.raises(TypeError, match="'mutation_prob'"):
        evolutionary_search(space, bench, mutation_prob="high")
    with pytest.raises(ValueError, match="'top_k' parameter"):
        evolutionary_search(space, bench, top_k=0)
    with pytest.raises(ValueError, match="'budget' and 'max_iterations' .* both None"):
        evolutionary_search(space, bench, budget=None)
    with pytest.raises(ValueError, match="'max_flops' parameter .* not NaN"):
        evolutionary_search(space, bench, max_flops=float("nan"))
    with pytest.raises(ValueError, match="No architecture of the 'macro' space satisfying"):
        evolutionary_search(space, bench, max_flops=0.0)
    with pytest.raises(ValueError, match="'candidates' .* is empty"):
        evolutionary_search(space, bench, candidates=[])
    with pytest.raises(TypeError, match="'candidates' parameter .* sequence"):
        evolutionary_search(space, bench, candidates="0000")
    other = get_search_space("digits5v2")
    with pytest.raises(ValueError, match="evaluates the 'macro' space"):
        evolutionary_search(other, bench)
    with pytest.raises(ValueError, match="'max_flops' parameter .* needs a 'flops' cost"):
        toy = _toy(3, 2)
        evolutionary_search(toy, SyntheticBenchmark(toy), max_flops=1.0)
    with pytest.raises(TypeError, match="'evaluator' parameter"):
        evolutionary_search(space, object())


def test_predictor_backed_evaluator(macro):
    from archgraph.predictors import RidgePredictor

    space, bench = macro
    train = space.sample(60, rng=0)
    model = RidgePredictor(space=space).fit(train, bench.evaluate(train))

    class Predicted:  # the predictor's estimates as an Evaluator
        def __init__(self):
            self.space = space

        def evaluate(self, archs):
            return model.predict(list(archs))

    res = evolutionary_search(space, Predicted(), budget=200, random_state=0)
    truth = bench.accuracies()
    assert truth[space.index(res.arch)] >= np.quantile(truth, 0.99)

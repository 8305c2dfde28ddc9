import numpy as np
import pytest

from archgraph.datasets import SyntheticBenchmark
from archgraph.lookup import soft_pareto_mask
from archgraph.predictors import RidgePredictor
from archgraph.search import predictor_search, random_search, soft_pareto_search
from archgraph.spaces import get_search_space


@pytest.fixture()
def setup():
    space = get_search_space("macro")
    evaluator = SyntheticBenchmark(space, random_state=0)  # additive truth
    return space, evaluator, evaluator.accuracies()


def test_predictor_search_beats_random(setup):
    space, evaluator, acc = setup
    res = predictor_search(space, evaluator, RidgePredictor(space=space), n_train=30, k_top=10,
                           random_state=0)
    assert res.num_evaluations == 40 == evaluator.num_evaluations_
    assert [s for _, _, s in res.history] == ["train"] * 30 + ["top_k"] * 10
    assert res.accuracy == max(v for _, v, _ in res.history)
    assert len({a for a, _, _ in res.history}) == 40  # no architecture evaluated twice
    assert res.accuracy >= np.quantile(acc, 0.999)  # the additive truth is easy to fit
    rand = random_search(space, evaluator, budget=40, random_state=0)
    assert rand.num_evaluations == 40 and rand.accuracy < res.accuracy
    assert res.predictor.n_train_ == 30


def test_pool_and_reproducibility(setup):
    space, evaluator, _ = setup
    kw = dict(n_train=20, k_top=5, pool_size=500, random_state=3)
    a = predictor_search(space, evaluator, RidgePredictor(space=space), **kw)
    b = predictor_search(space, evaluator, RidgePredictor(space=space), **kw)
    assert [h[0] for h in a.history] == [h[0] for h in b.history]


def test_soft_pareto_search(setup):
    space, evaluator, _ = setup
    flops = space.costs("flops")
    budget = float(np.median(flops))
    res = soft_pareto_search(space, evaluator, RidgePredictor(space=space), n_train=30,
                             k_top=8, cost="flops", J=3, max_cost=budget, random_state=0)
    top = [i for i, h in enumerate(res.history) if h[2] == "top_k"]
    assert len(top) == 8 and np.all(res.costs[top] <= budget)
    assert space.flops(res.arch) <= budget
    # the chosen ones lie on the soft front of the predictions over the admissible pool
    seen = {h[0] for h in res.history[:30]}
    pool = [a for a in space.enumerate() if a not in seen]
    c = space.cost("flops", pool)
    pool = [a for a, ci in zip(pool, c) if ci <= budget]
    pred = res.predictor.predict(pool)
    front = {pool[i] for i in np.flatnonzero(soft_pareto_mask(space.cost("flops", pool), pred, 3))}
    assert {res.history[i][0] for i in top} <= front
    # a callable cost works the same
    res2 = soft_pareto_search(space, evaluator, RidgePredictor(space=space), n_train=30,
                              k_top=8, cost=lambda a: space.cost("flops", a), J=3,
                              max_cost=budget, random_state=0)
    assert [h[0] for h in res2.history] == [h[0] for h in res.history]


def test_bad_input(setup):
    space, evaluator, _ = setup
    est = RidgePredictor(space=space)
    with pytest.raises(ValueError, match="evaluates the 'macro' space, but 'space' is 'fairnas'"):
        predictor_search(get_search_space("fairnas"), evaluator, est, 10, 5)
    with pytest.raises(TypeError, match="'evaluator' parameter of predictor_search must have"):
        predictor_search(space, object(), est, 10, 5)
    with pytest.raises(TypeError, match="'space' parameter of random_search must be a SearchSpace"):
        random_search("macro", evaluator, 10)
    with pytest.raises(ValueError, match=r"'n_train' parameter of predictor_search must be an "
                                         r"int in \[2, inf\]"):
        predictor_search(space, evaluator, est, 0, 5)
    with pytest.raises(ValueError, match="'k_top' parameter"):
        predictor_search(space, evaluator, est, 10, 0)
    with pytest.raises(TypeError,
                       match="'predictor' parameter of predictor_search must be an unfitted"):
        predictor_search(space, evaluator, "neural", 10, 5)
    with pytest.raises(ValueError, match="'cost' parameter of soft_pareto_search must be one of"):
        soft_pareto_search(space, evaluator, est, 10, 5, cost="latency")
    with pytest.raises(TypeError, match="'cost' parameter of soft_pareto_search must be a cost"):
        soft_pareto_search(space, evaluator, est, 10, 5, cost=3)
    with pytest.raises(ValueError, match="'J' parameter"):
        soft_pareto_search(space, evaluator, est, 10, 5, J=0)
    with pytest.raises(ValueError, match="'max_cost' parameter of soft_pareto_search must be"):
        soft_pareto_search(space, evaluator, est, 10, 5, max_cost=float("nan"))
    with pytest.raises(ValueError, match="costs at most max_cost"):
        soft_pareto_search(space, evaluator, est, 10, 5, max_cost=0.0)
    with pytest.raises(ValueError, match="'budget' parameter of random_search"):
        random_search(space, evaluator, 0)


def test_non_enumerable_space_needs_pool_size():
    space = get_search_space("nasbench101")

    class Const:
        def evaluate(self, archs):
            return np.arange(len(archs), dtype=float)

    with pytest.raises(ValueError, match="cannot be enumerated.*Pass an int pool_size"):
        predictor_search(space, Const(), RidgePredictor(space=space), 10, 2)

import numpy as np
import pandas as pd
import pytest

from archgraph.evaluators import TableEvaluator
from archgraph.lookup import LookupTable
from archgraph.search.iterative import iterative_search
from archgraph.spaces import ProductSpace


def toy_problem(noise_std=0.0, num_options=(3,) * 6):
    space = ProductSpace("toy", [[f"op{i}" for i in range(o)] for o in num_options])
    space._set_cost("flops", 0.0, [np.arange(o, dtype=float) for o in num_options])
    choices = space.all_choices(np.int64)
    acc = (choices * np.array([1.0, -1.0, 0.5, 2.0, -0.5, 1.5])).sum(1)  # additive truth
    table = pd.DataFrame({"arch": [space.to_str(a) for a in space.decode(choices)],
                          "acc": acc})
    evaluator = TableEvaluator(space, table, "arch", "acc", noise_std=noise_std,
                               random_state=0)
    return space, evaluator, acc


FAST = dict(hidden=8, epochs=60)


def test_finds_the_best_of_an_additive_space_and_reports_rounds():
    space, evaluator, acc = toy_problem()
    result = iterative_search(space, evaluator, rounds=4, layers_per_round=3, m_samples=12,
                              k_top=3, predictor_params=FAST, random_state=0)
    assert result.score == pytest.approx(acc.max())
    assert result.num_evaluations == evaluator.num_evaluations_ < len(space)
    first, second = result.rounds[:2]
    assert first.layers == (0, 1, 2) and second.layers == (3, 4, 5)
    assert len(second.subspace) == 27 * 3  # layers 3..5 free x a super-cell of K = 3
    assert all(isinstance(t, LookupTable) for t in result.tables)
    assert len(result.tables[1]) == len(second.subspace)
    assert first.tau_truth is not None and np.isfinite(first.tau_holdout)
    assert list(first.top_scores) == sorted(first.top_scores, reverse=True)


def test_flops_budget_and_determinism():
    space, evaluator, acc = toy_problem(noise_std=0.5)
    kw = dict(rounds=3, layers_per_round=[[0, 1], [2, 3], [4, 5]], m_samples=10, k_top=2,
              max_flops=5.0, predictor_params=FAST, random_state=1)
    a = iterative_search(space, evaluator, **kw)
    b = iterative_search(space, toy_problem(noise_std=0.5)[1], **kw)
    assert a.arch == b.arch and a.num_evaluations == b.num_evaluations
    assert space.flops(a.arch) <= 5.0
    assert all(space.cost("flops", r.top_archs).max() <= 5.0 for r in a.rounds)


def test_errors():
    space, evaluator, _ = toy_problem()
    with pytest.raises(TypeError, match="root ProductSpace.*Got Subspace"):
        iterative_search(space.subspace([0], space.decode([[0] * 6])[0]), evaluator)
    with pytest.raises(TypeError, match="must have an evaluate\\(archs\\) method"):
        iterative_search(space, object())
    with pytest.raises(ValueError, match="'layers_per_round' parameter .* \\[1, 3\\]. Got 4"):
        iterative_search(space, evaluator, layers_per_round=4)
    with pytest.raises(ValueError, match="disjoint from the previous round's"):
        iterative_search(space, evaluator, layers_per_round=[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="below the cheapest architecture"):
        iterative_search(space, evaluator, max_flops=-1.0)
    with pytest.raises(ValueError, match="must not set 'space'"):
        iterative_search(space, evaluator, predictor_params={"space": space})
    with pytest.raises(ValueError, match="'m_samples' parameter .* \\[4, inf\\]. Got 2"):
        iterative_search(space, evaluator, m_samples=2)

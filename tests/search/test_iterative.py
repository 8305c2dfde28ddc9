import numpy as np
import pytest

from archgraph.datasets import SyntheticBenchmark
from archgraph.graphs.similarity import measured_similarity
from archgraph.lookup import LookupTable
from archgraph.predictors import RidgePredictor, SpaceGCNPredictor
from archgraph.search.iterative import _schedule, iterative_search
from archgraph.spaces import ChoiceArch, ProductSpace


def toy_problem(noise_std=0.0, num_options=(3,) * 6):
    space = ProductSpace("toy", [[f"op{i}" for i in range(o)] for o in num_options],
                         costs={"flops": (0.0, [np.arange(o, dtype=float) for o in num_options])})
    evaluator = SyntheticBenchmark(space, noise_std=noise_std, random_state=0)  # additive truth
    return space, evaluator, evaluator.accuracies()


FAST = SpaceGCNPredictor(hidden_channels=8, epochs=60)


def test_finds_the_best_of_an_additive_space_and_reports_rounds():
    space, evaluator, acc = toy_problem()
    result = iterative_search(space, evaluator, rounds=4, layers_per_round=3, m_samples=12,
                              k_top=3, predictor=FAST, random_state=0)
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
              max_flops=5.0, predictor=FAST, random_state=1)
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
    with pytest.raises(ValueError, match="'predictor' parameter of iterative_search must not "
                                         "set 'space'"):
        iterative_search(space, evaluator, predictor=SpaceGCNPredictor(space))
    with pytest.raises(TypeError, match="'predictor' parameter of iterative_search must be an "
                                        "unfitted predictor .* Got dict"):
        iterative_search(space, evaluator, predictor={"hidden_channels": 8})
    with pytest.raises(ValueError, match="'m_samples' parameter .* \\[4, inf\\]. Got 2"):
        iterative_search(space, evaluator, m_samples=2)
    with pytest.raises(ValueError, match="one group of layers, \\[0, 1\\], for 2 rounds"):
        iterative_search(space, evaluator, rounds=2, layers_per_round=[[0, 1]])
    with pytest.raises(ValueError, match="'holdout' parameter of iterative_search must be a "
                                         "float in \\[0, 1\\). Got 1.0"):
        iterative_search(space, evaluator, holdout=1.0)
    with pytest.raises(TypeError, match="'holdout' parameter .* Got '0.2' \\(str\\)"):
        iterative_search(space, evaluator, holdout="0.2")
    with pytest.raises(ValueError, match="\\(0.9\\) leaves fewer than 2 of m_samples=10"):
        iterative_search(space, evaluator, m_samples=10, holdout=0.9)
    assert evaluator.num_evaluations_ == 0  # refused before spending any evaluation
    with pytest.raises(TypeError, match="'similarity' parameter of iterative_search must be a "
                                        "callable taking a round's subspace"):
        iterative_search(space, evaluator, similarity=[np.ones((3, 3))])
    with pytest.raises(ValueError, match="must leave 'similarity' unset"):
        iterative_search(space, evaluator, similarity=lambda sub: None,
                         predictor=SpaceGCNPredictor(similarity=[np.ones((3, 3))] * 6))


def test_any_predictor():
    space, evaluator, acc = toy_problem()
    result = iterative_search(space, evaluator, predictor=RidgePredictor(alpha=1e-3), rounds=2,
                              layers_per_round=3, m_samples=12, k_top=3, random_state=0)
    first = result.rounds[0]
    assert first.tau_truth > 0.9  # a ridge on the one-hot encoding fits the additive truth
    assert len(first.table) == len(first.subspace)
    assert result.score == pytest.approx(acc.max())


def test_schedule_covers_every_layer():
    assert _schedule(3, 8, 4) == [(0, 1, 2), (3, 4, 5), (6, 7)]
    blocks = _schedule(3, 19, 4)
    assert sorted(l for b in blocks for l in b) == list(range(19))
    assert max(map(len, blocks)) == 3 and len(blocks) == 7
    assert _schedule([[0, 1]], 6, 1) == [(0, 1)]


def test_default_start_no_holdout_callable_similarity_and_early_stop():
    space, evaluator, acc = toy_problem()
    seen = []

    def similarity(sub):  # measured-style weights for whatever factors the round has
        seen.append(sub.num_options)
        return measured_similarity([np.random.default_rng(o).random((o, 2))
                                    for o in sub.num_options])

    result = iterative_search(space, evaluator, rounds=8, layers_per_round=3, m_samples=12,
                              k_top=3, holdout=0.0, random_state=0,
                              predictor=FAST, similarity=similarity)
    assert result.rounds[0].subspace.base == ChoiceArch("toy", (0,) * 6)  # no default_arch
    assert all(np.isnan(r.tau_holdout) for r in result.rounds)
    assert seen == [r.subspace.num_options for r in result.rounds]
    assert seen[1] == (3, 3, 3, 3)  # three free layers and a super-cell of K = 3
    # the loop stops once a round leaves the K best unchanged, before the 8 rounds
    assert len(result.rounds) < 8
    last, before = result.rounds[-1], result.rounds[-2]
    assert set(last.top_archs) == set(before.top_archs)
    assert result.score == pytest.approx(acc.max())

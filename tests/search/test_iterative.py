import numpy as np
import pytest
from sklearn.base import BaseEstimator

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
                              k_eval=6, k_keep=3, predictor=FAST, random_state=0)
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
    kw = dict(rounds=3, layers_per_round=[[0, 1], [2, 3], [4, 5]], m_samples=10, k_keep=2,
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
    with pytest.raises(ValueError, match="'selection' parameter of iterative_search must be one "
                                         "of .*'gcn_top'.* Got 'best'"):
        iterative_search(space, evaluator, selection="best")
    with pytest.raises(ValueError, match="'k_eval' parameter .* \\[1, inf\\]. Got 0"):
        iterative_search(space, evaluator, k_eval=0)
    with pytest.raises(ValueError, match="'k_keep' parameter .* \\[1, inf\\]. Got 0"):
        iterative_search(space, evaluator, k_keep=0)
    with pytest.raises(ValueError, match="must be None for selection='sampled'"):
        iterative_search(space, evaluator, predictor=FAST, selection="sampled")
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
                              layers_per_round=3, m_samples=12, k_eval=5, k_keep=3,
                              random_state=0)
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
                              k_eval=5, k_keep=3, holdout=0.0, random_state=0,
                              predictor=FAST, similarity=similarity,
                              selection="all_evaluated")  # the small GCN's top varies
    assert result.rounds[0].subspace.base == ChoiceArch("toy", (0,) * 6)  # no default_arch
    assert all(np.isnan(r.tau_holdout) for r in result.rounds)
    assert seen == [r.subspace.num_options for r in result.rounds]
    assert seen[1] == (3, 3, 3, 3)  # three free layers and a super-cell of K = 3
    # the loop stops once a round leaves the K best unchanged, before the 8 rounds
    assert len(result.rounds) < 8
    last, before = result.rounds[-1], result.rounds[-2]
    assert set(last.top_archs) == set(before.top_archs)
    assert result.score == pytest.approx(acc.max())


class Spiked:
    """A noisy evaluator whose every random sample of the first round scores far above
    anything else (a winner's curse made extreme): its true accuracy is unchanged."""

    def __init__(self, evaluator, spiked):
        self.inner, self.spiked = evaluator, set(spiked)

    def evaluate(self, archs):
        return self.inner.evaluate(archs) + np.array([100.0 * (a in self.spiked)
                                                      for a in archs])

    def true_accuracy(self, archs):
        return self.inner.true_accuracy(archs)


def test_algorithm_1_picks_among_the_gcn_top_and_keeps_k_keep():
    space, evaluator, acc = toy_problem(noise_std=0.3)
    kw = dict(rounds=3, layers_per_round=3, m_samples=12, k_eval=8, k_keep=2, predictor=FAST,
              random_state=0)
    result = iterative_search(space, evaluator, **kw)
    pooled = {}
    for r in result.rounds:
        pred = r.table.frame["accuracy"].to_numpy()
        top = r.subspace.from_index(np.argsort(-pred, kind="stable")[:8])
        assert r.candidates == top  # the round's candidates: the GCN's top K_eval
        assert len(r.top_archs) == 2 and set(r.top_archs) <= set(top)
        pooled.update({a: None for a in top})
    second = result.rounds[1]
    assert len(second.subspace) == 27 * 2  # the super-cell holds the K_keep = 2 kept
    assert result.arch in pooled
    # the worst random sample of the first round scores +100 (its truth unchanged): the old
    # selection picks it; Algorithm 1, with a predictor ranking by the truth, never does
    first_samples = space.subspace([0, 1, 2], space.decode([[0] * 6])[0]).sample(
        12, rng=np.random.default_rng(0))
    spike = first_samples[int(np.argmin(evaluator.true_accuracy(first_samples)))]
    kw = {**kw, "predictor": Oracle(truth=toy_problem()[1])}
    published = iterative_search(space, Spiked(toy_problem(noise_std=0.3)[1], [spike]), **kw)
    old = iterative_search(space, Spiked(toy_problem(noise_std=0.3)[1], [spike]),
                           selection="all_evaluated", **kw)
    assert old.arch == spike and old.score > 90
    pooled = {a for r in published.rounds for a in r.candidates}
    assert spike in published.rounds[0].subspace and spike not in pooled
    assert published.arch in pooled and published.score < 90
    assert published.score == max(r.top_scores[0] for r in published.rounds)


class Oracle(BaseEstimator):
    """A predictor that ranks by the truth (a perfect GCN)."""

    def __init__(self, space=None, truth=None):
        self.space = space
        self.truth = truth

    def fit(self, archs, y):
        return self

    def predict(self, archs):
        return self.truth.true_accuracy(archs)


def test_no_gcn_ablation_keeps_the_best_samples():
    space, evaluator, acc = toy_problem(noise_std=0.3)
    result = iterative_search(space, evaluator, rounds=2, layers_per_round=3, m_samples=12,
                              k_keep=3, selection="sampled", random_state=0)
    first = result.rounds[0]
    assert first.table is None and first.tau_truth is None and first.tau_evaluator_truth > 0
    second = result.rounds[1]
    assert len(first.candidates) == 12 and result.num_evaluations == len(
        {ChoiceArch("toy", (0,) * 6), *first.candidates, *second.candidates})
    scores = evaluator.evaluate(first.candidates)
    assert list(first.top_scores) == sorted(scores, reverse=True)[:3]
    assert result.arch in set(first.candidates) | set(second.candidates)


def test_samples_per_round():
    space, evaluator, _ = toy_problem(noise_std=0.3)
    result = iterative_search(space, evaluator, rounds=3, layers_per_round=3,
                              m_samples=[20, 4, 9], k_keep=3, selection="sampled",
                              random_state=0)
    assert [len(r.candidates) for r in result.rounds] == [20, 4, 9]
    # an int is the same number every round: the same search as that number per round
    kw = dict(rounds=2, layers_per_round=3, k_eval=5, k_keep=3, predictor=FAST, random_state=0)
    a = iterative_search(space, toy_problem(noise_std=0.3)[1], m_samples=10, **kw)
    b = iterative_search(space, toy_problem(noise_std=0.3)[1], m_samples=(10, 10), **kw)
    assert a.arch == b.arch and a.num_evaluations == b.num_evaluations
    # a round never samples more than its subspace holds: the first one's 27 cells (the
    # start among them) are all evaluated, the GCN's top among them
    capped = iterative_search(space, toy_problem()[1], m_samples=np.array([50, 50]),
                              **{**kw, "k_eval": 1})
    assert len(capped.rounds[0].subspace) == 27 == capped.rounds[0].num_evaluations


def test_samples_per_round_errors():
    space, evaluator, _ = toy_problem()
    with pytest.raises(ValueError, match="'m_samples' parameter of iterative_search must be an "
                                         "int or a sequence of one int per round \\(rounds=3\\)"
                                         ". Got 2 values"):
        iterative_search(space, evaluator, rounds=3, m_samples=[10, 10])
    with pytest.raises(ValueError, match="'m_samples' parameter .* \\[4, inf\\]. Got 3"):
        iterative_search(space, evaluator, rounds=2, m_samples=[10, 3])
    with pytest.raises(TypeError, match="'m_samples' parameter .* Got 10.5 \\(float\\)"):
        iterative_search(space, evaluator, rounds=2, m_samples=[10, 10.5])
    with pytest.raises(TypeError, match="'m_samples' parameter .* Got '10' \\(str\\)"):
        iterative_search(space, evaluator, m_samples="10")
    with pytest.raises(ValueError, match="\\(0.9\\) leaves fewer than 2 of m_samples=5"):
        iterative_search(space, evaluator, rounds=2, m_samples=[40, 5], holdout=0.9)
    assert evaluator.num_evaluations_ == 0  # refused before spending any evaluation

"""archgraph.plot draws what it says on real pipeline objects (Agg backend, no display)."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from archgraph import plot  # noqa: E402
from archgraph.datasets import SyntheticBenchmark  # noqa: E402
from archgraph.lookup import LookupTable  # noqa: E402
from archgraph.metrics import kendall_tau  # noqa: E402
from archgraph.spaces import get_search_space  # noqa: E402


def test_predicted_vs_true_titles_tau():
    rng = np.random.default_rng(0)
    y = rng.random(50) * 10 + 80
    pred = y + rng.normal(0, 1, 50)
    ax = plot.predicted_vs_true(y, pred, label="ridge")
    assert ax.get_title() == f"ridge: Kendall tau = {kendall_tau(y, pred):.3f}"
    assert len(ax.collections[0].get_offsets()) == 50


def test_pareto_front_marks_budget_and_picks():
    space = get_search_space("macro")
    acc = np.random.default_rng(1).random(len(space)) * 30 + 60
    table = LookupTable.from_predictions(space, None, acc)
    budget = float(np.median(table.frame["flops"]))
    picks = table.query(max_flops=budget, top_k=5)
    ax = plot.pareto_front(table, "flops", budget=budget, picks=picks, sample=500)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Pareto front", f"budget {budget:.3g}", "architectures", "picks"] or \
        set(labels) == {"Pareto front", f"budget {budget:.3g}", "architectures", "picks"}
    np.testing.assert_array_equal(ax.collections[-1].get_offsets()[:, 0], picks["flops"])
    assert ax.lines[1].get_xdata()[0] == budget
    with pytest.raises(ValueError, match="'cost' parameter of pareto_front must be a cost "
                                         "column of the table: 'flops'"):
        plot.pareto_front(table, "latency_ms")


def test_improvement_curve_one_line_per_predictor():
    y = np.arange(100.0)
    ax = plot.improvement_curve(y, {"perfect": y, "reversed": -y})
    perfect, reversed_ = ax.lines[0].get_ydata(), ax.lines[1].get_ydata()
    assert perfect[-1] == pytest.approx(1.0) and reversed_[-1] < 0
    with pytest.raises(TypeError, match="'predictions' parameter of improvement_curve"):
        plot.improvement_curve(y, y)


def test_iterative_rounds():
    from archgraph.evaluators import TableEvaluator
    from archgraph.predictors import SpaceGCNPredictor
    from archgraph.search import iterative_search

    space = get_search_space("macro")
    bench = SyntheticBenchmark(space, random_state=0)
    archs = list(space.enumerate())
    import pandas as pd
    frame = pd.DataFrame({"arch": [space.to_str(a) for a in archs],
                          "acc": bench.true_accuracy(archs)})
    ev = TableEvaluator(space, frame, "arch", "acc")
    result = iterative_search(space, ev, SpaceGCNPredictor(hidden_channels=8, epochs=20),
                              rounds=2, m_samples=20, k_eval=10, k_keep=3,
                              random_state=0)
    ax = plot.iterative_rounds(result)
    assert len(ax.lines[0].get_xdata()) == len(result.rounds)
    with pytest.raises(ValueError, match="at least one round"):
        plot.iterative_rounds(object())

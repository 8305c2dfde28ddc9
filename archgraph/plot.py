"""Figures of the pipeline (matplotlib, an optional dependency: ``pip install matplotlib``).

Each function draws on ``ax`` (a new figure's axes if ``None``) and returns the axes:

- :func:`predicted_vs_true`: a predictor's values against the truth, Kendall tau in the title;
- :func:`pareto_front`: a lookup table's accuracy against a cost, its Pareto front, a budget
  line and the picked architectures marked;
- :func:`improvement_curve`: the normalized improvement of pruning the predicted-worst
  architectures (Laube & Zell), one curve per predictor;
- :func:`iterative_rounds`: the rounds of :func:`~archgraph.search.iterative_search`: best
  evaluated accuracy and the GCN's Kendall tau per round.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from archgraph import metrics

__all__ = ["improvement_curve", "iterative_rounds", "pareto_front", "predicted_vs_true"]


def _axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("archgraph.plot needs matplotlib: pip install matplotlib (or pip "
                          "install 'archgraph[all]').") from exc
    return plt.subplots(figsize=(5, 4))[1]


def predicted_vs_true(y_true, y_pred, ax=None, label: str = "predictor"):
    """Scatter of predicted against true values with the diagonal; the title gives Kendall
    tau."""
    tau = metrics.kendall_tau(y_true, y_pred)  # validates the pair
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    ax = _axes(ax)
    ax.scatter(y_true, y_pred, s=8, alpha=0.6)
    lo, hi = min(y_true.min(), y_pred.min()), max(y_true.max(), y_pred.max())
    ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls="--")
    ax.set_xlabel("true accuracy (%)")
    ax.set_ylabel("predicted accuracy (%)")
    ax.set_title(f"{label}: Kendall tau = {tau:.3f}")
    return ax


def pareto_front(table, cost: str = "flops", budget: float | None = None, picks=None,
                 ax=None, soft: int | None = None, sample: int = 20000, random_state=0):
    """A lookup table's accuracy against ``cost`` (a random ``sample`` of its rows), its
    (soft, width ``soft``) Pareto front, a vertical line at ``budget`` and the ``picks`` (a
    DataFrame of query results, e.g. ``table.query(max_flops=budget, top_k=5)``) marked."""
    frame = table.frame
    if cost not in table.cost_columns:
        raise ValueError(f"The 'cost' parameter of pareto_front must be a cost column of the "
                         f"table: {', '.join(map(repr, table.cost_columns))}. Got {cost!r}.")
    ax = _axes(ax)
    rng = np.random.default_rng(random_state)
    rows = rng.choice(len(frame), size=min(sample, len(frame)), replace=False)
    ax.scatter(frame[cost].to_numpy()[rows], frame["accuracy"].to_numpy()[rows], s=4,
               alpha=0.3, color="grey", label="architectures")
    front = table.pareto(cost) if soft is None else table.soft_pareto(soft, cost)
    ax.step(front[cost], front["accuracy"], where="post", color="C0",
            label="Pareto front" if soft is None else f"soft Pareto front (J={soft})")
    if budget is not None:
        ax.axvline(budget, color="C3", ls="--", lw=1, label=f"budget {budget:.3g}")
    if picks is not None and len(picks):
        ax.scatter(picks[cost], picks["accuracy"], s=40, marker="*", color="C3", zorder=3,
                   label="picks")
    ax.set_xlabel(cost)
    ax.set_ylabel("predicted accuracy (%)")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def improvement_curve(y_true, predictions: Mapping[str, np.ndarray], ax=None,
                      fractions=None):
    """Normalized improvement (:func:`archgraph.metrics.improvement_curve`) of each
    predictor in ``predictions`` (``{label: predicted values}``) against the pruned
    fraction."""
    if not isinstance(predictions, Mapping) or not predictions:
        raise TypeError("The 'predictions' parameter of improvement_curve must be a non-empty "
                        "mapping {label: predicted values}. Got "
                        f"{type(predictions).__name__} instead.")
    ax = _axes(ax)
    for label, y_pred in predictions.items():
        p, values = metrics.improvement_curve(y_true, y_pred, fractions)
        ax.plot(p, values, marker=".", label=label)
    ax.axhline(0.0, color="grey", lw=1, ls="--")
    ax.set_xlabel("fraction pruned (predicted worst)")
    ax.set_ylabel("normalized improvement")
    ax.legend(fontsize="small")
    return ax


def iterative_rounds(result, ax=None):
    """Best evaluated accuracy per round of an :class:`~archgraph.search.IterativeSearchResult`
    (left axis) and the round GCN's Kendall tau on held-out samples and, when known, against
    the truth (right axis)."""
    rounds = getattr(result, "rounds", None)
    if not rounds:
        raise ValueError("The 'result' parameter of iterative_rounds must be an "
                         "IterativeSearchResult with at least one round.")
    ax = _axes(ax)
    t = np.arange(1, len(rounds) + 1)
    ax.plot(t, [float(r.top_scores[0]) for r in rounds], marker="o", color="C0",
            label="best evaluated")
    ax.set_xlabel("round")
    ax.set_ylabel("accuracy (%)")
    ax.set_xticks(t)
    right = ax.twinx()
    right.plot(t, [r.tau_holdout for r in rounds], marker="s", color="C1", ls="--",
               label="tau (held-out)")
    if all(r.tau_truth is not None for r in rounds):
        right.plot(t, [r.tau_truth for r in rounds], marker="^", color="C2", ls=":",
                   label="tau (truth)")
    right.set_ylabel("Kendall tau")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize="small", loc="lower right")
    return ax

"""Iterative space-GCN search (Chen et al., AAAI 2021) vs. random search under the same budget.

On NAS-Bench-Macro (8 layers x 3 options, CIFAR-10 mean accuracy) and NAS-Bench-201 (6 edges x
5 ops, CIFAR-10 200-epoch test accuracy), a ``TableEvaluator`` returns the table accuracy plus
fixed per-architecture Gaussian noise (a supernet-like estimate) whose standard deviation makes
Kendall tau(noisy, true) over the whole table about 0.5. Per run (10 runs, seeds 0..9):

* ``gcn search``: :func:`archgraph.search.iterative.iterative_search`; its pick's true accuracy;
* ``random``: the same number of distinct random architectures, evaluated by the same noisy
  evaluator, the best noisy one picked; its true accuracy;
* ``space best``: the best true accuracy of the space.

Round diagnostics (medians over rounds, then runs): Kendall tau of the GCN's predictions vs the
truth over the round's whole subspace, and of the noisy evaluations vs the truth on the round's
sampled architectures (rounds whose subspace has constant truth are skipped).

    python bench/bench_iterative_search.py           # 10 runs per space
    python bench/bench_iterative_search.py --quick   # 2 runs
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from archgraph.evaluators import TableEvaluator
from archgraph.metrics import kendall_tau
from archgraph.predictors import SpaceGCNPredictor
from archgraph.search.iterative import iterative_search

RESULTS = Path(__file__).resolve().parent / "results"
SETTINGS = {  # per space: schedule, samples per round, super-cell size K, rounds
    "macro": dict(layers_per_round=4, m_samples=30, k_top=5, rounds=4),
    "nasbench201": dict(layers_per_round=3, m_samples=40, k_top=5, rounds=4),
}
#: start architecture per space (choice of every layer): Macro's default (all identity);
#: NB201 all nor_conv_3x3, as its option 0 ('none' everywhere) is a disconnected cell
START = {"macro": None, "nasbench201": 3}
GCN_PARAMS = dict(hidden_channels=32, num_layers=2, epochs=200, weight_decay=5e-3,
                  dropout=0.5, features="gray+onehot")


def noise_for_tau(truth: np.ndarray, target: float = 0.5, seed: int = 12345) -> float:
    """Noise std s with tau(truth + s * N(0, 1), truth) ~= target (bisection, one draw)."""
    draw = np.random.default_rng(seed).normal(size=len(truth))
    lo, hi = 0.0, 100.0 * truth.std()
    for _ in range(25):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if kendall_tau(truth, truth + mid * draw) > target else (lo, mid)
    return 0.5 * (lo + hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 runs per space")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--m-samples", type=int, default=None, help="override per space")
    parser.add_argument("--k-top", type=int, default=None, help="override per space")
    args = parser.parse_args()
    tag = "_quick" if args.quick else ""  # a smoke run keeps the full results
    if args.m_samples is not None or args.k_top is not None:  # so do overridden settings
        tag += f"_m{args.m_samples or 'default'}_k{args.k_top or 'default'}"
    runs = 2 if args.quick else args.runs
    for settings in SETTINGS.values():
        settings.update({k: v for k, v in (("m_samples", args.m_samples),
                                           ("k_top", args.k_top)) if v is not None})
    out = {}
    for name, settings in SETTINGS.items():
        exact = TableEvaluator.from_benchmark(name)
        truth = exact.table[exact.target_column].to_numpy(dtype=np.float64)
        noise = noise_for_tau(truth)
        rows = []
        for run in range(runs):
            ev = TableEvaluator.from_benchmark(name, noise_std=noise, random_state=run)
            start = (None if START[name] is None
                     else ev.space.decode([[START[name]] * ev.space.num_layers])[0])
            result = iterative_search(ev.space, ev, SpaceGCNPredictor(**GCN_PARAMS),
                                      start=start, random_state=run, **settings)
            budget = result.num_evaluations
            baseline_ev = TableEvaluator.from_benchmark(name, noise_std=noise, random_state=run)
            picks = ev.space.sample(budget, rng=np.random.default_rng(10_000 + run))
            noisy = baseline_ev.evaluate(picks)
            random_pick = picks[int(np.argmax(noisy))]
            rows.append(dict(
                run=run, budget=budget, rounds=len(result.rounds),
                gcn=float(ev.true_accuracy([result.arch])[0]),
                random=float(ev.true_accuracy([random_pick])[0]),
                tau_holdout=float(np.nanmedian([r.tau_holdout for r in result.rounds])),
                tau_truth=float(np.nanmedian([r.tau_truth for r in result.rounds])),
                tau_eval_truth=float(np.nanmedian([r.tau_evaluator_truth
                                                   for r in result.rounds])),
                arch=ev.space.to_str(result.arch)))
            print(json.dumps(rows[-1]), flush=True)
        out[name] = dict(noise_std=noise, best=float(truth.max()), rows=rows,
                         size=len(truth), settings=settings)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"iterative_search{tag}.json").write_text(json.dumps(dict(results=out,
                                                                   gcn=GCN_PARAMS), indent=1))
    print(f"\n{runs} runs per space; settings {SETTINGS}; true accuracy (%) of the final pick, "
          f"median [min, max]\n")
    print("| space | noise std | evaluations | gcn search | random, same budget | space best "
          "| gcn > random | round tau GCN-vs-truth | round tau noisy-vs-truth |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in out.items():
        rows = r["rows"]

        def fmt(key):
            v = np.array([x[key] for x in rows])
            return f"{np.median(v):.2f} [{v.min():.2f}, {v.max():.2f}]"

        wins = sum(x["gcn"] > x["random"] for x in rows)
        ties = sum(x["gcn"] == x["random"] for x in rows)
        print(f"| {name} | {r['noise_std']:.2f} | {int(np.median([x['budget'] for x in rows]))} "
              f"| {fmt('gcn')} | {fmt('random')} | {r['best']:.2f} | {wins}/{len(rows)} "
              f"({ties} ties) | {np.median([x['tau_truth'] for x in rows]):.2f} | "
              f"{np.median([x['tau_eval_truth'] for x in rows]):.2f} |")
    _plot(out, RESULTS / f"iterative_search{tag}.png")


def _plot(out: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(out), figsize=(4.5 * len(out), 3.6), squeeze=False)
    for ax, (name, r) in zip(axes[0], out.items()):
        data = [[x["gcn"] for x in r["rows"]], [x["random"] for x in r["rows"]]]
        ax.boxplot(data)
        ax.set_xticks([1, 2], ["gcn search", "random (same budget)"])
        ax.axhline(r["best"], color="g", ls="--", label="space best")
        ax.set(title=f"{name}: noisy evaluator (tau 0.5)", ylabel="true accuracy of pick (%)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()

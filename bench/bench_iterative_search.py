"""Iterative space-GCN search (Algorithm 1 of Chen et al., AAAI 2021): variants and ablations
against random search under the same budget.

On NAS-Bench-201 (6 edges x 5 ops, CIFAR-10 200-epoch test accuracy) and NAS-Bench-Macro (8
layers x 3 options, CIFAR-10 mean accuracy), a ``TableEvaluator`` returns the table accuracy
plus fixed per-architecture Gaussian noise (a supernet-like estimate) whose standard deviation
makes Kendall tau(noisy, true) over the whole table about 0.5. Per run (seeds 0..runs-1), the
same evaluator noise for every method:

* ``alg1 keep-6``: :func:`~archgraph.search.iterative.iterative_search` as published: each
  round re-evaluates the GCN's top ``K_eval = 100`` and keeps the best ``K_keep = 6``;
* ``alg1 keep-1``: the same, a super-cell of one (``K_keep = 1``);
* ``no-GCN keep-6``: the ablation ``selection="sampled"`` (no predictor; the best 6 samples);
* ``old (all evaluated)``: the earlier loop, ``selection="all_evaluated"``, ``K_eval = K_keep
  = 5`` (the samples compete on their noisy scores);
* ``random``: as many distinct random architectures as ``alg1 keep-6`` evaluated, the best
  noisy one picked.

Regret = the space's best true accuracy minus the pick's true accuracy (points), median
[min, max] over runs.

    python bench/bench_iterative_search.py                      # 20 runs, both spaces
    python bench/bench_iterative_search.py --spaces nasbench201 # one space
    python bench/bench_iterative_search.py --quick              # 2 runs
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
SETTINGS = {  # per space: schedule, samples per round, rounds
    "nasbench201": dict(layers_per_round=3, m_samples=40, rounds=4),
    "macro": dict(layers_per_round=4, m_samples=30, rounds=4),
}
#: the compared searches: iterative_search keyword arguments (a GCN unless "sampled")
VARIANTS = {
    "alg1 keep-6": dict(selection="gcn_top", k_eval=100, k_keep=6),
    "alg1 keep-1": dict(selection="gcn_top", k_eval=100, k_keep=1),
    "no-GCN keep-6": dict(selection="sampled", k_keep=6),
    "old (all evaluated)": dict(selection="all_evaluated", k_eval=5, k_keep=5),
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
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--spaces", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    args = parser.parse_args()
    tag = "_quick" if args.quick else ""  # a smoke run keeps the full results
    if args.spaces != list(SETTINGS):
        tag += "_" + "_".join(args.spaces)
    runs = 2 if args.quick else args.runs
    out = {}
    for name in args.spaces:
        settings = SETTINGS[name]
        exact = TableEvaluator.from_benchmark(name)
        truth = exact.table[exact.target_column].to_numpy(dtype=np.float64)
        noise = noise_for_tau(truth)
        best = float(truth.max())
        rows = []
        for run in range(runs):
            row = dict(run=run)
            for variant, kw in VARIANTS.items():
                ev = TableEvaluator.from_benchmark(name, noise_std=noise, random_state=run)
                start = (None if START[name] is None
                         else ev.space.decode([[START[name]] * ev.space.num_layers])[0])
                predictor = None if kw["selection"] == "sampled" else SpaceGCNPredictor(
                    **GCN_PARAMS)
                result = iterative_search(ev.space, ev, predictor, start=start,
                                          random_state=run, **settings, **kw)
                row[variant] = dict(
                    regret=best - float(ev.true_accuracy([result.arch])[0]),
                    evaluations=result.num_evaluations, rounds=len(result.rounds),
                    tau_truth=(float(np.median(taus)) if (taus := [
                        r.tau_truth for r in result.rounds if r.tau_truth is not None
                        and np.isfinite(r.tau_truth)]) else None),
                    arch=ev.space.to_str(result.arch))
            budget = row["alg1 keep-6"]["evaluations"]
            ev = TableEvaluator.from_benchmark(name, noise_std=noise, random_state=run)
            picks = ev.space.sample(budget, rng=np.random.default_rng(10_000 + run))
            pick = picks[int(np.argmax(ev.evaluate(picks)))]
            row["random"] = dict(regret=best - float(ev.true_accuracy([pick])[0]),
                                 evaluations=budget)
            rows.append(row)
            print(json.dumps(dict(space=name, **{k: (v["regret"] if isinstance(v, dict)
                                                     else v) for k, v in row.items()})),
                  flush=True)
        out[name] = dict(noise_std=noise, best=best, rows=rows, size=len(truth),
                         settings=settings)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"iterative_search{tag}.json").write_text(json.dumps(dict(
        results=out, gcn=GCN_PARAMS, variants=VARIANTS,
        command="python bench/bench_iterative_search.py" + (
            " --spaces " + " ".join(args.spaces) if args.spaces != list(SETTINGS) else "")),
        indent=1))
    methods = [*VARIANTS, "random"]
    print(f"\n{runs} runs per space; regret (points) of the pick, median [min, max]\n")
    print("| space | method | evaluations (median) | regret | regret < random's "
          "| round tau GCN-vs-truth |")
    print("|---|---|---|---|---|---|")
    for name, r in out.items():
        rows = r["rows"]
        for meth in methods:
            reg = np.array([x[meth]["regret"] for x in rows])
            ev = int(np.median([x[meth]["evaluations"] for x in rows]))
            wins = sum(x[meth]["regret"] < x["random"]["regret"] for x in rows)
            taus = [x[meth]["tau_truth"] for x in rows if x[meth].get("tau_truth") is not None]
            tau = f"{np.median(taus):.2f}" if taus else "-"
            print(f"| {name} | {meth} | {ev} | {np.median(reg):.2f} [{reg.min():.2f}, "
                  f"{reg.max():.2f}] | {'-' if meth == 'random' else f'{wins}/{len(rows)}'} "
                  f"| {tau} |")
    _plot(out, methods, RESULTS / f"iterative_search{tag}.png")


def _plot(out: dict, methods: list[str], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(out), figsize=(6 * len(out), 3.8), squeeze=False)
    for ax, (name, r) in zip(axes[0], out.items()):
        ax.boxplot([[x[m]["regret"] for x in r["rows"]] for m in methods])
        ax.set_xticks(range(1, len(methods) + 1), [m.replace(" (", "\n(") for m in methods],
                      fontsize=7)
        ax.set(title=f"{name}: noisy evaluator (tau 0.5), {len(r['rows'])} runs",
               ylabel="regret of the pick (points)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()

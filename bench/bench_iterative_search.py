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
* ``alg1 keep-6, small``: Algorithm 1 at about the ablation's budget: fewer samples and a
  smaller ``K_eval`` per round (``SMALL``);
* ``no-GCN keep-6 at alg1's budget`` and ``old at alg1's budget``: the ablation and the
  earlier loop given, round by round, as many evaluations as ``alg1 keep-6`` spent in the
  same run (its rounds and its new evaluations per round, spent on random samples of the
  round's subspace; the earlier loop keeps its ``K_eval = 5``, so it samples 5 fewer;
  ``matched_search`` shifts the samples per round to bring the total to alg1's);
* ``random``: as many distinct random architectures as ``alg1 keep-6`` evaluated, the best
  noisy one picked; every method is also compared with random search at its own budget.

Regret = the space's best true accuracy minus the pick's true accuracy (points), median
[min, max] over runs; paired wins of Algorithm 1 against the searches of the same budget.

    python bench/bench_iterative_search.py                      # 20 runs, both spaces
    python bench/bench_iterative_search.py --spaces nasbench201 # one space
    python bench/bench_iterative_search.py --quick              # 2 runs
"""
from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon
from tqdm.auto import tqdm

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
#: Algorithm 1 at about the ablation's budget per space (M and K_eval set so that the median
#: evaluations come to about the ablation's: the GCN's top overlaps the samples)
SMALL = {"nasbench201": dict(m_samples=24, k_eval=18), "macro": dict(m_samples=20, k_eval=13)}
#: searches given alg1 keep-6's per-round evaluations: keyword arguments, and the evaluations
#: a round spends besides its samples (the earlier loop's GCN top)
MATCHED = {
    "no-GCN keep-6 at alg1's budget": (dict(selection="sampled", k_keep=6), 0),
    "old at alg1's budget": (dict(selection="all_evaluated", k_eval=5, k_keep=5), 5),
}
#: runs of a matched search to bring its evaluations to alg1 keep-6's (matched_search)
TRIES = 4
#: paired comparisons of searches at (about) the same budget: (Algorithm 1, other)
PAIRS = [("alg1 keep-6", "no-GCN keep-6 at alg1's budget"),
         ("alg1 keep-6", "old at alg1's budget"), ("alg1 keep-6", "random"),
         ("alg1 keep-6, small", "no-GCN keep-6"), ("alg1 keep-6, small", "random")]
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


def per_round_spend(result) -> list[int]:
    """New evaluations of each round of an ``iterative_search`` result (the start's excluded)."""
    done = [1] + [r.num_evaluations for r in result.rounds]
    return [b - a for a, b in zip(done, done[1:])]


def matched_search(search, spend: list[int], target: int, extra: int, kw: dict) -> dict:
    """Run ``search`` with alg1 keep-6's rounds and per-round evaluations ``spend``, samples
    per round shifted by one offset until the total is closest to ``target``.

    ``extra`` evaluations a round spends besides its samples are taken off. A sample may hit an
    architecture evaluated in an earlier round, and more samples change the later subspaces,
    so the offset is adjusted by the shortfall (up to ``TRIES`` runs) and the run whose
    evaluations come closest to ``target`` is kept (chosen on the count alone, never on
    accuracy)."""
    offset, best = 0, None
    for _ in range(TRIES):
        m = [max(4, n - extra + offset) for n in spend]  # iterative_search's minimum is 4
        info = dict(search(rounds=len(spend), m_samples=m, **kw)[1], m_samples=m)
        if best is None or abs(info["evaluations"] - target) < abs(best["evaluations"] - target):
            best = info
        step = round((target - info["evaluations"]) / len(spend))
        if step == 0:
            break
        offset += step
    return best


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
    if not args.quick and runs != 20:  # the default 20 runs keep their file
        tag += f"_runs{runs}"
    out = {}
    for name in args.spaces:
        settings = SETTINGS[name]
        exact = TableEvaluator.from_benchmark(name)
        truth = exact.table[exact.target_column].to_numpy(dtype=np.float64)
        noise = noise_for_tau(truth)
        best = float(truth.max())
        variants = {**VARIANTS, "alg1 keep-6, small": dict(selection="gcn_top", k_keep=6,
                                                           **SMALL[name])}
        rows = []
        for run in tqdm(range(runs), desc=name):
            row = dict(run=run)
            ev = TableEvaluator.from_benchmark(name, noise_std=noise, random_state=run)

            def regret(arch) -> float:
                return best - float(ev.true_accuracy([arch])[0])

            def search(**kw):
                # a fresh evaluator per search: the same fixed noise, its own count
                fresh = TableEvaluator.from_benchmark(name, noise_std=noise, random_state=run)
                start = (None if START[name] is None
                         else fresh.space.decode([[START[name]] * fresh.space.num_layers])[0])
                predictor = None if kw["selection"] == "sampled" else SpaceGCNPredictor(
                    **GCN_PARAMS)
                result = iterative_search(fresh.space, fresh, predictor, start=start,
                                          random_state=run, **{**settings, **kw})
                taus = [r.tau_truth for r in result.rounds
                        if r.tau_truth is not None and np.isfinite(r.tau_truth)]
                return result, dict(
                    regret=regret(result.arch), evaluations=result.num_evaluations,
                    rounds=len(result.rounds), spend=per_round_spend(result),
                    tau_truth=float(np.median(taus)) if taus else None,
                    arch=fresh.space.to_str(result.arch))

            for variant, kw in variants.items():
                result, row[variant] = search(**kw)
                if variant == "alg1 keep-6":
                    alg1 = result
            spend, target = per_round_spend(alg1), alg1.num_evaluations
            for variant, (kw, extra) in MATCHED.items():
                row[variant] = matched_search(search, spend, target, extra, kw)

            def random_regret(budget: int) -> float:
                picks = ev.space.sample(budget, rng=np.random.default_rng(10_000 + run))
                return regret(picks[int(np.argmax(ev.evaluate(picks)))])

            for v in [*variants, *MATCHED]:
                row[v]["random_regret"] = random_regret(row[v]["evaluations"])
            row["random"] = dict(regret=row["alg1 keep-6"]["random_regret"],
                                 evaluations=row["alg1 keep-6"]["evaluations"])
            rows.append(row)
            tqdm.write(json.dumps(dict(space=name, **{k: (v["regret"] if isinstance(v, dict)
                                                          else v) for k, v in row.items()})))
        out[name] = dict(noise_std=noise, best=best, rows=rows, size=len(truth),
                         settings=settings, small=SMALL[name])
    methods = [*variants, *MATCHED, "random"]

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"iterative_search{tag}.json").write_text(json.dumps(dict(
        results=out, gcn=GCN_PARAMS, variants=VARIANTS, small=SMALL,
        matched={k: dict(kw, samples_fewer_than_alg1=e) for k, (kw, e) in MATCHED.items()},
        command="python bench/bench_iterative_search.py" + (
            " --spaces " + " ".join(args.spaces) if args.spaces != list(SETTINGS) else "") + (
            f" --runs {runs}" if not args.quick and runs != 20 else "")),
        indent=1))
    print(f"\n{runs} runs per space; regret (points) of the pick, median [min, max]\n")
    print("| space | method | evaluations (median) | regret | regret < random's at the same "
          "budget | round tau GCN-vs-truth |")
    print("|---|---|---|---|---|---|")
    for name, r in out.items():
        rows = r["rows"]
        for meth in methods:
            reg = np.array([x[meth]["regret"] for x in rows])
            ev = int(np.median([x[meth]["evaluations"] for x in rows]))
            wins = sum(x[meth]["regret"] < x[meth]["random_regret"] for x in rows
                       if meth != "random")
            taus = [x[meth]["tau_truth"] for x in rows if x[meth].get("tau_truth") is not None]
            tau = f"{np.median(taus):.2f}" if taus else "-"
            print(f"| {name} | {meth} | {ev} | {np.median(reg):.2f} [{reg.min():.2f}, "
                  f"{reg.max():.2f}] | {'-' if meth == 'random' else f'{wins}/{len(rows)}'} "
                  f"| {tau} |")
    print("\nPaired, same run: Algorithm 1 better / tied / worse (regret), median paired "
          "difference (Algorithm 1 minus the other; negative = Algorithm 1 better), two-sided "
          "Wilcoxon signed-rank p (ties dropped)\n")
    print("| space | Algorithm 1 | vs | evaluations (median, both) | better / tied / worse "
          "| median difference | Wilcoxon p |")
    print("|---|---|---|---|---|---|---|")
    for name, r in out.items():
        for a, b in PAIRS:
            # random search "at the same budget" is the one at Algorithm 1's own budget
            other = "random_regret" if b == "random" else "regret"
            diff = np.array([x[a]["regret"] - x[a if b == "random" else b][other]
                             for x in r["rows"]])
            evs = [int(np.median([x[m]["evaluations"] for x in r["rows"]]))
                   for m in (a, a if b == "random" else b)]
            p = wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0
            print(f"| {name} | {a} | {b} | {evs[0]} vs {evs[1]} | {(diff < 0).sum()} / "
                  f"{(diff == 0).sum()} / {(diff > 0).sum()} | {np.median(diff):+.2f} "
                  f"| {p:.2f} |")
    _plot(out, methods, RESULTS / f"iterative_search{tag}.png")


def _plot(out: dict, methods: list[str], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(out), figsize=(9 * len(out), 4.4), squeeze=False)
    for ax, (name, r) in zip(axes[0], out.items()):
        ax.boxplot([[x[m]["regret"] for x in r["rows"]] for m in methods])
        labels = [textwrap.fill(f"{m} ({int(np.median([x[m]['evaluations'] for x in r['rows']]))}"
                                f" evals)", 14) for m in methods]
        ax.set_xticks(range(1, len(methods) + 1), labels, fontsize=7)
        ax.set(title=f"{name}: noisy evaluator (tau 0.5), {len(r['rows'])} runs",
               ylabel="regret of the pick (points)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()

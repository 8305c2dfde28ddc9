"""Evolutionary search vs. random search at the same evaluation budget, on benchmark tables.

On NAS-Bench-Macro (8 layers x 3 options, CIFAR-10 mean accuracy) and NAS-Bench-201 (6 edges x
5 ops, CIFAR-10 200-epoch test accuracy), with the exact table as the evaluator and with fixed
per-architecture Gaussian noise making Kendall tau(noisy, true) about 0.5 (a supernet-like
estimate), without and with a FLOPs bound (the space's median FLOPs). Per run (seeds 0..R-1):

* ``evolution``: :func:`archgraph.search.evolutionary_search` (population 20, top-k 10,
  mutation probability 1 / layers) with ``budget`` evaluations; the true accuracy of its pick;
* ``random``: ``budget`` distinct random admissible architectures under the same evaluator,
  the best evaluated one picked; its true accuracy.

    python bench/bench_evolution.py            # 20 runs, budgets 50, 100, 200
    python bench/bench_evolution.py --quick    # 3 runs, budget 50
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_iterative_search import noise_for_tau  # bench/ is first on sys.path

from archgraph.evaluators import TableEvaluator
from archgraph.search import evolutionary_search

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 runs, budget 50")
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args(argv)
    runs, budgets = (3, (50,)) if args.quick else (args.runs, (50, 100, 200))
    out, lines = {}, []
    for name in ("macro", "nasbench201"):
        exact = TableEvaluator.from_benchmark(name)
        space = exact.space
        archs = list(space.enumerate())
        truth = exact.true_accuracy(archs)
        flops = space.cost("flops", archs)
        noise = noise_for_tau(truth)
        for noisy in (False, True):
            for bound in (None, float(np.median(flops))):
                ok = np.flatnonzero(flops <= (np.inf if bound is None else bound))
                for budget in budgets:
                    evo, rnd = [], []
                    for run in range(runs):
                        ev = TableEvaluator.from_benchmark(
                            name, noise_std=noise if noisy else 0.0, random_state=run)
                        res = evolutionary_search(space, ev, population=20, budget=budget,
                                                  top_k=10, mutation_prob=1 / space.num_layers,
                                                  max_flops=bound, random_state=run)
                        evo.append(float(ev.true_accuracy([res.arch])[0]))
                        pick = np.random.default_rng(10_000 + run).choice(ok, budget,
                                                                          replace=False)
                        cand = [archs[i] for i in pick]
                        best = cand[int(np.argmax(ev.evaluate(cand)))]
                        rnd.append(float(ev.true_accuracy([best])[0]))
                    key = f"{name}|{'noisy' if noisy else 'exact'}|{bound}|{budget}"
                    evo_a, rnd_a = np.array(evo), np.array(rnd)
                    out[key] = dict(evolution=evo, random=rnd, best=float(truth[ok].max()),
                                    noise_std=noise if noisy else 0.0)
                    lines.append(
                        f"| {name} | {'tau 0.5 (std %.2f)' % noise if noisy else 'exact'} | "
                        f"{'none' if bound is None else f'<= median ({bound:,.0f})'} | {budget} "
                        f"| {evo_a.mean():.2f} ({evo_a.std():.2f}) | {rnd_a.mean():.2f} "
                        f"({rnd_a.std():.2f}) | {int((evo_a > rnd_a).sum())}/"
                        f"{int((evo_a < rnd_a).sum())} | {truth[ok].max():.2f} |")
                    print(lines[-1], flush=True)
    header = [f"{runs} runs; true accuracy (%) of the pick, mean (std); wins/losses of "
              f"evolution against random in paired runs", "",
              "| space | evaluator | FLOPs bound | budget | evolution | random | wins/losses "
              "| best admissible |", "|---|---|---|---|---|---|---|---|"]
    RESULTS.mkdir(exist_ok=True)
    tag = "_quick" if args.quick else ""
    (RESULTS / f"evolution{tag}.md").write_text("\n".join(header + lines) + "\n")
    (RESULTS / f"evolution{tag}.json").write_text(json.dumps(out, indent=1))
    print("\n".join(header + lines))


if __name__ == "__main__":
    main()

"""Scale of the space GCN: FairNAS subspaces of 7, 8 and 9 free layers (6^7 .. 6^9 nodes).

For each size, M labelled architectures, fit a ``SpaceGCNPredictor`` (implicit Kronecker-sum
operator vs. materialized edge list where its memory estimate fits the budget) and tabulate every
node. Reports fit time, time to build the full lookup table (wall clock, and the process's CPU
time, less sensitive to other jobs on a shared machine) and peak resident memory. Each run
is a separate process, so peak memory is that run's own.

FairNAS has no accuracy table, so labels are synthetic
(``archgraph.datasets.SyntheticBenchmark``): an additive per-layer effect plus pairwise
interactions of neighbouring layers plus Gaussian noise (a fixed function of the seed).

    python bench/bench_space_gcn_scale.py            # 7, 8, 9 layers, M = 2000
    python bench/bench_space_gcn_scale.py --quick    # 5 and 6 layers, few epochs
    python bench/bench_space_gcn_scale.py --method correct_smooth --sizes 7 8  # another file
    OMP_NUM_THREADS=2 python bench/bench_space_gcn_scale.py --sizes 9   # -> *_9_threads2.json

Quality: Kendall tau of the model's predictions against the noise-free synthetic truth on
100,000 random nodes, next to that of the noisy labels on the labelled nodes; and, on the
labelled nodes, the model's predictions against the truth (tau and MSE) next to the labels'.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def run_one(n_layers: int, graph: str, m: int, epochs: int, hidden_channels: int, seed: int,
            max_memory_gb: float, method: str = "gcn") -> dict:
    from archgraph.datasets import SyntheticBenchmark
    from archgraph.predictors import CorrectSmoothPredictor, SpaceGCNPredictor
    from archgraph.spaces import get_search_space
    from archgraph.utils.memory import peak_rss_gb

    root = get_search_space("fairnas")
    space = root.subspace(list(range(n_layers)), root.default_arch())
    archs = space.sample(m, rng=seed)
    # per-layer effects N(0, 1), neighbouring-pair effects N(0, 0.3^2), label noise N(0, 1)
    bench = SyntheticBenchmark(space, pairwise=0.3, noise_std=1.0, noise="fresh",
                               random_state=seed)
    y = bench.evaluate(archs)
    if method == "correct_smooth":  # its defaults: amounts chosen by CV inside fit
        model = CorrectSmoothPredictor(space, random_state=seed, max_memory_gb=max_memory_gb)
    else:
        model = SpaceGCNPredictor(space, hidden_channels=hidden_channels, num_layers=2,
                                  epochs=epochs, graph=graph, random_state=seed,
                                  max_memory_gb=max_memory_gb)
    row = dict(layers=n_layers, nodes=len(space), graph=graph, m=m, epochs=epochs,
               method=method)
    c0 = time.process_time()
    t0 = time.perf_counter()
    try:
        model.fit(archs, y)
    except MemoryError as exc:
        est = (model.memory_estimate_gb(space) if method == "correct_smooth"
               else model.memory_estimate_gb(space, graph))
        row.update(status="refused", estimate_gb=est,
                   message=str(exc).split(";")[0])
        return row
    t1 = time.perf_counter()
    table = model.lookup_table()
    top = table.query(max_flops=float(np.median(table.frame["flops"])), top_k=5)
    t2 = time.perf_counter()
    row.update(status="ok", fit_s=t1 - t0, table_s=t2 - t1, rows=len(table),
               cpu_s=time.process_time() - c0,
               peak_rss_gb=peak_rss_gb(), estimate_gb=model.memory_estimate_gb_,
               best_arch=str(top["arch"].iloc[0]),
               train_r=float(np.corrcoef(model.predict(archs), y)[0, 1]))
    # quality: Kendall tau against the noise-free truth on 100,000 random nodes (GCN), and of
    # the noisy labels themselves on the labelled nodes (what the GCN denoises)
    from archgraph.metrics import kendall_tau
    probe = np.random.default_rng(seed + 1).choice(len(space), min(100_000, len(space)),
                                                   replace=False)
    c = space.encode(space.from_index(probe))
    truth_lab = bench.true_accuracy(archs)
    row.update(tau_gcn_truth=kendall_tau(bench.accuracies(c), model.predictions_[probe]),
               tau_labels_truth=kendall_tau(truth_lab, y),
               tau_pred_labelled_truth=kendall_tau(truth_lab, model.predict(archs)),
               mse_pred_labelled_truth=float(np.mean((model.predict(archs) - truth_lab) ** 2)),
               mse_labels_truth=float(np.mean((y - truth_lab) ** 2)))
    if method == "correct_smooth":
        row.update(chosen=dict(interactions=model.interactions_,
                               correction_alpha=model.correction_alpha_,
                               correction_scale=model.correction_scale_,
                               smoothing_alpha=model.smoothing_alpha_))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small spaces, few epochs")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--m", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--hidden-channels", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-memory-gb", type=float, default=16.0)
    parser.add_argument("--method", choices=("gcn", "correct_smooth"), default="gcn",
                        help="SpaceGCNPredictor (both graph forms) or CorrectSmoothPredictor "
                             "(implicit operator only)")
    parser.add_argument("--child", nargs=2, metavar=("LAYERS", "GRAPH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    tag = "_quick" if args.quick else ""  # a smoke run keeps the full results
    if args.method != "gcn":
        tag = f"_{args.method}" + tag
    if args.sizes:  # a partial run keeps the full results too
        tag += "_" + "_".join(map(str, args.sizes))
    threads = os.environ.get("OMP_NUM_THREADS")
    if threads and threads != "1":
        tag += f"_threads{threads}"
    if args.child:
        row = run_one(int(args.child[0]), args.child[1], args.m, args.epochs, args.hidden_channels,
                      args.seed, args.max_memory_gb, args.method)
        print(json.dumps(row))
        return
    sizes = args.sizes or ([5, 6] if args.quick else [7, 8, 9])
    epochs = 5 if args.quick else args.epochs
    rows = []
    for n_layers in sizes:
        for graph in ("implicit",) if args.method != "gcn" else ("implicit", "materialized"):
            cmd = [sys.executable, __file__, "--child", str(n_layers), graph, "--m", str(args.m),
                   "--method", args.method,
                   "--epochs", str(epochs), "--hidden-channels", str(args.hidden_channels),
                   "--seed", str(args.seed), "--max-memory-gb", str(args.max_memory_gb)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
            if out.returncode != 0:
                rows.append(dict(layers=n_layers, graph=graph, status="failed",
                                 message=out.stderr.strip().splitlines()[-1][:200]))
            else:
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"space_gcn_scale{tag}.json").write_text(json.dumps(rows, indent=1))
    print(f"\nFairNAS subspaces, M = {args.m} labels, {epochs} epochs, hidden "
          f"{args.hidden_channels}, 2 GCN layers, budget {args.max_memory_gb} GiB\n")
    print("| layers | nodes | graph | fit (s) | lookup table (s) | total (s) | CPU time (s) "
          "| peak RSS (GiB) | estimate (GiB) | tau model (100k nodes) / labels (M nodes) vs truth "
          "| tau / MSE model on labelled nodes vs truth | MSE labels vs truth |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r.get("status") == "ok":
            print(f"| {r['layers']} | {r['nodes']:,} | {r['graph']} | {r['fit_s']:.1f} | "
                  f"{r['table_s']:.1f} | {r['fit_s'] + r['table_s']:.1f} | "
                  f"{r.get('cpu_s', float('nan')):.0f} | {r['peak_rss_gb']:.2f} | "
                  f"{r['estimate_gb']:.2f} | {r['tau_gcn_truth']:.3f} / "
                  f"{r['tau_labels_truth']:.3f} | {r['tau_pred_labelled_truth']:.3f} / "
                  f"{r['mse_pred_labelled_truth']:.3f} | {r['mse_labels_truth']:.3f} |")
        else:
            est = f"{r['estimate_gb']:.1f}" if "estimate_gb" in r else "-"
            print(f"| {r['layers']} | {r.get('nodes', '-')} | {r['graph']} | "
                  f"{r['status']}: {r.get('message', '')} | - | - | - | - | {est} | - | - | - |")
    _plot(rows, RESULTS / f"space_gcn_scale{tag}.png")


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for graph, marker in (("implicit", "o"), ("materialized", "s")):
        ok = [r for r in rows if r.get("status") == "ok" and r["graph"] == graph]
        if not ok:
            continue
        n = [r["nodes"] for r in ok]
        axes[0].loglog(n, [r["fit_s"] + r["table_s"] for r in ok], marker=marker, label=graph)
        axes[1].loglog(n, [r["peak_rss_gb"] for r in ok], marker=marker, label=graph)
    axes[0].set(xlabel="nodes", ylabel="fit + lookup table (s)")
    axes[1].set(xlabel="nodes", ylabel="peak RSS (GiB)")
    for ax in axes:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()

"""``archgraph demo``: the three jobs end to end on a benchmark table, in a few seconds.

1. build a predictor dataset: ``--n`` NAS-Bench-201 architectures scored by the benchmark
   table with Gaussian noise of ``--noise-std`` points (a stand-in for a supernet's noisy
   estimates);
2. fit a space GCN (Chen et al., AAAI 2021) to them and save it;
3. tabulate its prediction for all 15,625 architectures with their FLOPs and parameters, query
   the most accurate under ``--max-flops`` and print the Pareto front; Kendall tau against the
   noise-free table says how well the GCN ranks the whole space.

The same as the commands ``archgraph dataset build``, ``archgraph predictor fit`` and
``archgraph lookup build|query|pareto`` (see README.md). Files go to ``--out``.
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

from archgraph.cli.common import (
    add_command,
    add_json,
    human,
    parse_count,
    progress_enabled,
    show_frame,
)


def add_parser(sub) -> None:
    p = add_command(sub, "demo", "the three jobs end to end on NAS-Bench-201 (seconds)",
                    __doc__)
    p.add_argument("--out", default="demo_out", help="folder of the demo's files")
    p.add_argument("--n", type=int, default=200, help="labelled architectures")
    p.add_argument("--noise-std", type=float, default=2.0,
                   help="noise added to the table's accuracies, in percentage points")
    p.add_argument("--max-flops", default="100M", help="FLOPs budget of the query")
    p.add_argument("--epochs", type=int, default=300, help="training epochs of the space GCN")
    p.add_argument("--seed", type=int, default=0, help="seed of sample, noise and GCN")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from archgraph.datasets import build_predictor_dataset, read_predictor_dataset
    from archgraph.evaluators import get_evaluator
    from archgraph.lookup import LookupTable
    from archgraph.metrics import kendall_tau
    from archgraph.predictors import PredictionRangeWarning, SpaceGCNPredictor
    from archgraph.spaces import get_search_space

    max_flops = parse_count(args.max_flops, "--max-flops")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = progress_enabled(args)
    timings = {}
    space = get_search_space("nasbench201")
    evaluator = get_evaluator("table", space, noise_std=args.noise_std,
                              random_state=args.seed)

    start = time.perf_counter()
    data = out / "nb201_dataset.parquet"
    build_predictor_dataset(space, evaluator, args.n, data, random_state=args.seed,
                            progress=progress)
    timings["dataset_s"] = time.perf_counter() - start

    start = time.perf_counter()
    archs, y = read_predictor_dataset(data)
    with warnings.catch_warnings(record=True) as caught:  # reported below, in plain words
        warnings.simplefilter("always", PredictionRangeWarning)
        model = SpaceGCNPredictor(space, epochs=args.epochs, random_state=args.seed,
                                  verbose=progress).fit(archs, y)
    outside = [w for w in caught if issubclass(w.category, PredictionRangeWarning)]
    model.set_params(verbose=False)
    model.save(out / "space_gcn.safetensors")
    timings["fit_s"] = time.perf_counter() - start

    start = time.perf_counter()
    table = LookupTable.build(model, progress=progress)
    table.save(out / "lookup.parquet")
    top = table.query(max_flops=max_flops, top_k=5)
    front = table.pareto("flops")
    timings["lookup_s"] = time.perf_counter() - start
    everything = list(space.enumerate())
    tau = kendall_tau(evaluator.true_accuracy(everything), model.predict(everything))
    figure = _figure(out / "demo.png", evaluator.true_accuracy(everything),
                     model.predict(everything), table, max_flops, top)
    summary = {"labelled": len(archs), "noise_std": args.noise_std, "kendall_tau_space": tau,
               **{k: round(v, 2) for k, v in timings.items()}, "files": str(out),
               "figure": figure}
    if args.json:
        print(json.dumps({**summary, "top": json.loads(top.to_json(orient="records")),
                          "pareto_rows": len(front)}))
        return 0
    print(f"1. dataset: {len(archs)} NAS-Bench-201 architectures, table accuracy + noise "
          f"std {args.noise_std} -> {data} ({timings['dataset_s']:.1f} s)")
    print(f"2. space GCN fitted -> {out / 'space_gcn.safetensors'} ({timings['fit_s']:.1f} s); "
          f"Kendall tau vs the noise-free table over all {len(everything):,} "
          f"architectures: {tau:.3f}")
    print(f"3. lookup table of {len(table):,} rows -> {out / 'lookup.parquet'} "
          f"({timings['lookup_s']:.1f} s)")
    if outside:
        print(f"   note: predicted values rank architectures; "
              f"{int(sum(~table.frame['accuracy'].between(y.min(), y.max())))} of them lie "
              f"outside the labels' range [{y.min():.2f}, {y.max():.2f}] (extrapolation: "
              f"'archgraph predictor fit --param clip=true' clips them)")
    show_frame(top, False, f"\ntop 5 under {human(max_flops)} FLOPs:", table.layers)
    show_frame(front, False, f"\nPareto front by FLOPs ({len(front)} rows):", table.layers)
    print(f"\nfigure: {figure}" if figure else "\n(no figure: pip install matplotlib)")
    return 0


def _figure(path, truth, pred, table, max_flops, picks) -> str | None:
    """Predicted vs true (tau in the title) and the Pareto front with the budget and the
    picks, side by side; ``None`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from archgraph import plot

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    plot.predicted_vs_true(truth, pred, ax=left, label="space GCN, all architectures")
    plot.pareto_front(table, "flops", budget=max_flops, picks=picks, ax=right)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)

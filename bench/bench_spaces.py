"""Search spaces and cost models: graph building and vectorized costs, each against a baseline.

1. PyG graphs of all 15,625 NAS-Bench-201 cells with ``space.to_graph`` (validation + the
   edge-op -> node-op conversion + ``make_arch_graph``), against ``make_arch_graph`` alone from
   cached ``(ops, edges)`` (the conversion removed) and against collating all graphs with one
   ``Batch.from_data_list``.
2. FLOPs and params of every architecture of a 6^9 FairNAS subspace (10,077,696 networks) with
   the vectorized additive model ``Subspace.costs``, against a Python loop of ``space.flops`` /
   ``space.params`` over a 10,000-architecture sample, extrapolated per architecture.

    python bench/bench_spaces.py            # full run
    python bench/bench_spaces.py --quick    # smoke run (1,000 cells, 6^5 subspace, 500 archs)

Prints a markdown table and saves ``bench/results/bench_spaces.png``.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from torch_geometric.data import Batch
from tqdm import tqdm

from archgraph.spaces import get_search_space
from archgraph.spaces.arch_graph import make_arch_graph


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median wall time (s) of ``repeats`` calls of ``fn`` and its last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def bench_graphs(num_cells: int, repeats: int, progress: bool) -> list[tuple]:
    space = get_search_space("nasbench201")
    archs = list(space.enumerate())[:num_cells]
    t_graph, graphs = timed(lambda: [space.to_graph(a) for a in tqdm(
        archs, desc="to_graph", disable=not progress, leave=False)], repeats)
    cached = [(g.x.argmax(1).tolist(), g.edge_index.t().tolist()) for g in graphs]
    t_make, _ = timed(lambda: [make_arch_graph(o, e, space.num_ops) for o, e in cached], repeats)
    t_batch, batch = timed(lambda: Batch.from_data_list(graphs), repeats)
    assert batch.num_graphs == len(archs)
    n = len(archs)
    return [(f"NB201: to_graph, {n:,} cells one at a time", t_graph, 1e6 * t_graph / n, "1.0x"),
            ("NB201: make_arch_graph from cached (ops, edges)", t_make, 1e6 * t_make / n,
             f"{t_graph / t_make:.2f}x faster"),
            (f"NB201: one Batch.from_data_list of the {n:,} graphs", t_batch, 1e6 * t_batch / n,
             f"{t_graph / t_batch:.2f}x faster")]


def bench_costs(free_layers: int, num_loop: int, repeats: int, progress: bool) -> list[tuple]:
    space = get_search_space("fairnas")
    sub = space.subspace(range(free_layers), space.default_arch())
    n = len(sub)
    t_vec, (flops, params) = timed(lambda: (sub.costs("flops"), sub.costs("params")), repeats)
    sample = sub.sample(num_loop, rng=0)

    def loop():
        return [(space.flops(a), space.params(a)) for a in tqdm(
            sample, desc="per-arch costs", disable=not progress, leave=False)]
    t_loop, looped = timed(loop, 1)
    idx = sub.indices(sample)  # the vectorized model gives the same numbers
    np.testing.assert_array_equal(flops[idx], [f for f, _ in looped])
    np.testing.assert_array_equal(params[idx], [p for _, p in looped])
    t_extrap = t_loop / num_loop * n
    return [(f"FairNAS 6^{free_layers}: vectorized costs, all {n:,} archs", t_vec, 1e6 * t_vec / n,
             f"{t_extrap / t_vec:,.0f}x faster"),
            (f"FairNAS: Python loop, {num_loop:,} archs (extrapolated to {n:,}: "
             f"{t_extrap:,.0f} s)", t_loop, 1e6 * t_loop / num_loop, "1.0x")]


def plot(rows: list[tuple], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 3.5))
    labels = ["NB201 to_graph", "NB201 make_arch_graph (cached)", "NB201 Batch.from_data_list",
              "FairNAS costs, vectorized", "FairNAS costs, Python loop"]
    ax.barh(labels, [r[2] for r in rows], color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel("microseconds per architecture (log)")
    ax.invert_yaxis()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run on small sizes")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats (median reported)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = p.parse_args(argv)
    progress = not args.no_progress
    cells, free, loop = (1000, 5, 500) if args.quick else (15_625, 9, 10_000)
    rows = bench_graphs(cells, args.repeats, progress) + bench_costs(free, loop, args.repeats,
                                                                     progress)
    print("| task | time (s, median) | us / arch | vs baseline |")
    print("|---|---:|---:|---:|")
    for name, t, per, ratio in rows:
        print(f"| {name} | {t:.4g} | {per:.3g} | {ratio} |")
    out = Path(__file__).resolve().parent / "results" / "bench_spaces.png"
    plot(rows, out)
    print(f"\nplot: {out}")


if __name__ == "__main__":
    main()

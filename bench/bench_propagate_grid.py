"""Cross-validated propagation of Correct & Smooth: one propagation per (fold, amount) column
(``propagate`` on ``[N, folds x amounts]``, the baseline) against the power-sequence form
(``propagate_grid`` on ``[N, folds]``, every amount from the same powers), on FairNAS subspaces
of the first L layers (6^L nodes), with ``CorrectSmoothPredictor``'s default sizes: 2,000
labelled nodes, 5 folds (each column anchors the other 4/5 of them), 5 amounts, 50 steps.

Both stages are timed: *correct* (start zero away from the anchors, every node's result
kept) and *smooth* (start nonzero everywhere, only the labelled nodes' results kept). Cases
alternate within each repeat (baseline, new, baseline, new, ...) so load drifts hit both;
the two forms must agree to float32 rounding (asserted).

    OMP_NUM_THREADS=1 python bench/bench_propagate_grid.py    # 6^6, 6^7 -> propagate_grid_6_7.json
    OMP_NUM_THREADS=1 python bench/bench_propagate_grid.py --sizes 8 --repeats 1
    OMP_NUM_THREADS=1 python bench/bench_propagate_grid.py --quick   # smoke run, 6^5
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.predictors.correct_smooth import propagate, propagate_grid
from archgraph.spaces import get_search_space

RESULTS = Path(__file__).resolve().parent / "results"
ALPHAS = (0.0, 0.5, 0.8, 0.9, 0.95)


def case(layers: int, labelled: int, folds: int, steps: int, seed: int = 0):
    root = get_search_space("fairnas")
    space = root.subspace(range(layers), root.default_arch())
    n = len(space)
    rng = np.random.default_rng(seed)
    nodes = rng.choice(n, labelled, replace=False)
    fold_of = rng.integers(folds, size=labelled)
    anchors = torch.as_tensor(np.concatenate(
        [nodes[fold_of != k] * folds + k for k in range(folds)]))
    correct = torch.zeros(n * folds)  # residuals on the anchors, zero elsewhere
    correct[anchors] = torch.as_tensor(rng.normal(size=len(anchors)), dtype=torch.float32)
    correct = correct.view(n, folds)
    smooth = torch.as_tensor(rng.normal(size=(n, folds)), dtype=torch.float32)
    return dict(space=space, adj=KroneckerAdjacency.from_space(space), anchors=anchors,
                nodes=torch.as_tensor(nodes), correct=correct, smooth=smooth, steps=steps)


def baseline(c: dict, start: torch.Tensor, rows) -> torch.Tensor:
    """One column per (fold, amount): the fold's start repeated, its anchors per copy."""
    j = len(ALPHAS)
    f = start.shape[1]
    wide = start.repeat_interleave(j, dim=1)  # [N, folds x amounts], fold slowest
    node, col = c["anchors"] // f, c["anchors"] % f
    anchors = torch.cat([node * f * j + col * j + a for a in range(j)])
    alpha = torch.tensor(ALPHAS * f, dtype=torch.float32)
    out = propagate(c["adj"], wide, alpha, anchors, c["steps"]).view(-1, f, j)
    return out if rows is None else out[rows]


def grid(c: dict, start: torch.Tensor, rows) -> torch.Tensor:
    return propagate_grid(c["adj"], start, torch.tensor(ALPHAS), c["anchors"], c["steps"],
                          rows=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 7])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="smoke run: 6^5, 10 steps, once")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeats, args.steps = [5], 1, 10
    rows_out = []
    for layers in args.sizes:
        c = case(layers, 2000, 5, args.steps)
        for stage in ("correct", "smooth"):
            start = c[stage]
            rows = None if stage == "correct" else c["nodes"]
            times = {"baseline": [], "grid": []}
            for _ in range(args.repeats):
                outs = {}
                for name, fn in (("baseline", baseline), ("grid", grid)):
                    t = time.perf_counter()
                    outs[name] = fn(c, start, rows)
                    times[name].append(time.perf_counter() - t)
                diff = float((outs["baseline"] - outs["grid"]).abs().max())
                scale = float(start.abs().max())
                # float32, 50-term sums in another order: agreement to ~1e-4 of the scale
                assert diff <= 1e-4 * scale * args.steps, (diff, scale)
            row = dict(layers=layers, nodes=len(c["space"]), stage=stage, steps=args.steps,
                       baseline_s=float(np.median(times["baseline"])),
                       grid_s=float(np.median(times["grid"])), max_abs_diff=diff,
                       repeats=args.repeats)
            row["speedup"] = row["baseline_s"] / row["grid_s"]
            rows_out.append(row)
            print(f"6^{layers} {stage:7s} baseline {row['baseline_s']:7.2f} s  grid "
                  f"{row['grid_s']:7.2f} s  {row['speedup']:.1f}x  max diff {diff:.1e}",
                  flush=True)
    RESULTS.mkdir(exist_ok=True)
    tag = "quick" if args.quick else "_".join(map(str, args.sizes))
    out = RESULTS / f"propagate_grid_{tag}.json"
    out.write_text(json.dumps(rows_out, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

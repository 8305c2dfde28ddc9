"""Whole-space lookup tables from per-architecture predictors: the streamed path
(``LookupTable.build`` -> ``predict_space``, inputs built from the choice matrix in chunks) against
the per-architecture path (``list(sub.enumerate())`` -> ``predict`` -> ``from_predictions``) on
FairNAS subspaces of the first L layers (6^L architectures), plus the space GCN's table.
The streamed path tabulates the node states of the first GCN layers once per receptive field
(``ReceptiveFieldTables``); ``streamed-dense`` is the same path with the tables switched off
(every node of every architecture through every layer), at the smallest size only.

Every case runs in a fresh process (so its peak resident memory is its own); the neural
predictor is fitted once (200 random architectures, FLOPs-based targets: prediction time does
not depend on what was learnt) and its weights are passed to every case, so all cases predict
with the same network. The per-architecture path is the baseline at the smallest size; both
paths must give the same table.

    python bench/bench_predict_space.py                 # 6^7, 6^8, 6^9 -> predict_space_7_8_9.json
    python bench/bench_predict_space.py --sizes 7       # 6^7 only
    python bench/bench_predict_space.py --quick         # 6^5, smoke run
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"


def _fitted_neural(epochs: int):
    from archgraph.predictors import NeuralPredictor
    from archgraph.spaces import get_search_space

    space = get_search_space("fairnas")
    archs = space.sample(200, rng=0)
    y = 70 + 10 * np.array([space.flops(a) for a in archs]) / 6e8
    y = y + np.random.default_rng(0).normal(0, 0.5, len(y))
    return NeuralPredictor(space, epochs=epochs, random_state=0).fit(archs, y)


def _case(kind: str, layers: int, state: dict, threads: int | None, queue) -> None:
    """One measurement in its own process: wall time and peak RSS of building the table."""
    if threads:
        torch.set_num_threads(threads)
    from archgraph.lookup import LookupTable
    from archgraph.predictors import SpaceGCNPredictor
    from archgraph.spaces import get_search_space

    root = get_search_space("fairnas")
    sub = root.subspace(range(layers), root.default_arch())
    if kind == "space_gcn":
        archs = sub.sample(min(2000, len(sub) // 4), rng=0)
        y = 70 + 10 * sub.cost("flops", archs) / 6e8
        model = SpaceGCNPredictor(sub, epochs=100, random_state=0)
        start = time.perf_counter()
        model.fit(archs, y)
        table = LookupTable.build(model)
    else:
        model = _fitted_neural(epochs=1)
        model.net_.load_state_dict(state)
        start = time.perf_counter()
        if kind == "per-arch":
            archs = list(sub.enumerate())
            table = LookupTable.from_predictions(sub, None, model.predict(archs))
        elif kind == "streamed-dense":
            model._receptive_field_tables = lambda space: None  # tables off
            table = LookupTable.build(model, sub)
        else:
            table = LookupTable.build(model, sub)
    seconds = time.perf_counter() - start
    acc = table.frame["accuracy"].to_numpy()
    queue.put(dict(kind=kind, layers=layers, rows=len(table), seconds=seconds,
                   archs_per_s=len(table) / seconds,
                   peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20,
                   checksum=float(acc[:: max(1, len(acc) // 1000)].sum()),
                   head=acc[:1000].tolist()))


def run(kind: str, layers: int, state: dict, threads: int | None = None) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_case, args=(kind, layers, state, threads, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[7, 8, 9],
                        help="subspace sizes as numbers of free layers L (6^L rows)")
    parser.add_argument("--no-space-gcn", action="store_true", help="skip the space GCN rows")
    parser.add_argument("--quick", action="store_true", help="6^5 only, smoke run")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each path at the smallest size, interleaved (medians)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per case (default: torch's own, one per core); 1 "
                             "is robust to other jobs on the machine")
    args = parser.parse_args()
    sizes = [5] if args.quick else args.sizes
    state = {k: v.clone() for k, v in _fitted_neural(epochs=50).net_.state_dict().items()}
    rows = []
    for i, layers in enumerate(sizes):
        # the per-architecture baseline at the smallest size only (6^9 of it needs ~100 GiB);
        # there the three paths run in turn, `repeats` times, so load from other jobs
        # falls on all of them alike
        first = i == 0 and layers <= 8
        kinds = ["per-arch", "streamed-dense", "streamed"] if first else ["streamed"]
        for repeat in range(args.repeats if first else 1):
            for kind in kinds:
                row = run(kind, layers, state, args.threads)
                row["repeat"] = repeat
                print(f"6^{layers} {kind:>14}: {row['rows']:,} rows in {row['seconds']:.1f} s = "
                      f"{row['archs_per_s']:,.0f} archs/s, peak RSS {row['peak_rss_gb']:.2f} GiB",
                      flush=True)
                rows.append(row)
        if not args.no_space_gcn and layers <= 8:
            rows.append(run("space_gcn", layers, state, args.threads))
            print(f"6^{layers} space_gcn: {rows[-1]['seconds']:.1f} s", flush=True)
    at_first = [r for r in rows if r["layers"] == sizes[0] and r["kind"] != "space_gcn"]
    median = {k: float(np.median([r["seconds"] for r in at_first if r["kind"] == k]))
              for k in ("per-arch", "streamed-dense", "streamed")
              if any(r["kind"] == k for r in at_first)}
    if "per-arch" in median:
        base = next(r for r in at_first if r["kind"] == "per-arch")
        for r in at_first:
            # same network, same inputs: the tables agree (float32 network; chunking changes
            # only the batch composition, and the receptive-field tables the order of the
            # sums over a node's neighbours)
            assert np.allclose(base["head"], r["head"], rtol=1e-6, atol=1e-5), r["kind"]
        for kind in ("streamed-dense", "streamed"):
            print(f"speed-up of the {kind} path at 6^{sizes[0]} (medians of {args.repeats}): "
                  f"{median['per-arch'] / median[kind]:.2f}x")
    for r in rows:
        del r["head"]
    RESULTS.mkdir(exist_ok=True)
    name = "predict_space_quick" if args.quick else "predict_space_" + "_".join(map(str, sizes))
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(dict(threads=args.threads or torch.get_num_threads(),
                                   median_seconds=median,
                                   rows=rows), indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

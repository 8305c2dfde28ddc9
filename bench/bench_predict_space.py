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

    python bench/bench_predict_space.py                 # 6^7 and 6^8 -> predict_space_7_8.json
    python bench/bench_predict_space.py --sizes 9       # 6^9, streamed only
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


def _case(kind: str, layers: int, state: dict, queue) -> None:
    """One measurement in its own process: wall time and peak RSS of building the table."""
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


def run(kind: str, layers: int, state: dict) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_case, args=(kind, layers, state, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[7, 8],
                        help="subspace sizes as numbers of free layers L (6^L rows)")
    parser.add_argument("--no-space-gcn", action="store_true", help="skip the space GCN rows")
    parser.add_argument("--quick", action="store_true", help="6^5 only, smoke run")
    args = parser.parse_args()
    sizes = [5] if args.quick else args.sizes
    state = {k: v.clone() for k, v in _fitted_neural(epochs=50).net_.state_dict().items()}
    rows = []
    for i, layers in enumerate(sizes):
        # the per-architecture baseline at the smallest size only (6^9 of it needs ~100 GiB)
        kinds = (["per-arch", "streamed-dense"] if i == 0 and layers <= 8 else []) + ["streamed"]
        kinds += [] if args.no_space_gcn or layers > 8 else ["space_gcn"]
        for kind in kinds:
            row = run(kind, layers, state)
            print(f"6^{layers} {kind:>9}: {row['rows']:,} rows in {row['seconds']:.1f} s = "
                  f"{row['archs_per_s']:,.0f} archs/s, peak RSS {row['peak_rss_gb']:.2f} GiB",
                  flush=True)
            rows.append(row)
    first = {r["kind"]: r for r in rows if r["layers"] == sizes[0]}
    if "per-arch" in first:
        base, streamed = first["per-arch"], first["streamed"]
        # same network, same inputs: the tables agree (float32 network; chunking changes
        # only the batch composition, which the per-architecture matmuls do not mix)
        assert np.allclose(base["head"], streamed["head"], rtol=1e-6, atol=1e-5)
        assert np.allclose(base["head"], first["streamed-dense"]["head"], rtol=1e-6, atol=1e-5)
        for kind in ("streamed-dense", "streamed"):
            print(f"speed-up of the {kind} path at 6^{sizes[0]}: "
                  f"{base['seconds'] / first[kind]['seconds']:.2f}x, peak RSS "
                  f"{first[kind]['peak_rss_gb']:.2f} vs {base['peak_rss_gb']:.2f} GiB")
    for r in rows:
        del r["head"]
    RESULTS.mkdir(exist_ok=True)
    name = "predict_space_quick" if args.quick else "predict_space_" + "_".join(map(str, sizes))
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(dict(threads=torch.get_num_threads(), rows=rows), indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

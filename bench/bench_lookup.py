"""Lookup-table queries at 10^6 and 10^7 rows: indexed top-k queries against a bare numpy scan,
and the Pareto / soft-Pareto fronts against the full-sort scans they replace.

A synthetic FairNAS-like table: the first ``n`` architectures of the FairNAS subspace of the
first ``L`` layers (6^L >= n; int8 choice columns, the space's FLOPs and params), with a
predicted accuracy that rises with FLOPs, plus per-layer effects and noise, rounded to float32
(as a predictor's output is, so accuracies tie). For each size:

1. build: the table, its accuracy order (the one-off sort), and a Parquet round trip (the
   order is stored, and checked on load instead of sorted again);
2. query: ``top_k=10`` under the median FLOPs budget (and two harder mixes), median of
   ``--repeats`` runs, against a bare numpy scan of the same columns in the same run
   (``flops <= budget``, ``argpartition`` of the top 10, sort of those 10); both must return
   the same accuracies. A query also makes its result (a DataFrame with ``arch`` strings),
   which the scan does not: that part is timed alone too;
3. fronts: ``pareto("flops")`` and ``soft_pareto(J=5)`` (median of 3), against the previous
   full-sort scans (``lexsort`` of every row, then the running maximum / the windowed scan),
   timed once; the masks must be equal.

    python bench/bench_lookup.py            # 10^6 and 10^7 rows  -> bench/results/lookup.json
    python bench/bench_lookup.py --quick    # 10^5 rows, smoke run -> lookup_quick.json
"""
from __future__ import annotations

import argparse
import json
import resource
import tempfile
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd
from bench_spaces import timed  # bench/ is the script's folder, first on sys.path
from tqdm import tqdm

from archgraph.lookup import LookupTable
from archgraph.spaces import get_search_space

RESULTS = Path(__file__).resolve().parent / "results"


def synthetic_table(n: int, seed: int) -> LookupTable:
    root = get_search_space("fairnas")
    layers = next(l for l in range(1, root.num_layers + 1) if 6 ** l >= n)
    space = root.subspace(range(layers), root.default_arch())
    choices = space.all_choices(dtype=np.int8)[:n]  # [n, L], index order
    flops, params = space.costs("flops", choices), space.costs("params", choices)
    rng = np.random.default_rng(seed)
    effects = rng.normal(0, 0.5, (layers, 6))
    accuracy = 70 + 8 * (flops - flops.min()) / np.ptp(flops) + rng.normal(0, 0.5, n)
    for l in range(layers):
        accuracy += effects[l][choices[:, l]]
    frame = pd.DataFrame({name: np.ascontiguousarray(choices[:, l])
                          for l, name in enumerate(space.layer_names)})
    frame["accuracy"] = accuracy.astype(np.float32).astype(np.float64)
    frame["flops"], frame["params"] = flops, params
    return LookupTable(frame, space.layer_names, space=space)


def numpy_scan(columns, budgets, accuracy, k: int) -> np.ndarray:
    """The bare scan: every row checked, the k best found by ``argpartition``."""
    mask = columns[0] <= budgets[0]
    for values, budget in zip(columns[1:], budgets[1:]):
        mask &= values <= budget
    rows = np.flatnonzero(mask)
    if len(rows) > k:
        rows = rows[np.argpartition(-accuracy[rows], k)[:k]]
    return rows[np.argsort(-accuracy[rows], kind="stable")]


def sort_pareto_mask(cost, accuracy) -> np.ndarray:
    """The previous strict front: lexsort of every row, then the running maximum."""
    order = np.lexsort((-accuracy, cost))
    acc = accuracy[order]
    mask = np.zeros(len(acc), dtype=bool)
    mask[order] = acc > np.concatenate([[-np.inf], np.maximum.accumulate(acc)[:-1]])
    return mask


def sort_soft_pareto_mask(cost, accuracy, J: int, chunk: int = 65536) -> np.ndarray:
    """The previous soft front: lexsort of every row, then the windowed scan by chunks."""
    order = np.lexsort((-accuracy, cost))
    acc = accuracy[order]
    kept, window, threshold = np.zeros(len(acc), dtype=bool), deque(maxlen=J), -np.inf
    for start in range(0, len(acc), chunk):
        block = acc[start:start + chunk]
        for i in np.flatnonzero(block > threshold):
            if block[i] > threshold:
                kept[start + i] = True
                window.append(block[i])
                threshold = min(window)
    mask = np.zeros(len(acc), dtype=bool)
    mask[order] = kept
    return mask


def bench_size(n: int, repeats: int, seed: int, baselines: bool, progress: bool) -> dict:
    bar = tqdm(total=6, desc=f"{n:,} rows", disable=not progress, leave=False)
    t_build, table = timed(lambda: synthetic_table(n, seed), 1)
    t_order, _ = timed(lambda: table.accuracy_order, 1)
    bar.update()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lut.parquet"
        t_save, _ = timed(lambda: table.save(path), 1)
        t_load, loaded = timed(lambda: LookupTable.load(path, space=table.space), 1)
        assert loaded._order is not None and len(loaded) == n
        del loaded
    bar.update()
    frame = table.frame
    flops, params = frame["flops"].to_numpy(), frame["params"].to_numpy()
    accuracy = frame["accuracy"].to_numpy()
    row = dict(rows=n, build_s=t_build, order_s=t_order, save_s=t_save, load_s=t_load,
               queries=[])
    mixes = [("top-10, FLOPs <= median", dict(max_flops=float(np.median(flops))), 10),
             ("top-10, FLOPs and params <= median",
              dict(max_flops=float(np.median(flops)), max_params=float(np.median(params))), 10),
             ("top-10, FLOPs <= 1st percentile",
              dict(max_flops=float(np.quantile(flops, 0.01))), 10)]
    for name, budgets, k in mixes:
        columns = [frame[{"max_flops": "flops", "max_params": "params"}[a]].to_numpy()
                   for a in budgets]
        t_query, got = timed(lambda: table.query(**budgets, top_k=k), repeats)
        t_scan, want = timed(lambda: numpy_scan(columns, list(budgets.values()), accuracy, k),
                             repeats)
        np.testing.assert_array_equal(got["accuracy"].to_numpy(), accuracy[want])
        rows = got.index.to_numpy()  # the part of a query spent making its result frame
        t_result, _ = timed(lambda: table._result(rows), repeats)
        row["queries"].append(dict(query=name, query_ms=1e3 * t_query, scan_ms=1e3 * t_scan,
                                   result_ms=1e3 * t_result, ratio=t_query / t_scan))
        bar.update()
    for J, key in [(None, "pareto"), (5, "soft_pareto")]:
        front = (lambda: table.pareto("flops")) if J is None else (
            lambda: table.soft_pareto(J=J, cost="flops"))
        t_front, out = timed(front, 3)
        row[f"{key}_s"], row[f"{key}_rows"] = t_front, len(out)
        if baselines:
            full = (lambda: sort_pareto_mask(flops, accuracy)) if J is None else (
                lambda: sort_soft_pareto_mask(flops, accuracy, J))
            t_full, mask = timed(full, 1)
            assert sorted(np.flatnonzero(mask)) == sorted(out.index), key
            row[f"{key}_sort_s"] = t_full
        bar.update()
    bar.close()
    row["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    return row


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 10^5 rows")
    p.add_argument("--rows", type=int, nargs="+", default=None, help="table sizes")
    p.add_argument("--repeats", type=int, default=30, help="timed query repeats (median)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-baselines", action="store_true", help="skip the full-sort fronts")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = p.parse_args(argv)
    sizes = args.rows or ([10 ** 5] if args.quick else [10 ** 6, 10 ** 7])
    rows = [bench_size(n, args.repeats, args.seed, not args.no_baselines, not args.no_progress)
            for n in sizes]
    tag = "_quick" if args.quick else ""
    if args.rows:
        tag += "_" + "_".join(map(str, args.rows))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"lookup{tag}.json"
    out.write_text(json.dumps(rows, indent=1))
    print(f"\nmedians of {args.repeats} queries; fronts: median of 3, full-sort scans once\n")
    print("| rows | build table (s) | accuracy order (s) | save / load Parquet (s) "
          "| peak RSS (GiB) |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['rows']:,} | {r['build_s']:.2f} | {r['order_s']:.2f} | "
              f"{r['save_s']:.2f} / {r['load_s']:.2f} | {r['peak_rss_gb']:.2f} |")
    print("\n| rows | query | indexed (ms) | of which result frame (ms) | numpy scan (ms) "
          "| indexed / scan |")
    print("|---:|---|---:|---:|---:|---:|")
    for r in rows:
        for q in r["queries"]:
            print(f"| {r['rows']:,} | {q['query']} | {q['query_ms']:.3f} | "
                  f"{q['result_ms']:.3f} | {q['scan_ms']:.3f} | {q['ratio']:.3g} |")
    print("\n| rows | front | rows kept | time (s) | full-sort scan (s) | speed-up |")
    print("|---:|---|---:|---:|---:|---:|")
    for r in rows:
        for key, name in [("pareto", "pareto('flops')"), ("soft_pareto", "soft_pareto(J=5)")]:
            full = r.get(f"{key}_sort_s")
            print(f"| {r['rows']:,} | {name} | {r[f'{key}_rows']:,} | {r[f'{key}_s']:.3f} | "
                  + (f"{full:.2f} | {full / r[f'{key}_s']:.1f}x |" if full else "- | - |"))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()

"""Build the ground-truth mini-benchmark on digits: ``data/digits_groundtruth.csv``.

The 5-layer x 3-option chain space ``digits5`` (:mod:`archgraph.spaces.digits`, 243
architectures) is small enough to train every architecture from scratch on scikit-learn's 8x8
digits (``supernet.data.load_digits``: 1,077 train / 360 validation images). For every
architecture the table holds:

- ``standalone_seed{0,1}``: validation accuracy (%) after training it alone for 4 epochs
  (``StandaloneEvaluator``, seeds 0 and 1: initialization and data order);
- ``supernet_{uniform,fair}_seed{0,1}_{recal,norecal}``: the accuracy (%) that a weight-sharing
  supernet assigns to it (``SupernetEvaluator``), for supernets trained 60 epochs with uniform
  (SPOS) or strict-fair (FairNAS) sampling and seeds 0/1, evaluated with BatchNorm
  recalibration (8 batches of 64 training images) or with the supernet's own statistics;
- ``flops``/``params`` of the space's cost model and the per-layer choices ``l0..l4``.

Settings and timings go to ``data/digits_groundtruth.json``. Intermediate results (resumable
tables and supernet checkpoints) live in ``--work``; rerunning after an interruption continues.

Run (about 15-20 CPU-minutes on one thread)::

    OMP_NUM_THREADS=1 python bench/build_digits_groundtruth.py
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from archgraph.datasets.predictor_dataset import build_predictor_dataset
from archgraph.spaces import get_search_space
from archgraph.utils.io import atomic_write
from supernet import build_supernet
from supernet.data import load_digits
from supernet.evaluator import SupernetEvaluator
from supernet.samplers import StrictFairSampler, UniformSampler
from supernet.standalone import StandaloneEvaluator
from supernet.train import train

ROOT = Path(__file__).resolve().parents[1]
SAMPLERS = {"uniform": UniformSampler, "fair": StrictFairSampler}
SEEDS = (0, 1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 9 archs, 1 epoch")
    p.add_argument("--out", default=str(ROOT / "data" / "digits_groundtruth.csv"))
    p.add_argument("--work", default=str(ROOT / "bench" / "results" / "digits_work"))
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    space = get_search_space("digits5")
    tr, va = load_digits("train"), load_digits("val")
    n = 9 if args.quick else len(space)
    sa_epochs, sn_epochs = (1, 1) if args.quick else (4, 60)
    work = Path(args.work) / ("quick" if args.quick else "full")
    out = Path(args.out) if not args.quick else work / "digits_groundtruth.csv"
    meta = dict(space=space.name, num_archs=n, standalone_epochs=sa_epochs,
                supernet_epochs=sn_epochs, recal_batches=8, eval_batch_size=64,
                data="sklearn digits: 1,077 train / 360 val (supernet.data.load_digits)",
                torch_threads=1, seconds={})

    archs = space.sample(n, 0)
    table = pd.DataFrame({"arch": [space.to_str(a) for a in archs]})
    for name, col in zip(space.layer_names, space.encode(archs).T):
        table[name] = col
    table["flops"] = space.cost("flops", archs)
    table["params"] = space.cost("params", archs)

    for sampler_name, sampler_cls in SAMPLERS.items():
        for seed in SEEDS:
            t0 = time.perf_counter()
            net = build_supernet(space, random_state=seed)
            hist = train(net, tr, sn_epochs, sampler=sampler_cls(space, seed),
                         checkpoint=work / f"supernet_{sampler_name}_seed{seed}.pt",
                         random_state=seed, progress=False)
            key = f"supernet_{sampler_name}_seed{seed}"
            meta["seconds"][f"{key}_train"] = sum(h["seconds"] for h in hist)
            meta[f"{key}_final_loss"] = hist[-1]["loss"]
            for recal in (8, None):
                t1 = time.perf_counter()
                ev = SupernetEvaluator(net, tr, va, recal_batches=recal, batch_size=64)
                col = f"{key}_{'recal' if recal else 'norecal'}"
                table[col] = ev.evaluate(archs)
                meta["seconds"][f"{col}_eval"] = time.perf_counter() - t1
            print(f"{key}: {time.perf_counter() - t0:.0f} s", flush=True)

    for seed in SEEDS:
        t0 = time.perf_counter()
        ev = StandaloneEvaluator(space, tr, va, epochs=sa_epochs, random_state=seed)
        part = build_predictor_dataset(space, ev, n, work / f"standalone_seed{seed}.csv",
                                       random_state=0, chunk_size=27, progress=False)
        table[f"standalone_seed{seed}"] = part.set_index("arch").loc[table["arch"],
                                                                      "accuracy"].to_numpy()
        meta["seconds"][f"standalone_seed{seed}"] = time.perf_counter() - t0
        print(f"standalone seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)

    table = table.iloc[np.argsort(space.indices(space.decode(table[list(space.layer_names)]
                                                              .to_numpy())))]
    with atomic_write(out, "w") as fh:
        table.to_csv(fh, index=False, float_format="%.4f")
    with atomic_write(out.with_suffix(".json"), "w") as fh:
        json.dump(meta, fh, indent=2)
    print(f"wrote {out} ({len(table)} rows)")


if __name__ == "__main__":
    main()

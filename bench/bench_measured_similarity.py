"""Measured vs assigned similarity in the space GCN, on the digits mini-benchmark.

Chen et al. (AAAI 2021) weight the edges of the search-space graph by how alike two options of
a layer behave in the trained supernet ("measured") instead of uniformly ("assigned"). Here:

1. one uniform (SPOS) supernet of ``digits5`` (243 architectures) is trained on the digits
   (``supernet.train.train``, checkpoint under ``bench/results/``; rerunning reuses it);
2. its estimate of every architecture (``SupernetEvaluator``, BN recalibration on 8 batches of
   64 training images) are the noisy labels;
3. per seed (10), M = 60 architectures are labelled with those estimates and
   :class:`~archgraph.predictors.SpaceGCNPredictor` is fitted with the assigned
   (uniform) similarity and with the measured ones of :mod:`supernet.similarity` (cosine and
   RBF of the options' pooled outputs on 256 training images, along the default path);
4. score: Kendall tau against the stand-alone accuracy (mean of the two seeds of
   ``data/digits_groundtruth.csv``) over the 183 unlabelled architectures. Reference: the
   supernet's own estimates of the same architectures ("supernet").

    OMP_NUM_THREADS=1 python bench/bench_measured_similarity.py            # 30 epochs, 10 seeds
    OMP_NUM_THREADS=1 python bench/bench_measured_similarity.py --quick    # 2 epochs, 1 seed
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from archgraph.metrics import kendall_tau
from archgraph.predictors import SpaceGCNPredictor
from archgraph.spaces import get_search_space
from supernet import SupernetEvaluator, UniformSampler, build_supernet, load_digits, train
from supernet.similarity import measured_space_similarity

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
#: the GCN of bench_space_gcn_denoise.py (tuned there on NAS-Bench-201, not on digits)
GCN_PARAMS = dict(hidden_channels=32, num_layers=3, epochs=300, lr=0.01, weight_decay=2e-2,
                  dropout=0.5, features="gray+onehot")
METHODS = ("supernet", "assigned", "measured cosine", "measured rbf")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 2 epochs, 1 seed")
    p.add_argument("--m", type=int, default=60, help="labelled architectures")
    p.add_argument("--seeds", type=int, default=10)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    tag = "_quick" if args.quick else ""
    epochs, seeds = (2, 1) if args.quick else (30, args.seeds)

    space = get_search_space("digits5")
    gt = pd.read_csv(ROOT / "data" / "digits_groundtruth.csv", dtype={"arch": str})
    truth = np.empty(len(space))
    truth[space.indices([space.from_str(s) for s in gt["arch"]])] = gt[
        ["standalone_seed0", "standalone_seed1"]].mean(axis=1).to_numpy()

    tr, va = load_digits("train"), load_digits("val")
    net = build_supernet(space, random_state=0)
    RESULTS.mkdir(exist_ok=True)
    hist = train(net, tr, epochs, sampler=UniformSampler(space, 0), random_state=0,
                 checkpoint=RESULTS / f"measured_similarity_supernet{tag}.pt", progress=False)
    archs = list(space.enumerate())
    est = SupernetEvaluator(net, tr, va, recal_batches=8, batch_size=64).evaluate(archs)
    sims = {"assigned": None,
            "measured cosine": measured_space_similarity(net, tr, kind="cosine"),
            "measured rbf": measured_space_similarity(net, tr, kind="rbf")}

    rows = []
    for seed in range(seeds):
        lab = np.random.default_rng(seed).choice(len(space), args.m, replace=False)
        unl = np.setdiff1d(np.arange(len(space)), lab)
        row = dict(seed=seed, supernet=kendall_tau(truth[unl], est[unl]))
        for name, sim in sims.items():
            gcn = SpaceGCNPredictor(space, similarity=sim, random_state=seed, **GCN_PARAMS)
            gcn.fit(space.from_index(lab), est[lab])
            row[name] = kendall_tau(truth[unl], gcn.predictions_[unl])
        rows.append(row)
        print(f"seed {seed}: " + ", ".join(f"{k} {row[k]:.3f}" for k in METHODS), flush=True)

    (RESULTS / f"measured_similarity{tag}.json").write_text(json.dumps(dict(
        epochs=epochs, final_loss=hist[-1]["loss"], m=args.m, gcn=GCN_PARAMS, rows=rows,
        similarity={k: [s.tolist() for s in v] for k, v in sims.items() if v is not None}),
        indent=1))
    print(f"\nSupernet: {epochs} epochs uniform, final loss {hist[-1]['loss']:.3f}; tau(estimate, "
          f"stand-alone) over all 243 = {kendall_tau(truth, est):.3f}.\n")
    print("Measured similarity per layer (off-diagonal entries (0,1), (0,2), (1,2); "
          "0 = identity, 1 = k3_e3, 2 = k5_e6):\n")
    print("| layer | cosine | rbf |")
    print("|---|---|---|")
    for l in range(space.num_layers):
        cells = [" ".join(f"{s[l][i, j]:.2f}" for i, j in ((0, 1), (0, 2), (1, 2)))
                 for s in (sims["measured cosine"], sims["measured rbf"])]
        print(f"| {space.layer_names[l]} | {cells[0]} | {cells[1]} |")
    print(f"\nKendall tau vs stand-alone accuracy over the {len(space) - args.m} unlabelled "
          f"architectures, M = {args.m}, {seeds} seed(s):\n")
    print("| method | median tau | min | max | median paired diff. vs assigned | seeds above "
          "assigned |")
    print("|---|---|---|---|---|---|")
    for k in METHODS:
        v = np.array([r[k] for r in rows])
        d = v - np.array([r["assigned"] for r in rows])  # same labels and GCN seed
        paired = "- | -" if k == "assigned" else f"{np.median(d):+.3f} | {(d > 0).sum()}/{len(d)}"
        print(f"| {k} | {np.median(v):.3f} | {v.min():.3f} | {v.max():.3f} | {paired} |")
    _plot(rows, RESULTS / f"measured_similarity{tag}.png")


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    for s, r in enumerate(rows):
        ax.plot(range(len(METHODS)), [r[k] for k in METHODS], "o-", alpha=0.6,
                label=f"seed {s}")
    ax.set_xticks(range(len(METHODS)), METHODS)
    ax.set(ylabel="Kendall tau (unlabelled)", title="digits5, M labelled by the supernet")
    ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()

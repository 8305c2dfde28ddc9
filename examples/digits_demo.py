"""End-to-end demo on data that ships with the code: ``python examples/digits_demo.py``.

search space -> supernet -> predictor dataset -> GCN surrogates -> lookup table -> query, on
scikit-learn's 8x8 digits and the 243-architecture ``digits5`` chain space, whose stand-alone
ground truth ships in ``data/digits_groundtruth.csv``:

1. train a weight-sharing supernet (uniform single-path sampling) on the digits training split;
2. estimate the validation accuracy of ``--labels`` sampled sub-networks with it (BatchNorm
   recalibrated per sub-network) and write them as a predictor dataset (Parquet);
3. fit a space GCN (Chen et al., AAAI 2021) and a neural predictor (Wen et al., ECCV 2020) to
   those noisy estimates;
4. tabulate the space GCN's prediction for every architecture with its FLOPs and parameters,
   save the lookup table and query it: the most accurate architectures under a FLOPs budget
   and the accuracy/FLOPs Pareto front;
5. score every stage against the stand-alone ground truth (Kendall tau) and plot it.

Everything is written to ``--out`` (default ``demo_out/``); the supernet checkpoint there
makes a rerun resume instead of retraining. About two minutes on a 2-core CPU.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from archgraph.datasets.predictor_dataset import build_predictor_dataset
from archgraph.metrics import kendall_tau, precision_at_k
from archgraph.predictors import NeuralPredictor
from archgraph.predictors.space_gcn import SpaceGCNPredictor
from archgraph.spaces import get_search_space
from archgraph.utils import check_int
from supernet import SupernetEvaluator, UniformSampler, build_supernet, load_digits, train

ROOT = Path(__file__).resolve().parents[1]
GROUND_TRUTH = ROOT / "data" / "digits_groundtruth.csv"


def load_ground_truth(space, path=GROUND_TRUTH) -> pd.Series | None:
    """Mean stand-alone validation accuracy (%) per architecture string, or ``None``."""
    path = Path(path)
    if not path.is_file():
        return None
    table = pd.read_csv(path, dtype={"arch": str})
    cols = [c for c in table.columns if c.startswith("standalone_seed")]
    return table.set_index("arch")[cols].mean(axis=1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python examples/digits_demo.py",
                                description="archgraph end-to-end demo on 8x8 digits")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--epochs", type=int, default=30, help="supernet training epochs")
    p.add_argument("--labels", type=int, default=60,
                   help="sub-networks the supernet evaluates (the predictor dataset)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    epochs = check_int(args.epochs, "epochs", "the demo", low=1)
    labels = check_int(args.labels, "labels", "the demo", low=8, high=243)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = not args.no_progress
    torch.set_num_threads(min(2, torch.get_num_threads()))
    t_start = time.perf_counter()

    space = get_search_space("digits5")
    print(f"[1/5] space {space.name}: {len(space)} architectures, "
          f"{space.num_layers} layers x {space.num_options[0]} options {space.options[0]}")
    train_data, val_data = load_digits("train"), load_digits("val")
    net = build_supernet(space, random_state=args.seed)
    history = train(net, train_data, epochs, sampler=UniformSampler(space, args.seed),
                    checkpoint=out / "supernet.pt", random_state=args.seed, progress=progress)
    print(f"      supernet trained {len(history)} epochs, final loss {history[-1]['loss']:.3f}, "
          f"train acc {100 * history[-1]['train_acc']:.1f}%")

    print(f"[2/5] predictor dataset: {labels} sub-networks evaluated by the supernet")
    evaluator = SupernetEvaluator(net, train_data, val_data, recal_batches=8, batch_size=64,
                                  random_state=args.seed)
    dataset = build_predictor_dataset(space, evaluator, labels, out / "predictor_dataset.parquet",
                                      random_state=args.seed, progress=progress)
    archs = [space.from_str(s) for s in dataset["arch"]]
    y = dataset["accuracy"].to_numpy()

    print("[3/5] fitting the space GCN and the neural predictor to the supernet estimates")
    gcn = SpaceGCNPredictor(space=space, random_state=args.seed).fit(archs, y)
    neural = NeuralPredictor(space=space, epochs=200, random_state=args.seed).fit(archs, y)

    print("[4/5] lookup table of every architecture: predicted accuracy, FLOPs, params")
    table = gcn.lookup_table()
    table.save(out / "lookup_table.parquet")
    budget = float(np.median(table.frame["flops"]))
    best = table.query(max_flops=budget, top_k=5)
    front = table.pareto("flops")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(f"      top 5 under a budget of {budget / 1e6:.3f} M FLOPs (the median):")
        print(best[["arch", "accuracy", "flops", "params"]].to_string(index=False))
        print(f"      Pareto front (accuracy vs FLOPs): {len(front)} architectures")
        print(front[["arch", "accuracy", "flops"]].to_string(index=False))

    print("[5/5] against the stand-alone ground truth")
    truth = load_ground_truth(space)
    if truth is None:
        print(f"      {GROUND_TRUTH} not found: skipped")
    else:
        all_archs = list(space.enumerate())
        keys = [space.to_str(a) for a in all_archs]
        t_all = truth.loc[keys].to_numpy()
        pred_all = gcn.predict(all_archs)
        labelled = space.indices(archs)
        unlabelled = np.setdiff1d(np.arange(len(keys)), labelled)
        pred_nn = neural.predict(all_archs)
        flops = table.frame["flops"].to_numpy()
        print(f"      {'ranking':<30} {'archs':<16} {'Kendall tau vs stand-alone':>26}")
        for name, pred, which in [("supernet estimates", y, "labelled"),
                                  ("space GCN", pred_all[labelled], "labelled"),
                                  ("space GCN", pred_all[unlabelled], "unlabelled"),
                                  ("neural predictor", pred_nn[unlabelled], "unlabelled"),
                                  ("FLOPs alone", flops[unlabelled], "unlabelled")]:
            idx = labelled if which == "labelled" else unlabelled
            tau = kendall_tau(t_all[idx], pred)
            print(f"      {name:<30} {f'{len(idx)} {which}':<16} {tau:>26.3f}")
        in_budget = flops <= budget
        pick = best["arch"].iloc[0]
        print(f"      top pick {pick}: stand-alone accuracy {truth[pick]:.2f}%, best within "
              f"the budget {t_all[in_budget].max():.2f}%; GCN precision@10% "
              f"{precision_at_k(t_all, pred_all, 0.1):.2f}")
        _plot(out / "demo.png", t_all, {"space GCN": pred_all, "neural predictor": pred_nn,
                                        "FLOPs alone": flops}, table, budget, best)
        print(f"      plot: {out / 'demo.png'}")
    print(f"done in {time.perf_counter() - t_start:.0f} s; outputs in {out}/")
    return 0


def _plot(path: Path, truth, predictions: dict, table, budget: float, picks) -> None:
    """The demo's figure from :mod:`archgraph.plot`: the space GCN against the stand-alone
    truth, the table's Pareto front with the budget and the picks, and the improvement curve
    of every ranking."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from archgraph import plot

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    plot.predicted_vs_true(truth, predictions["space GCN"], ax=axes[0], label="space GCN")
    plot.pareto_front(table, "flops", budget=budget, picks=picks, ax=axes[1])
    plot.improvement_curve(truth, predictions, ax=axes[2])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

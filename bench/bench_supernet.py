"""Supernet benchmarks: speed on digits, and supernet estimates against the ground truth.

1. Training throughput (images/s) of a supernet on the 8x8 digits, uniform (SPOS) against
   strict-fair (FairNAS: 3 paths per step) sampling, for the ``digits5`` space and for
   NAS-Bench-Macro shrunk to digits size (width x0.25, 1x8x8 input, stem stride 1).
2. Sub-network evaluation throughput with BatchNorm recalibration (sub-networks/min):
   ``SupernetEvaluator`` (shared weights, path-only recalibration) against the baseline of
   extracting each sub-network (``extract_subnet``), recalibrating and evaluating it separately,
   on the same architectures and the same recalibration batches (their accuracies must agree).
3. Parameter accounting of the FairNAS supernet at its published ImageNet configuration.
4. Ground-truth analysis of ``data/digits_groundtruth.csv`` (``bench/build_digits_groundtruth.py``):
   Kendall tau between supernet estimates and stand-alone accuracy over the whole space and
   within FLOPs bins (Chen et al., AAAI 2021, Fig. 1), self-consistency of two supernets with
   different seeds (Kendall, Pearson, Spearman; Laube & Zell), uniform vs strict-fair, with vs
   without BN recalibration. Saves ``bench/results/supernet_groundtruth.png``.

    OMP_NUM_THREADS=1 python bench/bench_supernet.py            # full run
    OMP_NUM_THREADS=1 python bench/bench_supernet.py --quick    # smoke run
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from archgraph.metrics import kendall_tau, pearson_r, spearman_rho
from archgraph.spaces import get_search_space
from supernet import SupernetConfig, build_supernet
from supernet.bn_recal import recalibrate_bn
from supernet.data import load_digits
from supernet.evaluator import SupernetEvaluator, accuracy
from supernet.samplers import StrictFairSampler, UniformSampler
from supernet.train import train

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SPACES = {"digits5": SupernetConfig(),
          "macro": SupernetConfig(width_mult=0.25, input_resolution=8, in_channels=1,
                                  stem_stride=1)}


def bench_training(quick: bool) -> list[str]:
    tr = load_digits("train")
    epochs, repeats = (1, 1) if quick else (2, 3)
    rows = ["| space | sampler | paths/step | images/s (median) | path-images/s |",
            "|---|---|---|---|---|"]
    for name, cfg in SPACES.items():
        space = get_search_space(name)
        for label, cls in (("uniform (SPOS)", UniformSampler),
                           ("strict-fair (FairNAS)", StrictFairSampler)):
            rates = []
            for r in range(repeats):
                net = build_supernet(space, cfg, random_state=r)
                hist = train(net, tr, epochs, sampler=cls(space, r), progress=False)
                rates.append(len(tr) * epochs / sum(h["seconds"] for h in hist))
            paths = len(cls(space, 0).sample())
            med = statistics.median(rates)
            rows.append(f"| {name} | {label} | {paths} | {med:,.0f} | {med * paths:,.0f} |")
    return rows


def bench_evaluation(quick: bool) -> list[str]:
    tr, va = load_digits("train"), load_digits("val")
    n, recal = (5, 4) if quick else (30, 8)
    rows = ["| space | method | subnets/min (median of 3) | ratio | same accuracies |",
            "|---|---|---|---|---|"]
    for name, cfg in SPACES.items():
        space = get_search_space(name)
        net = build_supernet(space, cfg, random_state=0)
        train(net, tr, 1, sampler=UniformSampler(space, 0), progress=False)
        archs = space.sample(n, 1)
        ev = SupernetEvaluator(net, tr, va, recal_batches=recal, batch_size=64)

        def extract_each():
            out = []
            for a in archs:
                sub = recalibrate_bn(net.extract_subnet(a), ev.recal, recal).eval()
                out.append(accuracy(sub, ev.val_x, ev.val_y, 64))
            return np.array(out)

        times = {"SupernetEvaluator": [], "extract each subnet (baseline)": []}
        for _ in range(3):
            t = time.perf_counter()
            shared = ev.evaluate(archs)
            times["SupernetEvaluator"].append(time.perf_counter() - t)
            t = time.perf_counter()
            base = extract_each()
            times["extract each subnet (baseline)"].append(time.perf_counter() - t)
        same = bool(np.allclose(shared, base))
        ref = statistics.median(times["extract each subnet (baseline)"])
        for method, ts in times.items():
            rate = 60 * n / statistics.median(ts)
            rows.append(f"| {name} | {method} | {rate:,.0f} | "
                        f"{ref / statistics.median(ts):.2f}x | {same} |")
    return rows


def fairnas_params() -> list[str]:
    space = get_search_space("fairnas")
    rows = ["| FairNAS supernet (published ImageNet config) | parameters |", "|---|---|"]
    for classes in (1000, 100):
        net = build_supernet(space, SupernetConfig(num_classes=classes))
        rows.append(f"| {classes:,} classes | {sum(p.numel() for p in net.parameters()):,} |")
    sub = build_supernet(space).extract_subnet(space.default_arch())
    rows.append(f"| all-k3_e6 sub-network, 1,000 classes | "
                f"{sum(p.numel() for p in sub.parameters()):,} |")
    return rows


def binned_tau(truth, est, flops, bins: int) -> float:
    """Mean Kendall tau within ``bins`` FLOPs quantile bins (architectures of similar cost);
    bins where a ranking is constant (tau undefined) are skipped."""
    edges = np.quantile(flops, np.linspace(0, 1, bins + 1))
    idx = np.clip(np.searchsorted(edges, flops, side="right") - 1, 0, bins - 1)
    return float(np.nanmean([kendall_tau(truth[idx == b], est[idx == b]) for b in range(bins)
                          if (idx == b).sum() > 2]))


def analyse_groundtruth(path: Path, bins: int) -> list[str]:
    t = pd.read_csv(path, dtype={"arch": str})
    truth = (t["standalone_seed0"] + t["standalone_seed1"]).to_numpy() / 2
    flops = t["flops"].to_numpy()
    rows = [f"Ground truth: {len(t)} architectures; stand-alone accuracy {truth.min():.1f}.."
            f"{truth.max():.1f} % (mean of 2 seeds). Stand-alone seed 0 vs seed 1: Kendall "
            f"{kendall_tau(t['standalone_seed0'], t['standalone_seed1']):.3f} (noise ceiling). "
            f"FLOPs alone vs stand-alone: Kendall {kendall_tau(truth, flops):.3f}.", "",
            f"| supernet | BN | mean supernet acc % | Kendall vs stand-alone (seed 0 / seed 1) | "
            f"Kendall within {bins} FLOPs bins (s0 / s1) | seed 0 vs seed 1: Kendall / Pearson "
            f"/ Spearman |", "|---|---|---|---|---|---|"]
    for sampler in ("uniform", "fair"):
        for bn in ("recal", "norecal"):
            a = t[f"supernet_{sampler}_seed0_{bn}"].to_numpy()
            b = t[f"supernet_{sampler}_seed1_{bn}"].to_numpy()
            rows.append(
                f"| {'uniform (SPOS)' if sampler == 'uniform' else 'strict-fair (FairNAS)'} | "
                f"{'recalibrated' if bn == 'recal' else 'supernet stats'} | "
                f"{(a.mean() + b.mean()) / 2:.1f} | "
                f"{kendall_tau(truth, a):.3f} / {kendall_tau(truth, b):.3f} | "
                f"{binned_tau(truth, a, flops, bins):.3f} / {binned_tau(truth, b, flops, bins):.3f}"
                f" | {kendall_tau(a, b):.3f} / {pearson_r(a, b):.3f} / {spearman_rho(a, b):.3f} |")
    plot_groundtruth(t, truth, flops)
    return rows


def plot_groundtruth(t: pd.DataFrame, truth, flops) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, sampler in zip(axes[:2], ("uniform", "fair")):
        est = t[f"supernet_{sampler}_seed0_recal"]
        sc = ax.scatter(truth, est, c=flops / 1e3, s=12, cmap="viridis")
        ax.set_xlabel("stand-alone val. accuracy (%, mean of 2 seeds)")
        ax.set_ylabel("supernet estimate (%, BN recalibrated)")
        label = "uniform (SPOS)" if sampler == "uniform" else "strict-fair (FairNAS)"
        ax.set_title(f"{label}, seed 0: Kendall {kendall_tau(truth, est):.2f}")
        fig.colorbar(sc, ax=ax, label="kFLOPs (MACs)")
    a, b = t["supernet_fair_seed0_recal"], t["supernet_fair_seed1_recal"]
    axes[2].scatter(a, b, s=12, label="strict-fair")
    axes[2].scatter(t["supernet_uniform_seed0_recal"], t["supernet_uniform_seed1_recal"], s=12,
                    label="uniform")
    axes[2].set_xlabel("supernet seed 0 (%)")
    axes[2].set_ylabel("supernet seed 1 (%)")
    axes[2].set_title("self-consistency of two supernets")
    axes[2].legend()
    fig.suptitle("digits5 (243 architectures): supernet estimates vs stand-alone training")
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(RESULTS / "supernet_groundtruth.png", dpi=110)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run")
    p.add_argument("--groundtruth", default=str(ROOT / "data" / "digits_groundtruth.csv"))
    p.add_argument("--bins", type=int, default=4, help="FLOPs quantile bins (default 4)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    print(f"torch threads: {torch.get_num_threads()}\n")
    print("\n".join(bench_training(args.quick)), "\n")
    print("\n".join(bench_evaluation(args.quick)), "\n")
    print("\n".join(fairnas_params()), "\n")
    if Path(args.groundtruth).exists():
        print("\n".join(analyse_groundtruth(Path(args.groundtruth), args.bins)))
    else:
        print(f"(no ground truth at {args.groundtruth}: run bench/build_digits_groundtruth.py)")


if __name__ == "__main__":
    main()

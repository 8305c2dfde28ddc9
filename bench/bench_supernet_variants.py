"""Supernet variants against ground truth v2 at equal training budget (``supernet.compare``).

Every variant trains on the perturbed digits' training split (1,198 images) for the same
number of passes over the data (``--epochs``, divided among warm-up and sub-supernets by the
split variants), with 3 seeds; each then estimates all 243 architectures of ``digits5v2`` on
the validation split (599 images) with BatchNorm recalibration, and the estimates are ranked
against ``data/digits5v2_groundtruth.csv``. Rows: plain uniform (SPOS) and strict-fair (FairNAS)
supernets, Few-Shot NAS (exhaustive split of one layer), random balanced splits and GM-NAS
(gradient-matching min-cut splits, B=2, 1 and 2 splits), FLOPs alone, and the noise ceiling of
the ground truth. Writes ``bench/results/supernet_variants.{md,json,png}``.

``--inter-choice`` compares instead the inter-choice dependent weights of Laube & Zell: plain
uniform, bias weights D=1/2/3 (joint and shared) and split weights at 50/70/80 % of training,
with the same recalibration as the other rows (``--paper-recalibration``: the paper's 20
batches without resetting the statistics);
``--only-convolutions`` restricts the space and the ground truth to the 32 architectures
without the identity option (the paper's "only convolutions" setting). Writes
``bench/results/interchoice[_convs].{md,json,png}``.

Every run (variant, seed) estimates all architectures of the space and is appended to
``bench/results/supernet_runs.jsonl`` as it finishes (``--cache``): a rerun reuses it, so an
interrupted benchmark resumes and the supernets can be trained while the ground truth is still
being built (``--groundtruth`` of a partial build ranks them; the complete one reuses them).

    python bench/bench_supernet_variants.py --jobs 2                          # full run
    python bench/bench_supernet_variants.py --quick                           # smoke run
    python bench/bench_supernet_variants.py --inter-choice --jobs 2
    python bench/bench_supernet_variants.py --inter-choice --only-convolutions --jobs 2
    python bench/bench_supernet_variants.py --overhead      # inter-choice time and parameters

``--dcnas`` compares DCNAS (Pan et al., CVPR 2022, ``supernet.dcnas``): plain uniform, the
random-assignment ablation (M=2) and DCNAS with M=2 and M=3 at the same budget, and then, on
each supernet's estimates as the evaluator, evolutionary search against random search at the
same number of evaluations (``archgraph.search``), scored by the ground-truth accuracy of each
pick. Writes ``bench/results/dcnas.{md,json,png}``.

    python bench/bench_supernet_variants.py --dcnas --jobs 2
    python bench/bench_supernet_variants.py --dcnas --overhead     # DCNAS training time
"""
from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from archgraph.search import evolutionary_search, random_search
from supernet.compare import (
    bias,
    compare_supernets,
    dcnas,
    drop_options,
    load_groundtruth,
    random_assignment,
    split_weights,
    strict_fair,
    uniform,
)
from supernet.data import load_perturbed_digits
from supernet.evaluator import PAPER_RECALIBRATION

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def variants() -> dict:
    """The compared configurations, the baseline first."""
    out = {"uniform (SPOS)": uniform, "strict-fair (FairNAS)": strict_fair}
    try:
        from supernet import gm_nas
    except ImportError:  # pragma: no cover - until the splitting variants exist
        return out
    out.update({"Few-Shot NAS (3 sub-supernets)": gm_nas.few_shot,
                "random split B=2 x1": partial(gm_nas.random_split, num_groups=2, num_splits=1),
                "random split B=2 x1, no restart": partial(gm_nas.random_split, num_groups=2,
                                                           num_splits=1, restart=False),
                "GM-NAS B=2 x1": partial(gm_nas.gm_nas, num_groups=2, num_splits=1),
                "GM-NAS B=2 x1, no restart": partial(gm_nas.gm_nas, num_groups=2, num_splits=1,
                                                     restart=False),
                "random split B=2 x2": partial(gm_nas.random_split, num_groups=2, num_splits=2),
                "GM-NAS B=2 x2": partial(gm_nas.gm_nas, num_groups=2, num_splits=2)})
    return out


def inter_choice_variants() -> dict:
    """Plain uniform (the baseline), bias weights and split weights (Laube & Zell)."""
    out = {"uniform (SPOS)": uniform}
    out.update({f"bias D={d} {k}": partial(bias, depth=d, kind=k)
                for d in (1, 2, 3) for k in ("joint", "shared")})
    out.update({f"split at {round(100 * a)}%": partial(split_weights, at=a)
                for a in (0.5, 0.7, 0.8)})
    return out


def dcnas_variants() -> dict:
    """Plain uniform (the baseline), DCNAS's random-assignment ablation, DCNAS M=2 and M=3."""
    return {"uniform (SPOS)": uniform,
            "random assignment M=2": partial(random_assignment, num_copies=2),
            "DCNAS M=2": partial(dcnas, num_copies=2),
            "DCNAS M=3": partial(dcnas, num_copies=3)}


class EstimateTable:
    """A supernet's estimates of every architecture as an ``Evaluator`` (a lookup)."""

    def __init__(self, space, archs, estimates):
        self.space = space
        self._est = dict(zip(archs, np.asarray(estimates, dtype=np.float64)))

    def evaluate(self, archs):
        return np.array([self._est[a] for a in archs])


def search_rows(result, truth, budget: int = 30, population: int = 10, top_k: int = 5,
                mutation_prob: float = 0.2, repeats: int = 20) -> list[str]:
    """Evolutionary vs random search with ``budget`` evaluations on each supernet's estimates
    (every seed), with and without a FLOPs bound (the median): the mean (std) ground-truth
    accuracy of the pick over supernet seeds x ``repeats`` search seeds, and the pick of the
    exhaustive ranking (every architecture evaluated) for reference."""
    acc = dict(zip(truth.archs, truth.accuracy))
    flops = dict(zip(truth.archs, truth.flops))
    median = float(np.median(truth.flops))
    best = {None: max(acc.values()),
            median: max(a for k, a in acc.items() if flops[k] <= median)}
    rows = [f"budget {budget} evaluations of {len(truth.archs)} (population {population}, "
            f"top-k {top_k}, mutation {mutation_prob}), {repeats} search seeds per supernet; "
            f"ground-truth accuracy (%) of the pick, mean (std); best in the space "
            f"{best[None]:.2f}, within the median FLOPs {best[median]:.2f}", "",
            "| estimates of | FLOPs bound | evolution | random | exhaustive ranking |",
            "|---|---|---|---|---|"]
    for name in dict.fromkeys(result.runs["variant"]):
        for bound in (None, median):
            evo, rnd, exh = [], [], []
            for (v, s), est in result.estimates.items():
                if v != name:
                    continue
                table = EstimateTable(truth.space, truth.archs, est)
                ok = [i for i, a in enumerate(truth.archs) if bound is None or flops[a] <= bound]
                exh.append(acc[truth.archs[max(ok, key=lambda i: est[i])]])
                for r in range(repeats):
                    evo.append(acc[evolutionary_search(
                        truth.space, table, population=population, budget=budget, top_k=top_k,
                        mutation_prob=mutation_prob, max_flops=bound,
                        random_state=1000 * s + r).arch])
                    if bound is None:
                        rnd.append(acc[random_search(truth.space, table, budget,
                                                     random_state=1000 * s + r).arch])
                    else:  # random search within the bound: a random sample of admissible ones
                        rng = np.random.default_rng(1000 * s + r)
                        pick = rng.choice(ok, size=min(budget, len(ok)), replace=False)
                        rnd.append(acc[truth.archs[max(pick, key=lambda i: est[i])]])
            label = "none" if bound is None else f"<= {bound:,.0f} (median)"
            rows.append(f"| {name} | {label} | {np.mean(evo):.2f} ({np.std(evo):.2f}) | "
                        f"{np.mean(rnd):.2f} ({np.std(rnd):.2f}) | {np.mean(exh):.2f} "
                        f"({np.std(exh):.2f}) |")
    return rows


def overhead(repeats: int = 3, epochs: int = 2) -> list[str]:
    """Training time (median of ``repeats``, one thread, nothing else in this process) and
    parameters of the inter-choice configurations against the plain supernet."""
    import statistics
    import time

    import torch

    from archgraph.spaces import get_search_space
    from supernet import SupernetConfig, UniformSampler, build_supernet, train

    torch.set_num_threads(1)
    space, data = get_search_space("digits5v2"), load_perturbed_digits("train")
    configs = {"plain": SupernetConfig(),
               **{f"bias D={d} {k}": SupernetConfig(bias_weights=d, bias=k)
                  for d in (1, 3) for k in ("joint", "shared")},
               "split weights": SupernetConfig(split_weights_epoch=1)}
    seconds = {name: [] for name in configs}
    for rep in range(repeats):  # interleaved, so a slower stretch of the machine hits all
        for name, config in configs.items():
            net = build_supernet(space, config, random_state=rep)
            t = time.perf_counter()
            train(net, data, epochs, sampler=UniformSampler(space, rep), random_state=rep,
                  progress=False)
            seconds[name].append(time.perf_counter() - t)
    base = statistics.median(seconds["plain"])
    rows = ["| variant | seconds | vs plain | parameters |", "|---|---|---|---|"]
    for name, config in configs.items():
        t = statistics.median(seconds[name])
        params = sum(p.numel() for p in build_supernet(space, config).parameters())
        rows.append(f"| {name} | {t:.2f} | {t / base:.2f} | {params:,} |")
    return rows


def dcnas_overhead(repeats: int = 3) -> list[str]:
    """Training time of DCNAS against the plain supernet in one process (one thread),
    interleaved: seconds of one uniform epoch, one DCNAS single-path (warm-up) epoch and one
    paired epoch per M, and one assignment of the last layer; the projected time of the
    30-pass schedule (10 warm-up, 20 paired, 5 assignments, taking the last layer's for each)."""
    import statistics
    import time

    import torch

    from archgraph.spaces import get_search_space
    from supernet import UniformSampler, build_supernet, train
    from supernet.dcnas import DCNASSupernet, _assign_images, assign_layer, train_dcnas

    torch.set_num_threads(1)
    space, data = get_search_space("digits5v2"), load_perturbed_digits("train")
    images = _assign_images(data, 64, 2, 0, 4)
    sec = {k: [] for k in ("uniform", "warm2", "paired2", "assign2", "paired3", "assign3")}
    for rep in range(repeats):
        net = build_supernet(space, random_state=rep)
        t = time.perf_counter()
        train(net, data, 1, sampler=UniformSampler(space, rep), random_state=rep,
              progress=False)
        sec["uniform"].append(time.perf_counter() - t)
        for m in (2, 3):
            net = DCNASSupernet(space, num_copies=m, random_state=rep)
            if m == 2:
                t = time.perf_counter()
                train_dcnas(net, data, warmup_epochs=1, layer_epochs=0, finetune_epochs=0,
                            paired=False, random_state=rep, progress=False)
                sec["warm2"].append(time.perf_counter() - t)
            t = time.perf_counter()
            train_dcnas(net, data, warmup_epochs=0, layer_epochs=1, finetune_epochs=0,
                        stop_after=1, random_state=rep, progress=False)
            sec[f"paired{m}"].append(time.perf_counter() - t)  # includes assigning layer 0
            t = time.perf_counter()
            assign_layer(net, 4, images, rep)
            sec[f"assign{m}"].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in sec.items()}
    base = 30 * med["uniform"]
    rows = ["| | seconds |", "|---|---|",
            f"| uniform, one epoch | {med['uniform']:.2f} |",
            f"| DCNAS single-path (warm-up) epoch, M=2 | {med['warm2']:.2f} |"]
    for m in (2, 3):
        rows += [f"| DCNAS paired epoch, M={m} | {med[f'paired{m}']:.2f} |",
                 f"| assignment of the last layer, M={m} | {med[f'assign{m}']:.2f} |"]
    rows += ["", "| 30 passes | seconds | vs uniform |", "|---|---|---|",
             f"| uniform | {base:.1f} | 1.00 |",
             f"| random assignment M=2 (30 single-path epochs) | {30 * med['warm2']:.1f} | "
             f"{30 * med['warm2'] / base:.2f} |"]
    for m in (2, 3):
        total = 10 * med["warm2"] + 20 * med[f"paired{m}"] + 5 * med[f"assign{m}"]
        rows.append(f"| DCNAS M={m} (10 + 5 x 3 + 5) | {total:.1f} | {total / base:.2f} |")
    return rows


def markdown(table: pd.DataFrame) -> list[str]:
    """Rows of a Markdown table of ``table`` (index first), floats to 3 decimals."""
    cells = [[str(i)] + [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
             for i, row in zip(table.index, table.itertuples(index=False))]
    return ["| | " + " | ".join(table.columns) + " |", "|---" * (len(table.columns) + 1) + "|",
            *("| " + " | ".join(c) + " |" for c in cells)]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 2 variants, 1 seed, 1 epoch")
    p.add_argument("--epochs", type=int, default=30, help="training budget (passes over data)")
    p.add_argument("--recal-batches", type=int, default=4,
                   help="BN recalibration batches of 256 images per architecture")
    p.add_argument("--paper-recalibration", action="store_true",
                   help="Laube & Zell's recalibration: 20 batches, statistics not reset")
    p.add_argument("--cache", default=str(RESULTS / "supernet_runs.jsonl"),
                   help="JSON-lines file of finished runs (reused on rerun)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (one thread each)")
    p.add_argument("--groundtruth", default=None, help="ground-truth CSV (default: shipped v2)")
    p.add_argument("--inter-choice", action="store_true",
                   help="compare Laube & Zell's bias and split weights instead")
    p.add_argument("--only-convolutions", action="store_true",
                   help="restrict space and ground truth to architectures without identity")
    p.add_argument("--dcnas", action="store_true",
                   help="compare DCNAS (M=2, 3) and random assignment, and evolutionary search")
    p.add_argument("--seeds", type=int, default=3, help="supernet seeds (0, 1, ...)")
    p.add_argument("--overhead", action="store_true",
                   help="only the training time and parameters of the inter-choice variants")
    args = p.parse_args(argv)
    if args.overhead:
        rows = (dcnas_overhead(1 if args.quick else 3) if args.dcnas
                else overhead(1 if args.quick else 3, 1 if args.quick else 2))
        RESULTS.mkdir(parents=True, exist_ok=True)
        stem = "dcnas_overhead" if args.dcnas else "interchoice_overhead"
        (RESULTS / f"{stem}{'_quick' if args.quick else ''}.md").write_text(
            "\n".join(rows) + "\n")
        print("\n".join(rows))
        return
    truth = load_groundtruth(args.groundtruth)
    name = "dcnas" if args.dcnas else "interchoice" if args.inter_choice else "supernet_variants"
    if args.only_convolutions:
        truth = truth.restrict(drop_options(truth.space))
        name += "_convs"
    if args.epochs != 30:  # another budget keeps the default results
        name += f"_epochs{args.epochs}"
    chosen = (dcnas_variants() if args.dcnas else inter_choice_variants() if args.inter_choice
              else variants())
    recal = (PAPER_RECALIBRATION if args.paper_recalibration
             else dict(recal_batches=args.recal_batches))
    seeds, epochs = tuple(range(args.seeds)), args.epochs
    if args.seeds != 3:
        name += f"_seeds{args.seeds}"
    if args.quick:
        chosen = dict(list(chosen.items())[:2]) if not args.dcnas else chosen
        seeds, epochs = (0,), 1 if not args.dcnas else 10  # Algorithm 1 needs 10 epochs
    result = compare_supernets(chosen, truth, load_perturbed_digits("train"),
                               load_perturbed_digits("val"), seeds=seeds, epochs=epochs,
                               jobs=args.jobs, cache=None if args.quick else args.cache, **recal)
    summary = result.summary()
    consistency = result.self_consistency().set_index("variant")
    cols = ["kendall", "kendall_std", "spearman", "kendall_within_flops_bins",
            "kendall_within_flops_bins_std", "precision_at_top", "improvement_at_10_left",
            "train_time_vs_first", "parameters_vs_first", "peak_rss_vs_first"]
    table = summary.reindex(columns=cols).join(consistency.add_prefix("seeds_"))
    agreement = truth.seed_agreement()
    text = [f"epochs (passes over 1,198 training images) = {epochs}, seeds = {list(seeds)}, "
            f"{len(truth.archs)} architectures, recalibration {recal}; "
            f"ground truth: mean pairwise Kendall between its seeds {agreement['kendall']:.3f} "
            f"(within FLOPs quartiles {agreement['kendall_within_flops_bins']:.3f})", "",
            *markdown(table)]
    if args.dcnas:
        text += ["", *search_rows(result, truth, repeats=2 if args.quick else 20)]
    out = RESULTS / (name + ("_quick" if args.quick else ""))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text("\n".join(text) + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        dict(epochs=epochs, seeds=list(seeds), agreement=agreement,
             runs=result.runs.to_dict(orient="records"),
             summary=json.loads(table.to_json(orient="index"))), indent=1))
    result.plot(out.with_suffix(".png"))
    pd.set_option("display.width", 200)
    print("\n".join(text))


if __name__ == "__main__":
    main()

"""Build ground truth v2: ``data/digits5v2_groundtruth.csv``.

Every architecture of the 243-architecture space ``digits5v2`` (:mod:`archgraph.spaces.digits`)
is trained from scratch on the perturbed digits (``supernet.data.load_perturbed_digits``: all
1,797 images, each rotated, shifted and noised once) and scored by stratified k-fold
cross-validation: for seed ``s`` the images are split into ``--folds`` folds
(``StratifiedKFold(shuffle=True, random_state=s)``); for each fold a network is initialized
(seed ``1000 s + fold``), trained on the other folds and scored on its fold, so each seed's
accuracy is over all 1,797 images, each predicted by a network that never saw it. Seeds differ
in folds, initialization and data order: their agreement measures the ground truth's own noise.

The table holds, per architecture: ``arch``, ``l0``..``l4``, ``flops``, ``params``,
``acc_seed{s}`` (cross-validated accuracy, %), ``loss_seed{s}`` (mean held-out cross-entropy)
and ``accuracy`` (mean over seeds). ``data/digits5v2_groundtruth.json`` holds the settings, the
timings and the quality of the ground truth (seed-to-seed Kendall over the space and within
FLOPs quartiles, noise ceiling).

Resumable: each worker appends one JSON line per finished (architecture, seed) to
``--work/worker{w}.jsonl``; rerunning the same command skips what is done. Architectures are
visited in a random order, all seeds of one before the next, so a partial run is a random
subset of fully measured architectures.

Run (about 2 hours on two cores)::

    python bench/build_digits5v2_groundtruth.py --workers 2
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
SPACE = "digits5v2"


def settings(quick: bool) -> dict:
    """Build settings; ``quick`` is the seconds-long smoke run of the test suite."""
    if quick:
        return dict(num_archs=4, seeds=[0, 1], folds=2, epochs=1, batch_size=64, lr=0.05)
    return dict(num_archs=243, seeds=[0, 1, 2], folds=3, epochs=16, batch_size=64, lr=0.05)


def units(cfg: dict) -> list[tuple[int, int]]:
    """``(architecture index, seed)`` pairs in build order."""
    order = np.random.default_rng(0).permutation(cfg["num_archs"])
    return [(int(a), s) for a in order for s in cfg["seeds"]]


def measure(space, data, arch, seed: int, cfg: dict) -> dict:
    """Cross-validated accuracy (%) and held-out loss of ``arch`` for ``seed``."""
    from sklearn.model_selection import StratifiedKFold
    from torch.utils.data import Subset

    from supernet import build_supernet
    from supernet.train import train

    x, y = data.tensors
    folds = StratifiedKFold(cfg["folds"], shuffle=True, random_state=seed)
    correct, loss = 0, 0.0
    for fold, (tr, te) in enumerate(folds.split(np.zeros(len(y)), y.numpy())):
        init = 1000 * seed + fold
        net = build_supernet(space, random_state=init).extract_subnet(arch)
        train(net, Subset(data, tr.tolist()), cfg["epochs"], batch_size=cfg["batch_size"],
              lr=cfg["lr"], random_state=init, progress=False)
        net.eval()
        with torch.no_grad():
            logits = net(x[te])                                     # [len(te), 10]
        correct += int((logits.argmax(1) == y[te]).sum())
        loss += float(torch.nn.functional.cross_entropy(logits, y[te], reduction="sum"))
    return dict(acc=100.0 * correct / len(y), loss=loss / len(y))


def done_units(work: Path) -> dict:
    """Finished units of every worker file; a torn last line (interrupted write) is dropped."""
    done = {}
    for path in sorted(work.glob("worker*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(rec, dict) or not {"arch", "seed", "acc", "loss",
                                                  "seconds"} <= rec.keys():
                raise ValueError(f"{path}: record {line[:80]!r} lacks fields; delete the file "
                                 f"to rebuild its units")
            if not (isinstance(rec["arch"], int) and isinstance(rec["seed"], int)
                    and np.isfinite([rec["acc"], rec["loss"]]).all()
                    and 0 <= rec["acc"] <= 100 and rec["loss"] >= 0):
                raise ValueError(f"{path}: record {line[:80]!r} is not a measurement (integer "
                                 f"arch and seed, accuracy in [0, 100], loss >= 0); delete the "
                                 f"file to rebuild its units")
            done[rec["arch"], rec["seed"]] = rec
    return done


def worker(w: int, num_workers: int, work: str, quick: bool) -> None:
    """Measure this worker's share of the units not yet done."""
    from archgraph.spaces import get_search_space
    from supernet.data import load_perturbed_digits

    torch.set_num_threads(1)
    cfg = settings(quick)
    space = get_search_space(SPACE)
    archs = list(space.enumerate())
    data = load_perturbed_digits("all")
    work = Path(work)
    done = done_units(work)
    todo = [u for u in units(cfg)[w::num_workers] if u not in done]
    path = work / f"worker{w}.jsonl"
    if path.exists():  # cut a torn last line (an interrupted write) before appending
        text = path.read_bytes()
        path.write_bytes(text[:text.rfind(b"\n") + 1])
    with open(path, "a") as fh:
        for i, (a, seed) in enumerate(todo):
            t0 = time.perf_counter()
            rec = measure(space, data, archs[a], seed, cfg)
            rec.update(arch=a, seed=seed, seconds=time.perf_counter() - t0)
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            if w == 0:
                print(f"worker 0: {i + 1}/{len(todo)} units ({rec['seconds']:.1f} s each)",
                      flush=True)


def quality(truth) -> dict:
    """Seed-to-seed agreement of the ground truth (a ``supernet.compare.GroundTruth``), over
    the space and per FLOPs quartile (grouped as ``kendall_tau_within_bins`` does)."""
    from archgraph.metrics import kendall_tau

    seeds, n = truth.seeds, len(truth.flops)
    group = np.argsort(np.argsort(truth.flops, kind="stable"), kind="stable") * 4 // n
    pairs = list(combinations(range(seeds.shape[1]), 2))
    within = [float(np.mean([kendall_tau(seeds[group == q, a], seeds[group == q, b])
                             for a, b in pairs])) if (group == q).sum() >= 2 else float("nan")
              for q in range(4)]
    return dict(kendall_between_seeds=truth.seed_agreement()["kendall"],
                kendall_between_seeds_within_flops_quartiles=within,
                noise_ceiling_kendall_one_seed_vs_mean_of_others=truth.noise_ceiling()["kendall"],
                kendall_flops_vs_accuracy=kendall_tau(truth.flops, truth.accuracy))


def merge(work: Path, out: Path, cfg: dict, seconds: float) -> pd.DataFrame:
    """The table of every architecture whose seeds are all measured, and its JSON sidecar."""
    from archgraph.spaces import get_search_space
    from archgraph.utils.io import atomic_write
    from supernet.compare import GroundTruth

    space = get_search_space(SPACE)
    archs = list(space.enumerate())
    done = done_units(work)
    measured = sorted(a for a in range(cfg["num_archs"])
                      if all((a, s) in done for s in cfg["seeds"]))
    sel = [archs[a] for a in measured]
    table = pd.DataFrame({"arch": [space.to_str(a) for a in sel]})
    for name, col in zip(space.layer_names, space.encode(sel).T):
        table[name] = col
    table["flops"] = space.cost("flops", sel)
    table["params"] = space.cost("params", sel)
    for s in cfg["seeds"]:
        table[f"acc_seed{s}"] = [done[a, s]["acc"] for a in measured]
        table[f"loss_seed{s}"] = [done[a, s]["loss"] for a in measured]
    acc = [f"acc_seed{s}" for s in cfg["seeds"]]
    table["accuracy"] = table[acc].mean(axis=1)
    cpu = sum(r["seconds"] for r in done.values())
    meta = dict(space=SPACE, data="load_perturbed_digits(\"all\"): 1,797 perturbed 8x8 digits",
                cross_validation="StratifiedKFold(folds, shuffle=True, random_state=seed); "
                                 "network seed 1000*seed+fold",
                **cfg, num_measured=len(measured), torch_threads_per_worker=1,
                cpu_seconds=cpu, wall_seconds_last_run=seconds,
                quality=quality(GroundTruth(space, sel, table[acc].to_numpy(),
                                            table["flops"].to_numpy(dtype=np.float64)))
                if len(table) > 3 else None)
    with atomic_write(out, "w") as fh:
        table.to_csv(fh, index=False, float_format="%.4f")
    with atomic_write(out.with_suffix(".json"), "w") as fh:
        json.dump(meta, fh, indent=2)
    return table


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 4 archs, 2 seeds, 1 epoch")
    p.add_argument("--workers", type=int, default=1, help="processes (one thread each)")
    p.add_argument("--out", default=str(ROOT / "data" / f"{SPACE}_groundtruth.csv"))
    p.add_argument("--work", default=str(ROOT / "bench" / "results" / f"{SPACE}_work"))
    args = p.parse_args(argv)
    if args.workers < 1:
        p.error(f"--workers must be at least 1; got {args.workers}")
    cfg = settings(args.quick)
    work = Path(args.work) / ("quick" if args.quick else "full")
    work.mkdir(parents=True, exist_ok=True)
    out = work / Path(args.out).name if args.quick else Path(args.out)
    t0 = time.perf_counter()
    from archgraph.utils.locks import output_lock

    # one build per work folder: two would append the same units to the same worker files
    with output_lock(work, 0, "ground-truth work folder",
                     "another build of this ground truth is running; wait for it to finish "
                     "or pass another --work"):
        if args.workers == 1:
            worker(0, 1, str(work), args.quick)
        else:
            ctx = mp.get_context("spawn")
            procs = [ctx.Process(target=worker, args=(w, args.workers, str(work), args.quick))
                     for w in range(args.workers)]
            for proc in procs:
                proc.start()
            for proc in procs:
                proc.join()
            if any(proc.exitcode for proc in procs):
                raise SystemExit(f"a worker failed; rerun the same command to resume ({work})")
        table = merge(work, out, cfg, time.perf_counter() - t0)
    print(f"wrote {out} ({len(table)} architectures)")


if __name__ == "__main__":
    main()

"""Soak run: faults, file round trips and long-lived use, repeated for a while; every failure is
counted (the expected count is 0).

Three loops, each for its share of the time budget:

1. **kill/resume cycles**: ``archgraph dataset build`` (48 ``macro`` architectures of the
   ``synthetic`` evaluator, chunks of 8) and ``python -m supernet`` (digits5, width 0.25, 3
   epochs) run as real processes (tests/fault_driver.py), SIGKILLed at a random time or at a
   random atomic rename with the temporary file torn in half, then resumed; the table must equal
   an uninterrupted build byte for byte, the weights bit for bit, no temporary file may remain,
   and the resumed build must evaluate only the architectures missing from the file.
2. **file round trips**: every kind of file archgraph writes (predictor datasets as CSV and
   Parquet, lookup tables as CSV and Parquet, training checkpoints) is written, read back and
   compared; then damaged (a random bit flipped, cut at a random length): each damaged copy
   must be refused with a one-line ``ValueError`` naming it, or read back to the same content.
3. **one long-lived process**: ``--fits`` neural-predictor fits and ``--queries`` lookup queries
   in this process, resident memory (RSS) recorded before and after.

    python bench/bench_soak.py --minutes 10      # -> bench/results/soak.json
    python bench/bench_soak.py --quick           # a smoke run (~1 min) -> soak_quick.json
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from archgraph.datasets.predictor_dataset import build_predictor_dataset, read_table
from archgraph.evaluators import synthetic_evaluator
from archgraph.lookup import LookupTable
from archgraph.predictors import NeuralPredictor
from archgraph.spaces import get_search_space

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DRIVER = str(ROOT / "tests" / "fault_driver.py")
N, CHUNK = 48, 8
TRAIN = ["--space", "digits5", "--epochs", "3", "--width-mult", "0.25", "--batch-size", "128",
         "--quiet"]


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _run(args, faults=(), timeout=600) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, DRIVER, *faults, *args], env=env, text=True,
                          capture_output=True, timeout=timeout)


def _start(args, faults=()) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, DRIVER, *faults, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _build_args(out: Path, evaluator: str) -> list[str]:
    return ["dataset", "build", "--space", "macro", "--evaluator", evaluator, "--n", str(N),
            "--chunk-size", str(CHUNK), "--out", str(out), "--quiet"]


def _stale(path: Path) -> list[Path]:
    return list(path.parent.glob(f".{path.name}.*.tmp"))


def _same_training(a: Path, b: Path) -> bool:
    sa, sb = torch.load(a, weights_only=True), torch.load(b, weights_only=True)
    return (sa["model"].keys() == sb["model"].keys()
            and all(torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"])
            and torch.equal(sa["data_rng"], sb["data_rng"])
            and sa["sampler_rng"] == sb["sampler_rng"])


def kill_cycles(work: Path, seconds: float, rng) -> dict:
    """Loop 1; returns counts and the failures' descriptions."""
    ref_table, ref_ck = work / "ref.parquet", work / "ref.pt"
    for proc in (_run(_build_args(ref_table, "synthetic")),
                 _run(["supernet", *TRAIN, "--checkpoint", str(ref_ck)])):
        if proc.returncode:
            raise RuntimeError(f"reference run failed: {proc.stderr}")
    stats = dict(cycles=0, kills=0, builds=0, trainings=0, failures=[])
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        cycle = stats["cycles"]
        stats["cycles"] += 1
        build = cycle % 2 == 0
        out = work / (f"t{cycle}.parquet" if build else f"ck{cycle}.pt")
        log = work / f"log{cycle}"
        mid_write = bool(rng.integers(2))
        if build:
            args = _build_args(out, "slow")
            faults = ("--slow", "0.05", "--log", str(log))
            last = N // CHUNK
        else:
            args = ["supernet", *TRAIN, "--checkpoint", str(out)]
            faults = ()
            last = 3
        if mid_write:
            faults = (*faults, "--kill-at-replace", str(int(rng.integers(1, last + 1))),
                      *(["--tear"] if rng.integers(2) else []))
            done = _run(args, faults)
            killed = done.returncode == -signal.SIGKILL
        else:
            proc = _start(args, faults)
            while not out.exists() and proc.poll() is None:
                time.sleep(0.01)
            time.sleep(float(rng.uniform(0, 0.5)))
            killed = proc.poll() is None
            if killed:
                os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
        stats["kills"] += killed
        kept = set(read_table(out)["arch"]) if build and out.exists() else set()
        resume_faults = ("--log", str(log) + ".resume") if build else ()
        again = _run(args, resume_faults)
        what = f"cycle {cycle} ({'build' if build else 'training'}, " \
               f"{'mid-write' if mid_write else 'random'} kill)"
        if again.returncode:
            stats["failures"].append(f"{what}: resume exited {again.returncode}: "
                                     f"{again.stderr.strip()[-300:]}")
            continue
        if build:
            stats["builds"] += 1
            resumed = Path(str(log) + ".resume")
            evaluated = resumed.read_text().split() if resumed.exists() else []
            if out.read_bytes() != ref_table.read_bytes():
                stats["failures"].append(f"{what}: table differs from the uninterrupted one")
            if sorted(evaluated) != sorted(set(read_table(out)["arch"]) - kept):
                stats["failures"].append(f"{what}: the resumed build evaluated "
                                         f"{len(evaluated)} architectures, "
                                         f"{N - len(kept)} were missing")
        else:
            stats["trainings"] += 1
            if not _same_training(out, ref_ck):
                stats["failures"].append(f"{what}: weights differ from the uninterrupted run")
        if _stale(out):
            stats["failures"].append(f"{what}: temporary files left: {_stale(out)}")
    return stats


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:  # CSV reads ints as int64: values and columns compared, not dtypes
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                      check_dtype=False)
    except AssertionError:
        return False
    return True


def _damaged_ok(path: Path, read, reference, rng, trials: int) -> list[str]:
    """Flip a bit / cut the file ``trials`` times; a damaged copy must be refused in one line
    naming it, or read to ``reference`` (``read(path) -> comparable``)."""
    raw, failures = path.read_bytes(), []
    for t in range(trials):
        data = bytearray(raw)
        if t % 2:
            data = data[:int(rng.integers(0, len(raw)))]
        else:
            at = int(rng.integers(0, len(raw)))
            data[at] ^= 1 << int(rng.integers(8))
        bad = path.with_name(f"damaged{t}{path.suffix}")
        bad.write_bytes(bytes(data))
        try:
            got = read(bad)
        except ValueError as exc:
            if str(bad) not in str(exc) or "\n" in str(exc):
                failures.append(f"{bad.name}: refusal not one line naming the file: {exc!s:.200}")
        except Exception as exc:  # anything else is a failure
            failures.append(f"{bad.name} ({'cut' if t % 2 else 'flip'}): "
                            f"{type(exc).__name__}: {exc!s:.200}")
        else:
            if not reference(got):
                failures.append(f"{bad.name}: damaged file accepted with other content")
        bad.unlink()
    return failures


def round_trips(work: Path, seconds: float, rng) -> dict:
    """Loop 2."""
    from supernet import build_supernet
    from supernet.checkpoint import load_checkpoint, save_checkpoint, training_fingerprint
    from supernet.samplers import UniformSampler

    space = get_search_space("macro")
    digits = get_search_space("digits5")
    stats = dict(rounds=0, files=0, damaged=0, failures=[])
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        r = stats["rounds"]
        stats["rounds"] += 1
        seed = int(rng.integers(1000))
        for suffix in (".csv", ".parquet"):  # predictor datasets
            path = work / f"pd{r}{suffix}"
            table = build_predictor_dataset(space, synthetic_evaluator(space, random_state=seed),
                                            int(rng.integers(1, 60)), path, random_state=seed,
                                            chunk_size=16, progress=False)
            back = read_table(path)
            same = lambda f, t=table: _frames_equal(f, t)  # noqa: E731
            if not same(back):
                stats["failures"].append(f"{path.name}: read back differs")
            stats["failures"] += _damaged_ok(path, read_table, same, rng, 6)
            stats["files"] += 1
            stats["damaged"] += 6
            path.unlink()
        acc = rng.normal(80, 5, len(space))  # whole-space lookup tables
        lut = LookupTable.from_predictions(space, None, acc)
        for suffix in (".csv", ".parquet"):
            path = lut.save(work / f"lut{r}{suffix}")
            back = LookupTable.load(path)
            same = lambda t: np.array_equal(t.frame["accuracy"].to_numpy(), acc)  # noqa: E731
            if not same(back):
                stats["failures"].append(f"{path.name}: read back differs")
            stats["failures"] += _damaged_ok(path, LookupTable.load, same, rng, 6)
            stats["files"] += 1
            stats["damaged"] += 6
            path.unlink()
        net = build_supernet(digits, random_state=seed)  # training checkpoints
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        sampler = UniformSampler(digits, seed)
        fp = training_fingerprint(net, opt, sampler, epochs=1, batch_size=1, lr=0.1,
                                  momentum=0.9, weight_decay=0.0, label_smoothing=0.0,
                                  random_state=seed, num_train=1)
        path = work / f"ck{r}.pt"
        save_checkpoint(path, fp, [], net, opt, sched, torch.Generator().manual_seed(seed),
                        sampler)
        state = net.state_dict()
        same = lambda s: all(torch.equal(s["model"][k], v) for k, v in state.items())  # noqa
        if not same(load_checkpoint(path)):
            stats["failures"].append(f"{path.name}: read back differs")
        stats["failures"] += _damaged_ok(path, load_checkpoint, same, rng, 6)
        stats["files"] += 1
        stats["damaged"] += 6
        path.unlink()
    return stats


def long_lived(fits: int, queries: int, rng) -> dict:
    """Loop 3: ``fits`` neural-predictor fits and ``queries`` lookup queries in this process."""
    space = get_search_space("macro")
    bench = synthetic_evaluator(space, pairwise=0.3, random_state=0)
    rss = {"start": _rss_mib()}
    t0 = time.perf_counter()
    for i in range(fits):
        archs = space.sample(48, rng=i)
        NeuralPredictor(space, num_layers=2, hidden_channels=16, fc_channels=(16,), epochs=5,
                        random_state=i).fit(archs, bench.evaluate(archs)).predict(archs[:8])
    rss["after_fits"] = _rss_mib()
    fit_seconds = time.perf_counter() - t0
    lut = LookupTable.from_predictions(space, None, bench.accuracies())
    flops = space.costs("flops")
    budgets = rng.uniform(flops.min(), flops.max(), queries)
    t0 = time.perf_counter()
    rows = 0
    for b in budgets:
        rows += len(lut.query(max_flops=float(b), top_k=10))
    rss["end"] = _rss_mib()
    return dict(fits=fits, fit_seconds=round(fit_seconds, 2), queries=queries,
                query_seconds=round(time.perf_counter() - t0, 2), rows_returned=rows,
                rss_mib={k: round(v, 1) for k, v in rss.items()})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0,
                   help="time of loops 1 and 2 together (default 10; split 2:1)")
    p.add_argument("--fits", type=int, default=100)
    p.add_argument("--queries", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    args = p.parse_args(argv)
    if args.quick:
        args.minutes, args.fits, args.queries = 0.25, 3, 200
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    seconds = args.minutes * 60
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "kill").mkdir()
        (work / "files").mkdir()
        cycles = kill_cycles(work / "kill", seconds * 2 / 3, rng)
        files = round_trips(work / "files", seconds / 3, rng)
    lived = long_lived(args.fits, args.queries, rng)
    failures = cycles["failures"] + files["failures"]
    result = dict(command="python bench/bench_soak.py " + " ".join(argv or sys.argv[1:]),
                  seconds=round(time.perf_counter() - t0, 1), kill_cycles=cycles,
                  round_trips=files, long_lived=lived, failures=len(failures))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("soak_quick.json" if args.quick else "soak.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items()}, indent=1))
    print(f"{out}: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""kill -9 of real processes (``python -m supernet`` training, ``archgraph dataset build``) at
random points and in the middle of a checkpoint or table write, then resume: the weights are
bit-identical and the tables byte-identical to an uninterrupted run, and only the chunk in
flight is evaluated again.

The processes run tests/fault_driver.py (the real command lines, with a SIGKILL armed at the
K-th atomic rename, or killed from here after a random delay). Tiny jobs: a digits5 supernet
of width 0.25 for 4 epochs, 48 macro architectures of the ``synthetic`` evaluator.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from archgraph.datasets.predictor_dataset import read_table

pytestmark = pytest.mark.slow

DRIVER = str(Path(__file__).with_name("fault_driver.py"))
N, CHUNK = 48, 8
TRAIN = ["--space", "digits5", "--epochs", "4", "--width-mult", "0.25", "--batch-size", "128",
         "--quiet"]


def _env():
    env = os.environ.copy()
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _start(*args, faults=()) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, DRIVER, *faults, *args], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, status: int = 0) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == status, (proc.returncode, out, err)
    return out + err


def _build(out: Path, evaluator: str = "synthetic") -> list[str]:
    return ["dataset", "build", "--space", "macro", "--evaluator", evaluator, "--n", str(N),
            "--chunk-size", str(CHUNK), "--out", str(out), "--quiet"]


def _kill_after(proc: subprocess.Popen, watched: Path, delay: float) -> bool:
    """SIGKILL ``proc`` ``delay`` seconds after ``watched`` first appears; False if it ended
    before."""
    while not watched.exists():
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def _stale_tmp(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def _evaluated(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Uninterrupted runs: a predictor-dataset table and a training checkpoint."""
    root = tmp_path_factory.mktemp("reference")
    build = _start(*_build(root / "t.parquet"))
    training = _start("supernet", *TRAIN, "--checkpoint", str(root / "ck.pt"))
    _finish(build), _finish(training)
    return root / "t.parquet", root / "ck.pt"


def test_dataset_build_killed_at_random_points(references, tmp_path):
    ref = references[0].read_bytes()
    rng = np.random.default_rng(0)
    kills = 0
    for trial in range(3):  # until one kill lands mid-build (the first one nearly always does)
        out, log = tmp_path / f"t{trial}.parquet", tmp_path / f"log{trial}"
        proc = _start(*_build(out, "slow"), faults=("--slow", "0.1", "--log", str(log)))
        if not _kill_after(proc, out, float(rng.uniform(0.0, 0.4))):
            _finish(proc)  # the build won the race: nothing to resume
            continue
        kills += 1
        kept = list(read_table(out)["arch"])
        assert len(kept) % CHUNK == 0 and len(kept) < N  # whole chunks only
        first = _evaluated(log)
        lost = set(first) - set(kept)
        assert len(lost) <= CHUNK  # at most the chunk in flight was evaluated and not written
        log.unlink()
        _finish(_start(*_build(out, "slow"), faults=("--log", str(log))))
        again = _evaluated(log)
        assert sorted(again) == sorted(set(read_table(out)["arch"]) - set(kept))
        assert len(again) == N - len(kept)  # the resumed run evaluates only what is missing
        assert out.read_bytes() == ref and not _stale_tmp(out)
        break
    assert kills == 1


def test_dataset_build_killed_mid_write(references, tmp_path):
    out = tmp_path / "t.parquet"
    faults = ("--kill-at-replace", "3", "--tear")  # a torn temporary file beside the table
    _finish(_start(*_build(out, "slow"), faults=faults), -signal.SIGKILL)
    assert len(read_table(out)) == 2 * CHUNK  # the third write never landed
    assert len(_stale_tmp(out)) == 1  # the killed writer's temporary file
    _finish(_start(*_build(out)))
    assert out.read_bytes() == references[0].read_bytes()
    assert not _stale_tmp(out)  # removed by the resumed writer


def _assert_same_training(path: Path, ref: Path) -> None:
    a = torch.load(path, weights_only=True)
    b = torch.load(ref, weights_only=True)
    for part in ("model", "data_rng"):
        sa, sb = a[part], b[part]
        if isinstance(sa, dict):
            assert sa.keys() == sb.keys()
            assert all(torch.equal(sa[k], sb[k]) for k in sa), part  # bit-identical
        else:
            assert torch.equal(sa, sb), part
    assert a["optimizer"]["state"].keys() == b["optimizer"]["state"].keys()
    for k, st in a["optimizer"]["state"].items():
        assert all(torch.equal(v, b["optimizer"]["state"][k][n]) for n, v in st.items())
    assert a["sampler_rng"] == b["sampler_rng"] and a["scheduler"] == b["scheduler"]
    drop = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h]  # noqa: E731
    assert drop(a["history"]) == drop(b["history"])


def test_training_killed_mid_checkpoint_write(references, tmp_path):
    ck = tmp_path / "ck.pt"
    _finish(_start("supernet", *TRAIN, "--checkpoint", str(ck),
                   faults=("--kill-at-replace", "2", "--tear")), -signal.SIGKILL)
    assert [h["epoch"] for h in torch.load(ck, weights_only=True)["history"]] == [1]
    [torn] = _stale_tmp(ck)
    with pytest.raises(Exception):  # the torn temporary file is no checkpoint
        torch.load(torn, weights_only=True)
    _finish(_start("supernet", *TRAIN, "--checkpoint", str(ck)))
    _assert_same_training(ck, references[1])
    assert not _stale_tmp(ck)


def test_training_killed_at_a_random_point(references, tmp_path):
    ck = tmp_path / "ck.pt"
    proc = _start("supernet", *TRAIN, "--checkpoint", str(ck))
    killed = _kill_after(proc, ck, float(np.random.default_rng(1).uniform(0.0, 0.5)))
    if not killed:
        _finish(proc)
    _finish(_start("supernet", *TRAIN, "--checkpoint", str(ck)))
    _assert_same_training(ck, references[1])

"""Two real ``archgraph dataset build`` processes on one output path: the second is refused (or
waits with ``--wait``), no architecture is evaluated twice, the row count never goes backwards
and the file equals a one-writer build byte for byte."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archgraph.datasets.predictor_dataset import build_predictor_dataset, read_table
from archgraph.evaluators import synthetic_evaluator
from archgraph.spaces import get_search_space

pytestmark = pytest.mark.slow

DRIVER = str(Path(__file__).parents[1] / "fault_driver.py")
N, CHUNK = 40, 8


def _start(out: Path, *driver_args, wait: bool = False) -> subprocess.Popen:
    argv = [sys.executable, DRIVER, *driver_args, "dataset", "build", "--space", "macro",
            "--evaluator", "slow", "--n", str(N), "--chunk-size", str(CHUNK), "--out", str(out),
            "--quiet", *(["--wait"] if wait else [])]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _until(condition, procs, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, [p.communicate() for p in procs if p.poll()]
        time.sleep(0.02)


def test_second_build_is_refused_or_waits(tmp_path):
    out, gate = tmp_path / "t.parquet", tmp_path / "gate"
    logs = {k: tmp_path / f"{k}.log" for k in "ac"}
    marks = {k: tmp_path / f"{k}.started" for k in "ac"}
    # A holds the lock and blocks in its first evaluation until the gate opens
    a = _start(out, "--slow", "0.05", "--gate", str(gate), "--log", str(logs["a"]),
               "--started", str(marks["a"]))
    _until(lambda: marks["a"].exists() and (out.parent / f".{out.name}.lock.owner").exists(),
           [a])
    time.sleep(0.5)  # the owner file is written right after the lock is taken
    b = _start(out)  # no --wait: refused at once
    _, err = b.communicate(timeout=120)
    assert b.returncode == 75, err
    line = err.strip()
    assert "\n" not in line and str(out) in line and f"pid {a.pid}" in line, line
    assert "is locked by another writer" in line and "--wait" in line
    c = _start(out, "--log", str(logs["c"]), "--started", str(marks["c"]), wait=True)
    _until(marks["c"].exists, [a, c])
    time.sleep(1.0)
    assert a.poll() is None and c.poll() is None  # C waits for A's lock (it would exit else)
    gate.touch()
    counts = []
    while a.poll() is None or c.poll() is None:  # the table only grows, as readers see it
        if out.exists():
            counts.append(len(read_table(out)))
        time.sleep(0.01)
    assert a.returncode == 0 and c.returncode == 0, (a.communicate(), c.communicate())
    counts.append(len(read_table(out)))
    assert counts == sorted(counts) and counts[-1] == N and len(set(counts)) > 1
    evaluated = logs["a"].read_text().split()
    assert len(evaluated) == len(set(evaluated)) == N  # all by A, once
    assert not logs["c"].exists()  # C resumed A's complete file: nothing evaluated twice
    space = get_search_space("macro")
    ref = tmp_path / "ref.parquet"  # one writer, the same evaluator settings
    build_predictor_dataset(space, synthetic_evaluator(space), N, ref, chunk_size=CHUNK,
                            progress=False)
    assert out.read_bytes() == ref.read_bytes()
    # a build with another seed waits for the lock too, then refuses to mix its rows in
    with pytest.raises(ValueError, match="Cannot resume .* its 'seed' column holds"):
        build_predictor_dataset(space, synthetic_evaluator(space), N, out, random_state=1,
                                progress=False)
    assert out.read_bytes() == ref.read_bytes()

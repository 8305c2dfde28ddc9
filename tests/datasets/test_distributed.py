"""The distributed dataset build under torchrun (2 processes, gloo on CPU) writes the file of
the one-process build, byte for byte, also when it resumes one; errors reach every rank."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from archgraph.datasets.distributed import build_predictor_dataset_distributed
from archgraph.datasets.predictor_dataset import build_predictor_dataset, read_table
from archgraph.evaluators import get_evaluator, synthetic_evaluator
from archgraph.spaces import get_search_space
from archgraph.utils.locks import output_lock

pytestmark = pytest.mark.slow


def _torchrun(*args, env=None) -> subprocess.CompletedProcess:
    # '--' ends torchrun's own options: its prefix matching would take '--n' for '--nnodes'
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
            "2", "-m", "--", "archgraph.cli", "dataset", "build", "--quiet", *args]
    return subprocess.run(argv, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
                          capture_output=True, text=True, timeout=300)


class Interrupted:
    """The synthetic evaluator, interrupted at its third call (a killed job)."""

    def __init__(self, inner):
        self.inner, self.space, self.metadata, self.calls = inner, inner.space, inner.metadata, 0

    def evaluate(self, archs):
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return self.inner.evaluate(archs)


def test_two_processes_resume_and_equal_one_process(tmp_path):
    space = get_search_space("macro")
    ref, out = tmp_path / "ref.csv", tmp_path / "t.csv"
    build_predictor_dataset(space, synthetic_evaluator(space), 37, ref, chunk_size=4,
                            progress=False)
    with pytest.raises(KeyboardInterrupt):  # 8 rows written by one process, then killed
        build_predictor_dataset(space, Interrupted(synthetic_evaluator(space)), 37, out,
                                chunk_size=4, progress=False)
    assert len(read_table(out)) == 8
    run = _torchrun("--space", "macro", "--evaluator", "synthetic", "--n", "37",
                    "--chunk-size", "3", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("37 architectures of 'macro'") == 1  # rank 0 reports
    assert out.read_bytes() == ref.read_bytes()
    # an error of rank 0 (a file of another seed) stops every rank with its message
    run = _torchrun("--space", "macro", "--evaluator", "synthetic", "--n", "37", "--seed", "1",
                    "--out", str(out))
    assert run.returncode != 0 and run.stderr.count("Cannot resume") >= 2, run.stderr
    assert out.read_bytes() == ref.read_bytes()
    with output_lock(out):  # another writer holds the file: every rank exits with status 75
        run = _torchrun("--space", "macro", "--evaluator", "synthetic", "--n", "37",
                        "--out", str(out))
    assert run.returncode != 0 and "exitcode  : 75" in run.stderr, run.stderr
    assert run.stderr.count(f"pid {os.getpid()}") >= 2, run.stderr


@pytest.mark.data
def test_nasbench201_table_two_processes(shared_data, tmp_path):
    env = {"ARCHGRAPH_DATA": str(shared_data)}
    space = get_search_space("nasbench201")
    ref, out = tmp_path / "ref.parquet", tmp_path / "t.parquet"
    build_predictor_dataset(space, get_evaluator("table", space, data_dir=shared_data), 30,
                            ref, chunk_size=4, progress=False)
    run = _torchrun("--space", "nasbench201", "--evaluator", "table", "--n", "30",
                    "--chunk-size", "4", "--out", str(out), env=env)
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == ref.read_bytes()


def test_needs_a_process_group(tmp_path):
    space = get_search_space("macro")
    with pytest.raises(RuntimeError, match="needs an initialized torch.distributed process "
                                           "group"):
        build_predictor_dataset_distributed(space, synthetic_evaluator(space), 4,
                                            tmp_path / "t.csv")


def _sharded_worker(rank, world, init, out):
    import numpy as np
    import torch.distributed as dist

    from archgraph.datasets.distributed import evaluate_sharded

    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        space = get_search_space("macro")
        archs = space.sample(11, 0)
        acc = evaluate_sharded(synthetic_evaluator(space, noise_std=1.0), archs)
        np.save(f"{out}{rank}.npy", acc)
        try:
            evaluate_sharded(Failing(rank), archs)
        except Exception as exc:  # the message is checked by the test
            np.save(f"{out}{rank}_error.npy", np.array([f"{type(exc).__name__}: {exc}"]))
    finally:
        dist.destroy_process_group()


class Failing:
    """Fails on rank 1 only."""

    def __init__(self, rank):
        self.rank = rank

    def evaluate(self, archs):
        if self.rank == 1:
            raise ValueError("rank 1 broke")
        return np.zeros(len(archs))


def test_evaluate_sharded_equals_one_call(tmp_path):
    import torch.multiprocessing as mp

    init = f"file://{tmp_path / 'rendezvous'}"
    mp.spawn(_sharded_worker, args=(2, init, str(tmp_path / "acc")), nprocs=2)
    space = get_search_space("macro")
    want = synthetic_evaluator(space, noise_std=1.0).evaluate(space.sample(11, 0))
    for rank in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"acc{rank}.npy"), want)
    errors = [str(np.load(tmp_path / f"acc{r}_error.npy")[0]) for r in range(2)]
    assert errors[1] == "ValueError: rank 1 broke"
    assert errors[0].startswith("RuntimeError: evaluate_sharded stopped: another rank failed: "
                                "ValueError: rank 1 broke")

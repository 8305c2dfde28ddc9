import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from torch.utils.data import BatchSampler, SequentialSampler, TensorDataset

from supernet import build_supernet
from supernet.checkpoint import load_checkpoint
from supernet.distributed import ShardedBatchSampler, rank_and_world, resolve_device
from supernet.samplers import StrictFairSampler
from supernet.train import train

ROOT = Path(__file__).resolve().parents[2]

# One rank: first a call whose data seed differs between ranks (refused on every rank), then
# the real run, in float64. Writes its final weights and history beside the checkpoint.
WORKER = textwrap.dedent("""
    import datetime, json, runpy, sys
    import torch
    import torch.distributed as dist
    from torch.utils.data import TensorDataset
    from supernet import build_supernet
    from supernet.samplers import StrictFairSampler
    from supernet.train import train

    rank, world, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{out}/rendezvous", rank=rank,
                            world_size=world, timeout=datetime.timedelta(seconds=60))
    space = runpy.run_path(sys.argv[4])["make_tiny_space"]()
    data = TensorDataset(*torch.load(f"{out}/data.pt", weights_only=True))  # float64 images
    kw = dict(batch_size=4, lr=0.1, label_smoothing=0.1, progress=False)
    net = build_supernet(space, random_state=0).double()
    try:
        train(net, data, 1, sampler=StrictFairSampler(space, 1), random_state=rank, **kw)
        refused = ""
    except ValueError as exc:
        refused = str(exc)
    net = build_supernet(space, random_state=rank).double()  # rank 0's init is broadcast
    hist = train(net, data, 2, sampler=StrictFairSampler(space, 1), random_state=3,
                 checkpoint=f"{out}/ck.pt", **kw)
    torch.save(net.state_dict(), f"{out}/weights{rank}.pt")
    with open(f"{out}/result{rank}.json", "w") as f:
        json.dump(dict(refused=refused, history=hist), f)
    dist.destroy_process_group()
""")


def test_sharded_batches_cover_each_global_batch():
    batches = BatchSampler(SequentialSampler(range(23)), 8, drop_last=False)
    shards = [list(ShardedBatchSampler(batches, r, 3)) for r in range(3)]
    assert all(len(s) == len(batches) == 3 for s in shards)
    for k, batch in enumerate(batches):
        assert sum((s[k] for s in shards), []) == batch  # contiguous slices, in rank order
        assert max(map(len, (s[k] for s in shards))) - min(map(len, (s[k] for s in shards))) <= 1
    assert list(ShardedBatchSampler(batches, 0, 1)) == list(batches)


def test_resolve_device(monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert resolve_device("cuda", 3, 4) == torch.device("cuda", 1)
    assert resolve_device("cuda", 3, 1) == torch.device("cuda")
    assert resolve_device("cuda:0", 3, 4) == torch.device("cuda", 0)
    assert resolve_device("cpu", 3, 4) == torch.device("cpu")


def test_launched_without_a_process_group(tiny_space, tiny_data, monkeypatch):
    assert rank_and_world() == (0, 1)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match="2 processes were launched .* no torch.distributed "
                                           "process group is initialized"):
        train(build_supernet(tiny_space), tiny_data, 1, sampler=StrictFairSampler(tiny_space, 0))


# Float64 throughout: the two runs differ only in the order of float sums (a rank's partial
# sums, then the all-reduce). In float32 two epochs amplified that rounding to 1.7e-5 on some
# CPUs, ~150 times float32's epsilon (1.2e-7); the same factor on float64's (2.2e-16) gives
# ~3e-14 (4e-16 measured here), so 1e-11 leaves a margin of ~300 on any CPU, while a real
# error (a wrongly weighted slice, BatchNorm over the local batch) moves them by orders more.
ATOL = 1e-11


@pytest.mark.slow
def test_two_processes_equal_one_with_twice_the_batch(tiny_space, tmp_path):
    # 2 ranks x 4 = global batches of 8: 8, 8, 8, 1 -> the last one leaves rank 0 empty
    g = torch.Generator().manual_seed(0)
    x = torch.randn(25, 1, 8, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (25,), generator=g)
    torch.save((x, y), tmp_path / "data.pt")
    (tmp_path / "worker.py").write_text(WORKER)
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    procs = [subprocess.Popen([sys.executable, str(tmp_path / "worker.py"), str(r), "2",
                               str(tmp_path), str(ROOT / "tests/supernet/conftest.py")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in range(2)]
    logs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(logs)

    kw = dict(sampler=StrictFairSampler(tiny_space, 1), random_state=3, batch_size=8, lr=0.1,
              label_smoothing=0.1, progress=False)
    ref = build_supernet(tiny_space, random_state=0).double()
    hist = train(ref, TensorDataset(x, y), 2, **kw)
    weights = [torch.load(tmp_path / f"weights{r}.pt", weights_only=True) for r in range(2)]
    results = [json.loads((tmp_path / f"result{r}.json").read_text()) for r in range(2)]
    for k in weights[0]:
        assert torch.equal(weights[0][k], weights[1][k]), f"the ranks differ in {k!r}"
    diff = {k: (weights[0][k] - v).abs().max().item() for k, v in ref.state_dict().items()}
    worst = max(diff, key=diff.get)
    assert diff[worst] <= ATOL, (f"2 ranks x batch 4 differ from 1 x batch 8 by up to "
                                 f"{diff[worst]:.3g} (in {worst!r}); tolerance {ATOL}")
    for r in results:
        assert "differ in training settings, data seed" in r["refused"]
        assert [h["loss"] for h in r["history"]] == pytest.approx([h["loss"] for h in hist],
                                                                  rel=ATOL, abs=0)
    # rank 0's checkpoint is the one of a single process with the global batch size
    state = load_checkpoint(tmp_path / "ck.pt")
    assert state["fingerprint"]["batch_size"] == 8
    assert all(torch.equal(state["model"][k], v) for k, v in weights[0].items())
    net = build_supernet(tiny_space, random_state=0).double()
    kw["sampler"] = StrictFairSampler(tiny_space, 1)
    resumed = train(net, TensorDataset(x, y), 2, checkpoint=tmp_path / "ck.pt", **kw)
    assert len(resumed) == 2

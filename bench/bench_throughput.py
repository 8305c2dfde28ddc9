"""Throughput against the machine's limits: each hot loop's achieved rate as a share of what
this machine can do, both measured by this script in one run.

Limits: a large float32 ``torch.mm`` (GFLOP/s, 2 FLOP per multiply-add) and a large tensor
copy (GB/s, bytes read + written). Hot loops, with their work per item counted from the shapes:

1. the neural predictor's dense prediction on FairNAS (multiply-adds per architecture: the two
   linear maps and the two dense aggregations of every layer, the head); "before" is the
   previous layer (two separate linear maps, out-of-place sums, 4,096 architectures per
   forward pass), "after" the current one (one fused GEMM, in-place sums, 1,024 per pass);
2. the space GCN's implicit propagation ``A x`` on a 6^8 FairNAS subspace with 32 features
   (memory-bound: bytes moved per node against the copy bandwidth); "before" is the previous
   operator (a batched matmul with a fresh output per layer), "after" the current one;
3. supernet training on ``digits5v2`` (multiply-adds per image from the cost model, times 3
   for forward + backward).

    python bench/bench_throughput.py            # -> bench/results/throughput.json
    python bench/bench_throughput.py --quick    # smaller sizes, smoke run
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.nn.conv.dag_gcn_conv import BiDAGConv
from archgraph.predictors import NeuralPredictor
from archgraph.spaces import get_search_space

RESULTS = Path(__file__).resolve().parent / "results"


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def limits(quick: bool, repeats: int) -> dict:
    n = 1024 if quick else 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    gflops = 2 * n ** 3 / median_time(lambda: a @ b, repeats) / 1e9
    src = torch.empty(2 ** (24 if quick else 26))  # 64 / 256 MiB of float32
    dst = torch.empty_like(src)
    gbs = 2 * src.numel() * 4 / median_time(lambda: dst.copy_(src), repeats) / 1e9
    return dict(mm_gflops=gflops, copy_gbs=gbs)


def _old_layer(conv: BiDAGConv, x, adj_f, adj_b):
    """The previous dense layer: two linear maps, out-of-place sums."""
    return (0.5 * torch.relu(adj_f @ conv.lin_forward(x))
            + 0.5 * torch.relu(adj_b @ conv.lin_backward(x)))


def neural_prediction(quick: bool, repeats: int, mm_gflops: float) -> list[dict]:
    space = get_search_space("fairnas")
    archs = space.sample(50, rng=0)
    model = NeuralPredictor(space, epochs=1, random_state=0).fit(archs, np.arange(50.0))
    net = model.net_.eval()
    x0, ei, _ = model.batcher_.template
    nodes, feats = x0.shape
    adj = BiDAGConv.dense_adjacency(ei, nodes)
    macs = 0
    for conv in net.convs:  # two linear maps and two aggregations per layer
        macs += 2 * nodes * conv.in_channels * conv.out_channels
        macs += 2 * nodes * nodes * conv.out_channels
    for fc in [*net.fcs, net.out]:
        macs += fc.in_features * fc.out_features
    total = 8192 if quick else 32768
    choices = np.random.default_rng(0).integers(0, 6, (total, space.num_layers))
    inputs = {}

    def run(layer, chunk):
        @torch.no_grad()
        def go():
            for start in range(0, total, chunk):
                key = (start, chunk)
                if key not in inputs:
                    inputs[key] = model.batcher_._features(model.batcher_.template,
                                                           choices[start:start + chunk])
                h = inputs[key]
                for conv in net.convs:
                    h = layer(conv, h, *adj)
                net._head(h.mean(1))
        return go

    rows = []
    for name, layer, chunk in [("before", _old_layer, 4096),
                               ("after", lambda c, h, f, b: c.forward_dense(h, f, b), 1024)]:
        rate = total / median_time(run(layer, chunk), repeats)
        rows.append(dict(loop="neural predictor, dense prediction", variant=name,
                         work_per_item=f"{macs:,} MACs per architecture",
                         rate=f"{rate:,.0f} archs/s",
                         share_of_limit=2 * macs * rate / 1e9 / mm_gflops))
    return rows


def _old_propagation(adj: KroneckerAdjacency, x: torch.Tensor) -> torch.Tensor:
    """The previous ``adj @ x``: a batched matmul with a fresh ``[N, F]`` output per layer,
    out-of-place scalings."""
    x = adj.deg_inv_sqrt * x
    n, f = x.shape
    out = x.clone()
    before = 1
    for s, o in zip(adj.similarity, adj.num_options):
        after = n // (before * o)
        out.view(before, o, after * f).add_(torch.matmul(s, x.reshape(before, o, after * f)))
        before *= o
    return adj.deg_inv_sqrt * out


def space_gcn_propagation(quick: bool, repeats: int, copy_gbs: float) -> list[dict]:
    root = get_search_space("fairnas")
    sub = root.subspace(range(6 if quick else 8), root.default_arch())
    adj = KroneckerAdjacency.from_space(sub)
    x = torch.randn(len(sub), 32)
    assert torch.allclose(_old_propagation(adj, x), adj @ x, rtol=1e-4, atol=1e-5)
    # the work of one product, counted as the minimum traffic: per layer read x and read +
    # write the output; plus the two diagonal scalings (read + write each)
    bytes_per_node = 4 * 32 * (3 * sub.num_layers + 2 * 2)
    macs_per_node = 32 * (sum(sub.num_options) + 2)
    rows = []
    for name, fn in (("before (batched matmul per layer)", lambda: _old_propagation(adj, x)),
                     ("after (axis sums, in place)", lambda: adj @ x)):
        seconds = median_time(fn, repeats)
        gbs = len(sub) * bytes_per_node / seconds / 1e9
        rows.append(dict(loop=f"space GCN propagation A x, 6^{sub.num_layers} nodes x 32 "
                              f"features", variant=name,
                         work_per_item=f"{macs_per_node} MACs, {bytes_per_node} bytes per node",
                         rate=f"{len(sub) / seconds / 1e6:,.1f} M nodes/s ({gbs:.1f} GB/s)",
                         share_of_limit=gbs / copy_gbs))
    return rows


def supernet_training(quick: bool, mm_gflops: float) -> list[dict]:
    """Images per second of SPOS training at the benchmarks' batch of 64 and at 512, with
    torch's default threads and with one thread (the tiny convolutions of an 8x8-image
    network are too small to split across cores)."""
    from supernet.data import load_perturbed_digits
    from supernet.factory import build_supernet
    from supernet.samplers import UniformSampler
    from supernet.train import train

    space = get_search_space("digits5v2")
    data = load_perturbed_digits("train")
    epochs = 1 if quick else 3
    macs = 3 * float(space.costs("flops").mean())  # forward + backward of a uniform path
    rows = []
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        for batch_size in (64, 512):
            net = build_supernet(space, random_state=0)
            start = time.perf_counter()
            train(net, data, epochs, sampler=UniformSampler(space, 0), batch_size=batch_size,
                  random_state=0, progress=False)
            rate = epochs * len(data) / (time.perf_counter() - start)
            rows.append(dict(loop="supernet training (SPOS) on digits5v2",
                             variant=f"batch {batch_size}, {threads} thread(s)",
                             work_per_item=f"{macs:,.0f} MACs per image (3x forward)",
                             rate=f"{rate:,.0f} images/s",
                             share_of_limit=2 * macs * rate / 1e9 / mm_gflops))
    torch.set_num_threads(default_threads)
    rows.append(supernet_step_profile(space, data))
    return rows


def supernet_step_profile(space, data) -> dict:
    """Where a training step of batch 64 goes: operator count and the share of time spent
    inside convolution kernels (torch.profiler), against the step's arithmetic."""
    from torch.profiler import ProfilerActivity, profile

    from supernet.factory import build_supernet
    from supernet.samplers import UniformSampler

    net = build_supernet(space, random_state=0).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    sampler = UniformSampler(space, 0)
    x, y = data.tensors[0][:64], data.tensors[1][:64]  # [64, 1, 8, 8], [64]

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(x, sampler.sample()[0]), y)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    steps = 20
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    conv = sum(e.self_cpu_time_total for e in events if "conv" in e.key.lower())
    ops = sum(e.count for e in events if e.key.startswith("aten::"))
    step_us = median_time(step, 20) * 1e6
    return dict(loop="supernet training step profile (batch 64)", variant="torch.profiler",
                work_per_item=f"{ops / steps:,.0f} aten ops per step",
                rate=f"{step_us:,.0f} us per step = {step_us / (ops / steps):.1f} us per op",
                share_of_limit=conv / total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, smoke run")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure")
    args = parser.parse_args()
    lim = limits(args.quick, args.repeats)
    print(f"limits: torch.mm {lim['mm_gflops']:.1f} GFLOP/s, copy {lim['copy_gbs']:.1f} GB/s "
          f"({torch.get_num_threads()} threads)")
    rows = neural_prediction(args.quick, args.repeats, lim["mm_gflops"])
    rows += space_gcn_propagation(args.quick, args.repeats, lim["copy_gbs"])
    rows += supernet_training(args.quick, lim["mm_gflops"])
    for r in rows:
        what = ("of the time in convolution kernels" if "profile" in r["loop"]
                else "of the limit")
        print(f"{r['loop']} [{r['variant']}]: {r['work_per_item']}, {r['rate']}, "
              f"{100 * r['share_of_limit']:.1f}% {what}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("throughput_quick.json" if args.quick else "throughput.json")
    out.write_text(json.dumps(dict(threads=torch.get_num_threads(), limits=lim, rows=rows),
                              indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Neural predictor (Wen et al., ECCV 2020) against its baselines, on real benchmark tables.

Sections (each compares against its baseline in the same run):
  1. NB201 CIFAR-10 (200-epoch test acc): Kendall tau on all untrained cells vs N, neural vs
     ridge vs random forest on one-hot encodings (mean over seeds) + a plot of tau vs N;
  2. NB101 (1,000 cells, 108-epoch validation acc, in %): single vs two-stage (threshold 91%),
     MSE on all test cells and on those >= 91%, Kendall tau, false-negative rate;
  3. NAS-Bench-Macro: tau at N = 50 and 200 (neural vs ridge vs random forest);
  4. search on NB201 with N + K = 200 evaluations vs random search with the same budget;
  5. speed: fit time at N = 172, prediction throughput on 100,000 FairNAS architectures,
     the sparse message-passing model vs a dense-adjacency implementation of the same weights.

Usage: OMP_NUM_THREADS=1 python bench/bench_neural_predictor.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from archgraph.datasets.benchmarks import load_macro, load_nasbench101, load_nasbench201
from archgraph.evaluators import TableEvaluator
from archgraph.metrics import kendall_tau
from archgraph.predictors import (NeuralPredictor, RandomForestPredictor, RidgePredictor,
                                  TwoStagePredictor)
from archgraph.search import predictor_search, random_search
from archgraph.spaces import get_search_space

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = {"neural": NeuralPredictor, "ridge": RidgePredictor,
          "random forest": RandomForestPredictor}


def _model(name, space, seed):
    cls = MODELS[name]
    return cls(space=space) if cls is RidgePredictor else cls(space=space, random_state=seed)


def tau_vs_n(space, archs, y, ns, seeds):
    """{method: {N: (mean tau, [taus]), ...}}, fit times of the neural predictor."""
    out = {m: {} for m in MODELS}
    fit_s = {}
    for n in ns:
        for m in MODELS:
            taus = []
            for seed in range(seeds):
                perm = np.random.default_rng(seed).permutation(len(archs))
                tr, te = perm[:n], perm[n:]
                t = time.perf_counter()
                model = _model(m, space, seed).fit([archs[i] for i in tr], y[tr])
                if m == "neural":
                    fit_s.setdefault(n, []).append(time.perf_counter() - t)
                taus.append(kendall_tau(y[te], model.predict([archs[i] for i in te])))
            out[m][n] = (float(np.mean(taus)), [round(float(t), 4) for t in taus])
            print(f"  N={n:4d} {m:14s} tau {np.mean(taus):.3f}", flush=True)
    return out, {n: float(np.median(v)) for n, v in fit_s.items()}


def table_tau(title, res, ns, fit_s=None):
    head = "| method | " + " | ".join(f"N={n}" for n in ns) + " |"
    lines = [f"**{title}** (Kendall tau on every architecture not trained on, mean of seeds)",
             "", head, "|---" * (len(ns) + 1) + "|"]
    for m, r in res.items():
        lines.append(f"| {m} | " + " | ".join(f"{r[n][0]:.3f}" for n in ns) + " |")
    if fit_s:
        lines.append("| neural fit time (s, median) | "
                     + " | ".join(f"{fit_s[n]:.1f}" for n in ns) + " |")
    return "\n".join(lines)


def bench_nb201(ns, seeds, suffix=""):
    space = get_search_space("nasbench201")
    df = load_nasbench201()
    archs = [space.from_str(s) for s in df["arch"]]
    y = df["cifar10_test_200"].to_numpy()
    res, fit_s = tau_vs_n(space, archs, y, ns, seeds)
    plot_tau_vs_n(res, ns, suffix)
    return res, fit_s


def plot_tau_vs_n(res, ns, suffix=""):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for m, r in res.items():
        ax.plot(ns, [r[n][0] for n in ns], marker="o", label=m)
    ax.set(xscale="log", xlabel="N training architectures", ylabel="Kendall tau",
           title="NAS-Bench-201 CIFAR-10: tau on all other cells")
    ax.minorticks_off()
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(RESULTS / f"neural_predictor_tau_vs_n{suffix}.png", dpi=120)


def bench_nb101(seeds, n_train=172, threshold=91.0):
    space = get_search_space("nasbench101")
    df = load_nasbench101()
    archs = list(df["arch"])
    y = df["valid_acc_108"].to_numpy() * 100.0  # fraction -> %
    rows = {"single-stage": [], "two-stage": []}
    for seed in range(seeds):
        perm = np.random.default_rng(seed).permutation(len(archs))
        tr, te = perm[:n_train], perm[n_train:]
        a_tr, a_te = [archs[i] for i in tr], [archs[i] for i in te]
        good = y[te] >= threshold
        for name, model in [("single-stage", NeuralPredictor(space=space, random_state=seed)),
                            ("two-stage", TwoStagePredictor(space=space, threshold=threshold,
                                                            random_state=seed))]:
            t = time.perf_counter()
            model.fit(a_tr, y[tr])
            fit = time.perf_counter() - t
            p = model.predict(a_te)
            fnr, mse_acc = np.nan, np.nan
            if name == "two-stage":
                fnr = model.false_negative_rate(a_te, y[te])
                ok = good & (model.accept_proba(a_te) >= 0.5)  # what the regressor ranks
                mse_acc = np.mean((p[ok] - y[te][ok]) ** 2)
            rows[name].append([np.mean((p - y[te]) ** 2), np.mean((p[good] - y[te][good]) ** 2),
                               mse_acc, kendall_tau(y[te], p), fnr, fit])
            print(f"  seed {seed} {name:12s} mse {rows[name][-1][0]:.2f} "
                  f"mse>=91 {rows[name][-1][1]:.2f} tau {rows[name][-1][3]:.3f}", flush=True)
    return {k: np.mean(np.asarray(v), axis=0).tolist() for k, v in rows.items()}, \
        float(np.mean(y >= threshold))


def bench_macro(ns, seeds):
    space = get_search_space("macro")
    df = load_macro()
    archs = [space.from_str(s) for s in df["arch"]]
    return tau_vs_n(space, archs, df["mean_acc"].to_numpy(), ns, seeds)[0]


def bench_search(runs, n_train, k_top):
    space = get_search_space("nasbench201")
    found, rand = [], []
    for r in range(runs):
        ev = TableEvaluator.from_benchmark("nasbench201")
        res = predictor_search(space, ev, NeuralPredictor(space=space), n_train, k_top,
                               random_state=r)
        found.append(ev.true_accuracy([res.arch])[0])
        ev = TableEvaluator.from_benchmark("nasbench201")
        rand.append(random_search(space, ev, n_train + k_top, random_state=r).accuracy)
        print(f"  run {r}: predictor {found[-1]:.2f}  random {rand[-1]:.2f}", flush=True)
    return found, rand


@torch.no_grad()
def dense_predict(model: NeuralPredictor, archs, chunk=4096) -> np.ndarray:
    """The same fitted network with dense normalized adjacencies ``[n, n]`` shared by every
    graph of a chain space: each layer is two batched matmuls, no gather/scatter."""
    x0, ei, _ = model.batcher_.template
    n = x0.size(0)
    a = torch.zeros(n, n)
    a[ei[1], ei[0]] = 1.0  # a[target, source]
    a_f = a + torch.eye(n)
    a_b = a.t() + torch.eye(n)
    a_f, a_b = a_f / a_f.sum(1, keepdim=True), a_b / a_b.sum(1, keepdim=True)
    net = model.net_
    out = []
    for s in range(0, len(archs), chunk):
        part = archs[s:s + chunk]
        x, _, _ = model.batcher_.batch(part)
        h = x.view(len(part), n, -1)  # [B, n, F]
        for conv in net.convs:
            h = (0.5 * torch.relu(a_f @ conv.lin_forward(h))
                 + 0.5 * torch.relu(a_b @ conv.lin_backward(h)))  # [B, n, hidden]
        g = h.mean(1)  # [B, hidden]
        for fc in net.fcs:
            g = torch.relu(fc(g))
        out.append(net.out(g).squeeze(-1))
    z = torch.cat(out).numpy().astype(np.float64)
    return model.y_mean_ + model.y_std_ * z


def bench_speed(n_archs, repeats, fit_repeats=1):
    space = get_search_space("fairnas")
    rng = np.random.default_rng(0)
    train = space.sample(172, rng)
    y = 70 + space.features(train) @ rng.normal(size=space.features(train).shape[1])
    fits = []
    for r in range(fit_repeats):
        t = time.perf_counter()
        model = NeuralPredictor(space=space, random_state=r).fit(train, y)
        fits.append(time.perf_counter() - t)
    archs = space.sample(n_archs, rng)
    t_sparse, t_dense = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        p_sparse = model.predict(archs)
        t_sparse.append(time.perf_counter() - t)
        t = time.perf_counter()
        p_dense = dense_predict(model, archs)
        t_dense.append(time.perf_counter() - t)
    t = time.perf_counter()
    x, ei, batch = model.batcher_.batch(archs[:4096])
    build = (time.perf_counter() - t) * n_archs / 4096
    return dict(fit_s=float(np.median(fits)), sparse_s=float(np.median(t_sparse)),
                dense_s=float(np.median(t_dense)), build_s=float(build),
                max_abs_diff=float(np.abs(p_sparse - p_dense).max()), n=n_archs,
                nodes=int(x.size(0) // 4096), edges=int(ei.size(1) // 4096))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer seeds and sizes")
    args = ap.parse_args()
    q = args.quick
    seeds = 1 if q else 5
    ns = [50, 100] if q else [50, 100, 200, 500]
    report, out = [], {}

    print("NB201 tau vs N", flush=True)
    t = time.perf_counter()
    res, fit_s = bench_nb201(ns, seeds, "_quick" if q else "")
    out["nb201"] = {"tau": res, "fit_s": fit_s}
    report.append(table_tau("NAS-Bench-201 CIFAR-10 (test acc, 200 epochs)", res, ns, fit_s))
    print(f"  ({time.perf_counter() - t:.0f} s)", flush=True)

    print("NB101 single vs two-stage", flush=True)
    nb101, frac_good = bench_nb101(1 if q else 5)
    out["nb101"] = nb101
    lines = ["**NAS-Bench-101** (1,000 cells, 108-epoch validation acc in %; train 172, test "
             f"828; {frac_good:.0%} of all cells are >= 91%; mean of {1 if q else 5} splits)",
             "",
             "| model | MSE all | MSE >= 91% | MSE >= 91%, accepted only | Kendall tau | "
             "false-negative rate | fit (s) |", "|---|---|---|---|---|---|---|"]
    for k, v in nb101.items():
        mse_acc, fnr = ("-", "-") if np.isnan(v[4]) else (f"{v[2]:.2f}", f"{v[4]:.3f}")
        lines.append(f"| {k} | {v[0]:.2f} | {v[1]:.2f} | {mse_acc} | {v[3]:.3f} | {fnr} | "
                     f"{v[5]:.1f} |")
    report.append("\n".join(lines))

    print("NAS-Bench-Macro", flush=True)
    macro_ns = [50, 200]
    macro = bench_macro(macro_ns, seeds)
    out["macro"] = macro
    report.append(table_tau("NAS-Bench-Macro (CIFAR-10 mean acc)", macro, macro_ns))

    print("NB201 search", flush=True)
    runs = 2 if q else 20
    n_train, k_top = 150, 50
    found, rand = bench_search(runs, n_train, k_top)
    out["search"] = {"predictor": found, "random": rand}
    report.append("\n".join([
        f"**Search on NAS-Bench-201 CIFAR-10**, {n_train + k_top} evaluations "
        f"(N={n_train} random + K={k_top} predicted best), test acc of the found cell over "
        f"{runs} runs (oracle 94.37)", "",
        "| method | mean | median | min |", "|---|---|---|---|",
        f"| neural predictor search | {np.mean(found):.2f} | {np.median(found):.2f} | "
        f"{np.min(found):.2f} |",
        f"| random search | {np.mean(rand):.2f} | {np.median(rand):.2f} | {np.min(rand):.2f} |"]))

    print("speed", flush=True)
    sp = bench_speed(10_000 if q else 100_000, repeats=1 if q else 3)
    out["speed"] = sp
    report.append("\n".join([
        f"**Speed** (FairNAS, {sp['nodes']} nodes / {sp['edges']} edges per graph; median of "
        "repeats)", "",
        "| quantity | value |", "|---|---|",
        f"| fit, N=172, default hyperparameters (300 epochs) | {sp['fit_s']:.1f} s |",
        f"| predict {sp['n']:,} archs, sparse message passing (NeuralPredictor.predict) | "
        f"{sp['sparse_s']:.2f} s = {sp['n'] / sp['sparse_s']:,.0f} archs/s |",
        f"| predict {sp['n']:,} archs, dense adjacency, same weights | {sp['dense_s']:.2f} s = "
        f"{sp['n'] / sp['dense_s']:,.0f} archs/s |",
        f"| of which building the graphs from the choice matrix | {sp['build_s']:.2f} s |",
        f"| dense / sparse speed-up | {sp['sparse_s'] / sp['dense_s']:.2f}x |",
        f"| max abs difference of the predictions | {sp['max_abs_diff']:.1e} |"]))

    text = "\n\n".join(report)
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    name = "neural_predictor_quick.json" if q else "neural_predictor.json"
    (RESULTS / name).write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()

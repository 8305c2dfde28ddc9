"""Neural predictor (Wen et al., ECCV 2020) against its baselines, on real benchmark tables.

Sections (each compares against its baseline in the same run):
  1. NB201 CIFAR-10 (200-epoch test acc): Kendall tau on all untrained cells vs N, neural vs
     the neural predictor corrected and smoothed over the space graph (Correct & Smooth),
     ridge, random forest, XGBoost and a Gaussian process on one-hot encodings (mean over
     seeds, median fit time of every method) + a plot of tau vs N;
  2. NB101 (1,000 cells, 108-epoch validation acc, in %): single vs two-stage (threshold 91%),
     MSE on all test cells and on those >= 91%, Kendall tau, false-negative rate;
  3. NAS-Bench-Macro: tau at N = 50 and 200 (the same methods);
  4. search on NB201 with N + K = 200 evaluations vs random search with the same budget;
  5. speed: fit time at N = 172, prediction throughput on 100,000 FairNAS architectures,
     sparse message passing vs the dense-adjacency form of the same model (fit and
     prediction; ``predict`` takes the dense form in chain spaces), and a profile of one
     layer's steps;
  6. defaults: the default optimizer settings vs the alternative they were chosen over.

Usage: OMP_NUM_THREADS=1 python bench/bench_neural_predictor.py [--quick] [--only SECTION ...]
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
from archgraph.nn.conv import BiDAGConv
from archgraph.predictors import (
    CorrectSmoothPredictor,
    GaussianProcessPredictor,
    NeuralPredictor,
    RandomForestPredictor,
    RidgePredictor,
    TwoStagePredictor,
    XGBoostPredictor,
)
from archgraph.predictors.neural import build_net, net_params, predict_graph_net
from archgraph.search import predictor_search, random_search
from archgraph.spaces import get_search_space

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ["nb201", "nb101", "macro", "search", "speed", "defaults"]


def neural_correct_smooth(space, random_state):
    """The neural predictor's whole-space predictions corrected and smoothed over the
    space's Hamming-1 graph, the amounts by 5-fold CV inside ``fit`` (6 neural fits)."""
    return CorrectSmoothPredictor(space, base=NeuralPredictor(space, random_state=random_state),
                                  random_state=random_state)


MODELS = {"neural": NeuralPredictor, "neural + C&S": neural_correct_smooth,
          "ridge": RidgePredictor, "random forest": RandomForestPredictor,
          "xgboost": XGBoostPredictor, "gp": GaussianProcessPredictor}


def _model(name, space, seed):
    cls = MODELS[name]
    return cls(space=space) if cls is RidgePredictor else cls(space=space, random_state=seed)


def tau_vs_n(space, archs, y, ns, seeds):
    """{method: {N: (mean tau, [taus]), ...}} and {method: {N: median fit seconds}}; every
    method is fitted on the same splits (one per seed)."""
    out = {m: {} for m in MODELS}
    fit_s = {m: {} for m in MODELS}
    for n in ns:
        for m in MODELS:
            taus, secs = [], []
            for seed in range(seeds):
                perm = np.random.default_rng(seed).permutation(len(archs))
                tr, te = perm[:n], perm[n:]
                t = time.perf_counter()
                model = _model(m, space, seed).fit([archs[i] for i in tr], y[tr])
                secs.append(time.perf_counter() - t)
                taus.append(kendall_tau(y[te], model.predict([archs[i] for i in te])))
            out[m][n] = (float(np.mean(taus)), [round(float(t), 4) for t in taus])
            fit_s[m][n] = float(np.median(secs))
            print(f"  N={n:4d} {m:14s} tau {np.mean(taus):.3f}  fit {fit_s[m][n]:.2f} s",
                  flush=True)
    return out, fit_s


def table_tau(title, res, ns, fit_s):
    head = "| method | " + " | ".join(f"N={n}" for n in ns) + " |"
    lines = [f"**{title}** (Kendall tau on every architecture not trained on, mean of seeds)",
             "", head, "|---" * (len(ns) + 1) + "|"]
    for m, r in res.items():
        lines.append(f"| {m} | " + " | ".join(f"{r[n][0]:.3f}" for n in ns) + " |")
    for m, r in fit_s.items():
        lines.append(f"| {m} fit time (s, median) | "
                     + " | ".join(f"{r[n]:.2f}" for n in ns) + " |")
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
    return tau_vs_n(space, archs, df["mean_acc"].to_numpy(), ns, seeds)


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


def _adjacency(model: NeuralPredictor) -> list[torch.Tensor]:
    x0, ei, _ = model.batcher_.template  # the one topology of every chain-space graph
    return list(BiDAGConv.dense_adjacency(ei, x0.size(0)))


def sparse_predict(model: NeuralPredictor, archs) -> np.ndarray:
    """``model``'s predictions with sparse message passing (PyG gather / scatter-mean)."""
    z = predict_graph_net(model.net_, model.batcher_, archs, model.device_, dense=False)
    return model.y_mean_ + model.y_std_ * z


def dense_fit_seconds(model: NeuralPredictor, archs, y) -> float:
    """Time of the same training as ``NeuralPredictor.fit`` (fresh network, Adam, one full
    batch, ``epochs`` steps, MSE on standardized targets) with the dense forward pass."""
    p = net_params(model)
    assert len(archs) <= p["batch_size"]  # one full batch, as fit does for N <= batch_size
    t = time.perf_counter()
    net = build_net(model.space, p, None, 0)
    adj = _adjacency(model)
    x = model.batcher_.dense_features(archs)  # [N, nodes, F]
    target = torch.as_tensor((y - y.mean()) / y.std(), dtype=torch.float32)
    opt = torch.optim.Adam(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
    net.train()
    for _ in range(p["epochs"]):
        opt.zero_grad()
        loss = torch.mean((net.forward_dense(x, *adj) - target) ** 2)
        loss.backward()
        opt.step()
    return time.perf_counter() - t


@torch.no_grad()
def profile_layer(model: NeuralPredictor, archs, repeats: int) -> dict:
    """Seconds (median) of one direction of a hidden GCN layer (144 -> 144) on ``archs``: the
    linear map, the sparse aggregation (self-loops, gather, scatter-mean) and the dense one."""
    from torch_geometric.utils import add_self_loops

    first, conv = model.net_.convs[0], model.net_.convs[1]
    x, ei, _ = model.batcher_.batch(archs)
    h_in = first(x, ei)  # [nodes, 144]: a hidden layer's real input
    a_f = _adjacency(model)[0]
    h = conv.lin_forward(h_in)
    hd = h.view(len(archs), a_f.size(0), -1)
    loops = add_self_loops(ei, num_nodes=x.size(0))[0]

    def timed(fn):
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return float(np.median(ts))

    return dict(n=len(archs), linear_s=timed(lambda: conv.lin_forward(h_in)),
                sparse_s=timed(lambda: conv.propagate(loops, x=h)),
                dense_s=timed(lambda: a_f @ hd))


def bench_speed(n_archs, repeats, fit_repeats=1):
    space = get_search_space("fairnas")
    rng = np.random.default_rng(0)
    train = space.sample(172, rng)
    y = 70 + space.features(train) @ rng.normal(size=space.features(train).shape[1])
    fits, full_fits, dense_fits = [], [], []
    for r in range(fit_repeats):
        t = time.perf_counter()
        model = NeuralPredictor(space=space, random_state=r).fit(train, y)  # 2 batches/epoch
        fits.append(time.perf_counter() - t)
        t = time.perf_counter()
        full = NeuralPredictor(space=space, batch_size=172, random_state=r).fit(train, y)
        full_fits.append(time.perf_counter() - t)
        dense_fits.append(dense_fit_seconds(full, train, y))
    archs = space.sample(n_archs, rng)
    t_sparse, t_dense = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        p_sparse = sparse_predict(model, archs)
        t_sparse.append(time.perf_counter() - t)
        t = time.perf_counter()
        p_dense = model.predict(archs)  # chain space: the dense path
        t_dense.append(time.perf_counter() - t)
    t = time.perf_counter()
    x, ei, batch = model.batcher_.batch(archs[:4096])
    build = (time.perf_counter() - t) * n_archs / 4096
    return dict(fit_s=float(np.median(fits)), full_fit_s=float(np.median(full_fits)),
                dense_fit_s=float(np.median(dense_fits)),
                sparse_s=float(np.median(t_sparse)),
                dense_s=float(np.median(t_dense)), build_s=float(build),
                max_abs_diff=float(np.abs(p_sparse - p_dense).max()), n=n_archs,
                nodes=int(x.size(0) // 4096), edges=int(ei.size(1) // 4096),
                profile=profile_layer(model, archs[:8192], max(3, repeats)))


def bench_defaults(seeds, n=100):
    """The default optimizer settings (lr 3e-3, batch 128: one full batch at N = 100) against
    the alternative they were picked over (lr 1e-3, batch 32), NB201 tau on the other cells."""
    space = get_search_space("nasbench201")
    df = load_nasbench201()
    archs = [space.from_str(s) for s in df["arch"]]
    y = df["cifar10_test_200"].to_numpy()
    out = {}
    for name, kw in [("lr 3e-3, batch 128 (default)", {}),
                     ("lr 1e-3, batch 32", dict(lr=1e-3, batch_size=32))]:
        taus, secs = [], []
        for seed in range(seeds):
            perm = np.random.default_rng(seed).permutation(len(archs))
            tr, te = perm[:n], perm[n:]
            t = time.perf_counter()
            model = NeuralPredictor(space=space, random_state=seed, **kw)
            model.fit([archs[i] for i in tr], y[tr])
            secs.append(time.perf_counter() - t)
            taus.append(kendall_tau(y[te], model.predict([archs[i] for i in te])))
        out[name] = dict(tau=float(np.mean(taus)), taus=[round(float(v), 4) for v in taus],
                         fit_s=float(np.median(secs)))
        print(f"  {name}: tau {np.mean(taus):.3f}, fit {np.median(secs):.1f} s", flush=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: fewer seeds and sizes")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS,
                    help="run only these sections (default: all)")
    args = ap.parse_args()
    q = args.quick
    only = set(args.only)
    seeds = 1 if q else 5
    ns = [50, 100] if q else [50, 100, 200, 500]
    report, out = [], {}

    if "nb201" in only:
        print("NB201 tau vs N", flush=True)
        t = time.perf_counter()
        res, fit_s = bench_nb201(ns, seeds, "_quick" if q else "")
        out["nb201"] = {"tau": res, "fit_s": fit_s}
        report.append(table_tau("NAS-Bench-201 CIFAR-10 (test acc, 200 epochs)", res, ns,
                                fit_s))
        print(f"  ({time.perf_counter() - t:.0f} s)", flush=True)

    if "nb101" in only:
        print("NB101 single vs two-stage", flush=True)
        nb101, frac_good = bench_nb101(1 if q else 5)
        out["nb101"] = nb101
        lines = ["**NAS-Bench-101** (1,000 cells, 108-epoch validation acc in %; train 172, "
                 f"test 828; {frac_good:.0%} of all cells are >= 91%; mean of "
                 f"{1 if q else 5} splits)", "",
                 "| model | MSE all | MSE >= 91% | MSE >= 91%, accepted only | Kendall tau | "
                 "false-negative rate | fit (s) |", "|---|---|---|---|---|---|---|"]
        for k, v in nb101.items():
            mse_acc, fnr = ("-", "-") if np.isnan(v[4]) else (f"{v[2]:.2f}", f"{v[4]:.3f}")
            lines.append(f"| {k} | {v[0]:.2f} | {v[1]:.2f} | {mse_acc} | {v[3]:.3f} | {fnr} | "
                         f"{v[5]:.1f} |")
        report.append("\n".join(lines))

    if "macro" in only:
        print("NAS-Bench-Macro", flush=True)
        macro_ns = [50, 200]
        macro, macro_fit_s = bench_macro(macro_ns, seeds)
        out["macro"] = {"tau": macro, "fit_s": macro_fit_s}
        report.append(table_tau("NAS-Bench-Macro (CIFAR-10 mean acc)", macro, macro_ns,
                                macro_fit_s))

    if "search" in only:
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
            f"| random search | {np.mean(rand):.2f} | {np.median(rand):.2f} | "
            f"{np.min(rand):.2f} |"]))

    if "speed" in only:
        print("speed", flush=True)
        sp = bench_speed(10_000 if q else 100_000, repeats=1 if q else 3)
        out["speed"] = sp
        pr = sp["profile"]
        report.append("\n".join([
            f"**Speed** (FairNAS, {sp['nodes']} nodes / {sp['edges']} edges per graph; median "
            "of repeats)", "",
            "| quantity | value |", "|---|---|",
            f"| fit, N=172, default hyperparameters (300 epochs, 2 batches/epoch) | "
            f"{sp['fit_s']:.1f} s |",
            f"| fit, N=172, one full batch, sparse message passing | {sp['full_fit_s']:.1f} s |",
            f"| fit, N=172, one full batch, dense adjacency | {sp['dense_fit_s']:.1f} s |",
            f"| predict {sp['n']:,} archs, sparse message passing | "
            f"{sp['sparse_s']:.2f} s = {sp['n'] / sp['sparse_s']:,.0f} archs/s |",
            f"| predict {sp['n']:,} archs, dense adjacency (NeuralPredictor.predict) | "
            f"{sp['dense_s']:.2f} s = {sp['n'] / sp['dense_s']:,.0f} archs/s |",
            f"| of which building the graphs from the choice matrix | {sp['build_s']:.2f} s |",
            f"| dense / sparse speed-up: fit / predict | "
            f"{sp['full_fit_s'] / sp['dense_fit_s']:.2f}x / "
            f"{sp['sparse_s'] / sp['dense_s']:.2f}x |",
            f"| max abs difference of the predictions | {sp['max_abs_diff']:.1e} |", "",
            f"One direction of a hidden layer on {pr['n']:,} graphs: linear map "
            f"{pr['linear_s']:.3f} s, sparse aggregation {pr['sparse_s']:.3f} s, dense "
            f"aggregation {pr['dense_s']:.3f} s."]))

    if "defaults" in only:
        print("default optimizer settings", flush=True)
        d = bench_defaults(2 if q else 5)
        out["defaults"] = d
        report.append("\n".join(
            ["**Default optimizer settings**, NB201, N=100, Kendall tau on the other cells "
             f"(mean of {2 if q else 5} seeds)", "", "| settings | tau | fit (s, median) |",
             "|---|---|---|"]
            + [f"| {k} | {v['tau']:.3f} | {v['fit_s']:.1f} |" for k, v in d.items()]))

    text = "\n\n".join(report)
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    name = "neural_predictor" + ("_quick" if q else "") + (
        "" if only == set(SECTIONS) else "_" + "_".join(sorted(only))) + ".json"
    (RESULTS / name).write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()

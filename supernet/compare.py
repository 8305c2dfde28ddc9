r"""Compare supernet variants against a stand-alone ground truth at equal training budget.

A *variant* is a callable ``variant(space, train_data, epochs, seed) -> supernet`` that builds
and trains a supernet (any :class:`~supernet.SuperNet`, a split one included) within a budget
of ``epochs`` passes over ``train_data`` in total: a plain supernet trains ``epochs`` epochs; a
split one divides them between its warm-up and its sub-supernets (each epoch of a sub-supernet
is one pass over the data, so every variant draws the same number of images). Every variant is
scored the same way: each architecture of the ground truth is evaluated under the variant's
shared weights (:class:`~supernet.SupernetEvaluator`, with BatchNorm recalibration), and the
estimates are ranked against the ground truth's mean accuracy:

- Kendall tau and Spearman rho over the space, Kendall tau within FLOPs quartiles,
  precision at the top 10%;
- the improvement curve of Laube & Zell (:func:`archgraph.metrics.improvement_curve`) down to
  10 remaining architectures;
- self-consistency: Kendall / Pearson / Spearman between the estimates of two seeds;
- training and evaluation time, parameters, and peak memory of the process that trained it.

Next to every figure stands the ground truth's own *noise ceiling*: how well one of its seeds
ranks the mean of the others (:meth:`GroundTruth.noise_ceiling`). No estimate of a noisy truth
is expected to score above it.

The variants: :func:`uniform` (SPOS) and :func:`strict_fair` (FairNAS), and the inter-choice
dependent weights of Laube & Zell (:mod:`supernet.interchoice`) on uniform or strict-fair
sampling: :func:`bias` (bias weights of depth 1-3, joint or shared) and :func:`split_weights`
(split at a share of training), each fixed with ``functools.partial``. Their paper's BatchNorm
recalibration is ``recal_batches=20, reset_bn=False``. DCNAS (Pan et al., CVPR 2022,
:mod:`supernet.dcnas`): :func:`dcnas` and its ablation :func:`random_assignment`.

>>> truth = load_groundtruth()                       # data/digits5v2_groundtruth.csv
>>> result = compare_supernets({"uniform": uniform, "strict-fair": strict_fair}, truth,
...                            load_perturbed_digits("train"), load_perturbed_digits("val"))
>>> result.summary()
"""
from __future__ import annotations

import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import combinations
from multiprocessing import get_context
from numbers import Real
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from archgraph.metrics import (
    improvement_curve,
    kendall_tau,
    kendall_tau_within_bins,
    pearson_r,
    precision_at_k,
    spearman_rho,
)
from archgraph.spaces import ProductSpace, Subspace, get_search_space
from archgraph.utils.validation import check_int, check_one_of

#: the shipped ground truth v2 (``bench/build_digits5v2_groundtruth.py``)
GROUNDTRUTH = Path(__file__).resolve().parents[1] / "data" / "digits5v2_groundtruth.csv"


@dataclass(frozen=True)
class GroundTruth:
    """Stand-alone accuracies of every architecture of a space, with one column per seed.

    Attributes:
        space: the search space.
        archs: its architectures, in table order.
        seeds: ``[n, S]`` accuracies (%) of each seed.
        flops: ``[n]`` multiply-accumulates of the cost model.
    """

    space: object
    archs: list
    seeds: np.ndarray
    flops: np.ndarray

    @property
    def accuracy(self) -> np.ndarray:
        """``[n]`` mean accuracy over the seeds: the truth every estimate is ranked against."""
        return self.seeds.mean(axis=1)

    def noise_ceiling(self, bins: int = 4) -> dict[str, float]:
        """How well one seed ranks the mean of the others (averaged over seeds), in the
        metrics of :func:`ranking_report`: the best an estimate can be expected to score."""
        reports = [ranking_report(self.seeds[:, s], np.delete(self.seeds, s, 1).mean(axis=1),
                                  self.flops, bins=bins)
                   for s in range(self.seeds.shape[1])]
        return {k: float(np.mean([r[k] for r in reports])) for k in reports[0]}

    def restrict(self, space: ProductSpace) -> "GroundTruth":
        """The ground truth of the architectures inside ``space`` (a subspace of its space,
        e.g. :func:`drop_options`), in table order; variants compared on it train on
        ``space`` only."""
        if not isinstance(space, ProductSpace):
            raise TypeError(f"The 'space' parameter of GroundTruth.restrict must be a subspace "
                            f"of the {self.space.name!r} space. Got {type(space).__name__} "
                            f"instead.")
        if space.root.name != self.space.name:
            raise ValueError(f"The 'space' parameter of GroundTruth.restrict must be a subspace "
                             f"of the {self.space.name!r} space. Got {space.name!r} instead.")
        inside = np.array([_inside(space, a) for a in self.archs])
        if not inside.any():
            raise ValueError("The 'space' parameter of GroundTruth.restrict holds none of the "
                             "ground truth's architectures.")
        return GroundTruth(space, [a for a, k in zip(self.archs, inside) if k],
                           self.seeds[inside], self.flops[inside])

    def seed_agreement(self, bins: int = 4) -> dict[str, float]:
        """Mean pairwise Kendall tau between seeds, over the space and within FLOPs bins."""
        pairs = list(combinations(range(self.seeds.shape[1]), 2))
        return dict(
            kendall=float(np.mean([kendall_tau(self.seeds[:, a], self.seeds[:, b])
                                   for a, b in pairs])),
            kendall_within_flops_bins=float(np.mean([kendall_tau_within_bins(
                self.seeds[:, a], self.seeds[:, b], self.flops, bins) for a, b in pairs])))


def _inside(space: ProductSpace, arch) -> bool:
    try:
        space.validate(arch)
    except ValueError:
        return False
    return True


def drop_options(space: ProductSpace, ops: Sequence[str] = ("identity",)) -> Subspace:
    """The subspace of ``space`` (a root space) without the options named ``ops`` in any
    layer: ``drop_options(space)`` is Laube & Zell's "only convolutions" setting, where the
    cheap identity option, which needs no weights of its own, is gone."""
    ops = [ops] if isinstance(ops, str) else list(ops)
    keep = [[c for c, op in enumerate(options) if op not in ops] for options in space.options]
    if not all(keep):
        bad = next(l for l, k in enumerate(keep) if not k)
        raise ValueError(f"The 'ops' parameter of drop_options would leave layer {bad} of "
                         f"{space.name!r} without options (it has {list(space.options[bad])}). "
                         f"Got {ops}.")
    base = space.decode(np.array([[k[0] for k in keep]]))[0]
    return Subspace(space, base, [((l,), [(c,) for c in k]) for l, k in enumerate(keep)],
                    names=list(space.layer_names),
                    option_names=[[space.options[l][c] for c in k] for l, k in enumerate(keep)])


def load_groundtruth(path=None) -> GroundTruth:
    """Read and validate a ground-truth table (default: the shipped ground truth v2).

    The table needs ``arch``, ``flops`` and at least two ``acc_seed*`` columns; its JSON
    sidecar (same name, ``.json``) names the space. Every architecture must parse and appear
    once, every accuracy must be a finite percentage; otherwise ``ValueError`` names the file,
    the row and the problem.
    """
    path = Path(GROUNDTRUTH if path is None else path)
    if not path.is_file() or not path.with_suffix(".json").is_file():
        raise FileNotFoundError(f"Ground truth {str(path)!r} or its sidecar "
                                f"{str(path.with_suffix('.json'))!r} does not exist; build it with "
                                f"bench/build_digits5v2_groundtruth.py.")
    try:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"{str(path.with_suffix('.json'))!r} is not a JSON file (corrupted?): "
                         f"{type(exc).__name__}: {exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("space"), str):
        raise ValueError(f"{str(path.with_suffix('.json'))!r}: expected a JSON object with a "
                         f"'space' name.")
    space = get_search_space(meta["space"])
    try:
        table = pd.read_csv(path, dtype={"arch": str})  # "00120" is a string, not 120
    except ValueError as exc:  # not text, not CSV, empty
        first = str(exc).strip().splitlines()
        raise ValueError(f"{str(path)!r} is not a CSV table (corrupted?): {type(exc).__name__}: "
                         f"{first[0] if first else ''}") from None
    cols = sorted(c for c in table.columns if c.startswith("acc_seed"))
    missing = [c for c in ("arch", "flops") if c not in table.columns]
    if missing or len(cols) < 2:
        raise ValueError(f"{str(path)!r}: expected the columns 'arch', 'flops' and at least two "
                         f"'acc_seed*'. Got {list(table.columns)}.")
    archs = []
    for row, text in enumerate(table["arch"]):
        try:
            archs.append(space.from_str(str(text)))
        except ValueError as exc:
            raise ValueError(f"{str(path)!r}, row {row}: {exc}") from None
    dup = table["arch"].duplicated()
    if dup.any():
        raise ValueError(f"{str(path)!r}, row {int(np.argmax(dup))}: architecture "
                         f"{table['arch'][dup].iloc[0]!r} appears twice.")
    seeds = table[cols].to_numpy(dtype=np.float64)                   # [n, S]
    bad = ~np.isfinite(seeds) | (seeds < 0) | (seeds > 100)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{str(path)!r}, row {row}: {cols[col]} = {seeds[row, col]!r}; "
                         f"expected a finite accuracy in [0, 100] (%).")
    flops = table["flops"].to_numpy(dtype=np.float64)
    if not np.array_equal(flops, np.asarray(space.cost("flops", archs), dtype=np.float64)):
        raise ValueError(f"{str(path)!r}: its 'flops' column disagrees with the cost model of "
                         f"the {space.name!r} space.")
    return GroundTruth(space, archs, seeds, flops)


def ranking_report(truth, estimate, flops, bins: int = 4, top: float = 0.1) -> dict[str, float]:
    """Ranking metrics of ``estimate`` against ``truth`` (both ``[n]``): ``kendall``,
    ``spearman``, ``kendall_within_flops_bins`` (``bins`` quantile bins of ``flops``),
    ``precision_at_top`` (the top ``top`` fraction)."""
    return dict(kendall=kendall_tau(truth, estimate), spearman=spearman_rho(truth, estimate),
                kendall_within_flops_bins=kendall_tau_within_bins(truth, estimate, flops, bins),
                precision_at_top=precision_at_k(truth, estimate, top))


def curve_fractions(n: int, min_remaining: int = 10, points: int = 20) -> np.ndarray:
    """Pruned fractions of the improvement curve: ``points`` remaining counts, evenly spaced on
    a log scale from all ``n`` down to ``min_remaining`` (fewer if ``n`` is smaller)."""
    return np.clip(1.0 - np.geomspace(n, min(min_remaining, n), points) / n, 0.0, 1.0)


# ---------------------------------------------------------------- the plain variants


def uniform(space, train_data: Dataset, epochs: int, seed: int, **train_kwargs):
    """Variant: single-path uniform sampling (SPOS), ``epochs`` epochs."""
    from supernet.samplers import UniformSampler

    return _train_plain(space, train_data, epochs, seed, UniformSampler, train_kwargs)


def strict_fair(space, train_data: Dataset, epochs: int, seed: int, **train_kwargs):
    """Variant: strict-fair sampling (FairNAS), ``epochs`` epochs (each step trains all
    options of every layer once on the same batch)."""
    from supernet.samplers import StrictFairSampler

    return _train_plain(space, train_data, epochs, seed, StrictFairSampler, train_kwargs)


def _train_plain(space, train_data, epochs, seed, sampler_cls, train_kwargs, config=None):
    from supernet.factory import build_supernet
    from supernet.train import train

    net = build_supernet(space, config, random_state=seed)
    train(net, train_data, epochs, sampler=sampler_cls(space, seed), random_state=seed,
          progress=False, **train_kwargs)
    return net


# ---------------------------------------------------------------- inter-choice weights


def _sampler_class(sampler: str, owner: str):
    from supernet.samplers import StrictFairSampler, UniformSampler

    classes = {"uniform": UniformSampler, "strict_fair": StrictFairSampler}
    return classes[check_one_of(sampler, "sampler", classes, owner)]


def bias(space, train_data: Dataset, epochs: int, seed: int, *, depth: int = 1,
         kind: str = "joint", sampler: str = "uniform", **train_kwargs):
    """Variant: inter-choice bias weights (Laube & Zell), ``epochs`` epochs: the published
    supernet with ``SupernetConfig(bias_weights=depth, bias=kind)`` (see
    :mod:`supernet.interchoice`), trained with ``sampler`` (``"uniform"`` or
    ``"strict_fair"``). Fix the options with ``functools.partial(bias, depth=2,
    kind="shared")``."""
    from supernet.config import BIAS_KINDS, SupernetConfig

    depth = check_int(depth, "depth", "bias", low=1, high=3)
    kind = check_one_of(kind, "kind", BIAS_KINDS, "bias")
    cls = _sampler_class(sampler, "bias")
    return _train_plain(space, train_data, epochs, seed, cls, train_kwargs,
                        SupernetConfig(bias_weights=depth, bias=kind))


def split_weights(space, train_data: Dataset, epochs: int, seed: int, *, at: float = 0.5,
                  sampler: str = "uniform", **train_kwargs):
    """Variant: inter-choice split weights (Laube & Zell, ``D = 1``): a plain supernet for
    the first ``round(at * epochs)`` epochs, then split (every option copied once per choice
    of the previous layer) for the rest of the ``epochs``; ``at`` in ``[0, 1)``.
    ``functools.partial(split_weights, at=0.7)`` splits at 70 % of training."""
    from supernet.config import SupernetConfig

    if not isinstance(at, Real) or isinstance(at, bool) or not 0 <= at < 1:
        raise ValueError(f"The 'at' parameter of split_weights must be a float in [0, 1) (the "
                         f"share of training before the split). Got {at!r} instead.")
    cls = _sampler_class(sampler, "split_weights")
    config = SupernetConfig(split_weights_epoch=round(at * epochs))
    return _train_plain(space, train_data, epochs, seed, cls, train_kwargs, config)


# ---------------------------------------------------------------- DCNAS (Pan et al.)


def dcnas(space, train_data: Dataset, epochs: int, seed: int, *, num_copies: int = 2,
          meta_interval: int = 5, meta_lr: float = 100.0, **train_kwargs):
    """Variant: distribution-consistent local weight sharing (Pan et al., CVPR 2022,
    :mod:`supernet.dcnas`) with ``num_copies`` candidate weights per option, the whole space
    as the candidate pool, and Algorithm 1's schedule over ``epochs`` passes
    (:func:`~supernet.dcnas.dcnas_schedule`: 30 -> warm-up 10, 3 per layer, fine-tuning 5).
    ``functools.partial(dcnas, num_copies=3)``."""
    from supernet import dcnas as _dcnas

    return _dcnas.dcnas(space, train_data, epochs, seed, num_copies=num_copies,
                        meta_interval=meta_interval, meta_lr=meta_lr, **train_kwargs)


def random_assignment(space, train_data: Dataset, epochs: int, seed: int, *,
                      num_copies: int = 2, **train_kwargs):
    """Variant: DCNAS's ablation, ``num_copies`` candidate weights per option with random
    assignment ids fixed from the start and single-path training (:mod:`supernet.dcnas`)."""
    from supernet import dcnas as _dcnas

    return _dcnas.random_assignment(space, train_data, epochs, seed, num_copies=num_copies,
                                    **train_kwargs)


# ---------------------------------------------------------------- the harness


@dataclass
class Comparison:
    """What :func:`compare_supernets` measured.

    Attributes:
        runs: one row per (variant, seed): the metrics of :func:`ranking_report`,
            ``train_seconds``, ``eval_seconds``, ``parameters``, ``peak_rss_mb``.
        estimates: ``{(variant, seed): [n] estimates}``.
        curves: ``{(variant, seed): [points] improvement curve}`` at :attr:`fractions`.
        fractions: the pruned fractions of the curves.
        truth: the ground truth.
    """

    runs: pd.DataFrame
    estimates: dict
    curves: dict
    fractions: np.ndarray
    truth: GroundTruth
    extra_rows: dict = field(default_factory=dict)

    def self_consistency(self) -> pd.DataFrame:
        """Per variant: mean Kendall / Pearson / Spearman between the estimates of every pair
        of seeds (Laube & Zell); NaN with a single seed."""
        rows = []
        for name in dict.fromkeys(self.runs["variant"]):
            seeds = sorted(s for v, s in self.estimates if v == name)
            pairs = [(self.estimates[name, a], self.estimates[name, b])
                     for a, b in combinations(seeds, 2)]
            rows.append(dict(variant=name, **{
                m: float(np.mean([f(a, b) for a, b in pairs])) if pairs else float("nan")
                for m, f in (("kendall", kendall_tau), ("pearson", pearson_r),
                             ("spearman", spearman_rho))}))
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """Per variant (and the ``extra_rows``, e.g. FLOPs alone, and the noise ceiling):
        mean and std over seeds of every metric, and time and memory relative to the first
        variant (the baseline)."""
        metrics = ["kendall", "spearman", "kendall_within_flops_bins", "precision_at_top"]
        g = self.runs.groupby("variant", sort=False)
        out = pd.concat([g[metrics].mean(), g[metrics].std().add_suffix("_std"),
                         g[["train_seconds", "eval_seconds", "parameters",
                            "peak_rss_mb"]].median()], axis=1)
        base = out.iloc[0]
        out["train_time_vs_first"] = out["train_seconds"] / base["train_seconds"]
        out["parameters_vs_first"] = out["parameters"] / base["parameters"]
        out["peak_rss_vs_first"] = out["peak_rss_mb"] / base["peak_rss_mb"]
        out["improvement_at_10_left"] = [np.mean([c[-1] for (v, _), c in self.curves.items()
                                                  if v == name]) for name in out.index]
        extra = pd.DataFrame.from_dict(self.extra_rows, orient="index")
        return pd.concat([out, extra]) if len(extra) else out

    def plot(self, path) -> None:
        """Improvement curves (mean +- std over seeds) against remaining architectures."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        n = len(self.truth.archs)
        remaining = np.maximum(1, np.round((1 - self.fractions) * n))
        fig, ax = plt.subplots(figsize=(6, 4))
        for name in dict.fromkeys(self.runs["variant"]):
            c = np.array([c for (v, _), c in self.curves.items() if v == name])
            ax.plot(remaining, c.mean(0), label=name)
            ax.fill_between(remaining, c.mean(0) - c.std(0), c.mean(0) + c.std(0), alpha=0.2)
        acc, flops = self.truth.accuracy, self.truth.flops
        _, cf = improvement_curve(acc, flops, self.fractions)
        ax.plot(remaining, cf, "k--", label="FLOPs alone")
        ax.set_xscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("architectures remaining (pruned by the estimate)")
        ax.set_ylabel("normalized improvement (Laube & Zell)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


def _run(name, variant, space, train_data, val_data, epochs, seed, recal_batches, reset_bn):
    """Train one (variant, seed) and estimate every architecture of its space; in a worker
    process when ``jobs`` is set. ``space`` is a registered space's name or a subspace."""
    from supernet.evaluator import SupernetEvaluator

    torch.set_num_threads(1)
    space = get_search_space(space) if isinstance(space, str) else space
    t0 = time.perf_counter()
    net = variant(space, train_data, epochs, seed)
    t1 = time.perf_counter()
    archs = list(space.enumerate())
    est = SupernetEvaluator(net, train_data, val_data, recal_batches=recal_batches,
                            reset_bn=reset_bn, random_state=seed).evaluate(archs)
    t2 = time.perf_counter()
    return dict(variant=name, seed=seed, train_seconds=t1 - t0, eval_seconds=t2 - t1,
                parameters=sum(p.numel() for p in net.parameters()),
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), dict(
                    zip((space.to_str(a) for a in archs), est.tolist()))


def _describe(variant) -> str:
    """A stable description of a variant: its function and bound keyword arguments."""
    if isinstance(variant, partial):
        args = ", ".join([*map(repr, variant.args),
                          *(f"{k}={v!r}" for k, v in sorted(variant.keywords.items()))])
        return f"{_describe(variant.func)}({args})"
    return f"{getattr(variant, '__module__', '?')}.{getattr(variant, '__qualname__', variant)}"


def _read_cache(path: Path, archs: set) -> dict:
    """Finished runs of a cache file ``{key: (row, estimates)}``; a torn last line (an
    interrupted write) is dropped, anything else malformed is refused naming the line."""
    runs = {}
    if not path.exists():
        return runs
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                continue
            raise ValueError(f"Cache file {str(path)!r}, line {i + 1}: not JSON; delete the "
                             f"file to recompute its runs.") from None
        est = rec.get("estimates") if isinstance(rec, dict) else None
        if not isinstance(est, dict) or not isinstance(rec.get("row"), dict) or not isinstance(
                rec.get("key"), str):
            raise ValueError(f"Cache file {str(path)!r}, line {i + 1}: expected an object with "
                             f"'key', 'row' and 'estimates'.")
        values = np.array(list(est.values()), dtype=np.float64)
        if set(est) != archs or not np.all(np.isfinite(values) & (values >= 0)
                                            & (values <= 100)):
            continue  # another space, or not an estimate of this one: not reused
        runs[rec["key"]] = rec["row"], est
    return runs


def compare_supernets(variants: Mapping[str, Callable], truth: GroundTruth,
                      train_data: Dataset, val_data: Dataset, *, seeds: Sequence[int] = (0, 1, 2),
                      epochs: int = 30, recal_batches: int | None = 10,
                      reset_bn: bool = True, bins: int = 4, jobs: int | None = None,
                      cache=None, progress: bool = True) -> Comparison:
    """Train every variant with every seed at the budget of ``epochs`` and rank its estimates
    of all architectures of ``truth`` against the ground truth (see the module docstring).

    Args:
        variants: ``{name: variant}``, the first one the baseline of the relative figures.
            A variant is a picklable callable ``(space, train_data, epochs, seed) ->
            supernet`` (a module-level function or a ``functools.partial`` of one).
        truth: the ground truth (:func:`load_groundtruth`), or its restriction to a
            subspace (:meth:`GroundTruth.restrict`, e.g. to :func:`drop_options`), whose
            variants then train and are ranked on that subspace only.
        train_data, val_data: the supernets' training data and the data of their estimates.
        seeds: seeds of the supernets (initialization, data order, paths).
        epochs: training budget in passes over ``train_data``.
        recal_batches: BatchNorm recalibration batches per architecture (``None``: none).
        reset_bn: reset the statistics before recalibrating (see
            :class:`~supernet.SupernetEvaluator`; Laube & Zell: 20 batches, no reset).
        bins: FLOPs quantile bins of the within-bin Kendall tau.
        jobs: worker processes (one thread each); ``None`` runs in this process (its peak
            memory is then that of this process).
        cache: path of a JSON-lines file of finished runs. Each run estimates every
            architecture of the space (not only those of ``truth``) and is appended there as
            it finishes; a run with the same variant (function and arguments), seed and
            settings is read back instead of trained again. So an interrupted comparison
            resumes, and supernets can be trained while the ground truth is still being
            measured (a partial ``truth`` ranks them; the complete one later reuses them).
        progress: progress bar over runs.

    Returns:
        a :class:`Comparison`; its ``extra_rows`` hold "FLOPs alone" and the noise ceiling.
    """
    owner = "compare_supernets"
    if not isinstance(variants, Mapping) or not variants or not all(
            callable(v) for v in variants.values()):
        raise TypeError(f"The 'variants' parameter of {owner} must be a non-empty mapping of "
                        f"names to callables. Got {variants!r} instead.")
    if not isinstance(truth, GroundTruth):
        raise TypeError(f"The 'truth' parameter of {owner} must be a GroundTruth (see "
                        f"load_groundtruth). Got {type(truth).__name__} instead.")
    seeds = [check_int(s, "seeds", owner, low=0) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"The 'seeds' parameter of {owner} must hold distinct seeds. "
                         f"Got {seeds} instead.")
    epochs = check_int(epochs, "epochs", owner, low=1)
    if jobs is not None:
        jobs = check_int(jobs, "jobs", owner, low=1)
    space = truth.space if isinstance(truth.space, Subspace) else truth.space.name
    signature = json.dumps(truth.space.signature(), sort_keys=True)
    keys = {(name, s): json.dumps([name, _describe(v), s, epochs, recal_batches, reset_bn,
                                   signature, len(train_data), len(val_data)])
            for name, v in variants.items() for s in seeds}
    cache = None if cache is None else Path(cache)
    done = {} if cache is None else _read_cache(
        cache, {truth.space.to_str(a) for a in truth.space.enumerate()})
    tasks = [(name, v, space, train_data, val_data, epochs, s, recal_batches, reset_bn)
             for name, v in variants.items() for s in seeds if keys[name, s] not in done]
    if jobs is None or not tasks:
        results = (_run(*t) for t in tasks)
    else:
        pool = ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), max_tasks_per_child=1)
        results = pool.map(_run, *zip(*tasks))
    runs = {}
    try:
        for row, est in tqdm(results, total=len(tasks), desc="supernets", disable=not progress):
            key = keys[row["variant"], row["seed"]]
            runs[key] = row, est
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                with open(cache, "a") as fh:
                    fh.write(json.dumps(dict(key=key, row=row, estimates=est)) + "\n")
    finally:
        if jobs is not None and tasks:
            pool.shutdown(cancel_futures=True)
    rows, estimates, curves = [], {}, {}
    acc = truth.accuracy
    fractions = curve_fractions(len(acc))
    names = [truth.space.to_str(a) for a in truth.archs]
    for (name, s), key in keys.items():
        row, est = runs[key] if key in runs else done[key]
        est = np.array([est[a] for a in names])                  # [n] in the truth's order
        estimates[name, s] = est
        curves[name, s] = improvement_curve(acc, est, fractions)[1]
        rows.append({**row, "variant": name, "seed": s,
                     **ranking_report(acc, est, truth.flops, bins)})
    extra = {"FLOPs alone": ranking_report(acc, truth.flops, truth.flops, bins),
             "noise ceiling (one seed vs the others)": truth.noise_ceiling(bins)}
    extra["FLOPs alone"]["improvement_at_10_left"] = improvement_curve(
        acc, truth.flops, fractions)[1][-1]
    return Comparison(pd.DataFrame(rows), estimates, curves, fractions, truth, extra)

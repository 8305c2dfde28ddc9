"""Iterative search with space GCNs and super-cells (Algorithm 1 of Chen et al., AAAI 2021).

Chen et al., "Fitting the Search Space of Weight-sharing NAS with Graph Convolutional
Networks" (https://arxiv.org/abs/2004.08423). A whole space is too large for one graph, so the
search walks through subspaces:

1. start from a default architecture (FairNAS: all ``k3_e6``; a space's ``default_arch()``);
2. in round ``t`` free a set of layers ``L_t`` disjoint from ``L_{t-1}``; the layers searched
   in round ``t-1`` (minus ``L_t``) become one *super-cell* whose options are the ``K`` best
   settings found there; every other layer keeps the current best architecture's choice;
3. sample ``M`` architectures of that subspace and evaluate them (any ``Evaluator``); fit a
   predictor (by default a :class:`~archgraph.predictors.SpaceGCNPredictor`) on them (a
   held-out part is kept for diagnostics); rank the whole subspace with it (a lookup table)
   and evaluate its top ``K_eval`` (paper: 100; under ``max_flops`` if given);
4. the ``K_keep`` (paper: 6) best of those re-evaluated architectures are the super-cell of
   the next round and the best one the round's pick; stop after ``rounds`` rounds or when
   they no longer change. The search returns the best re-evaluated architecture.

The round's candidates are the GCN's top ``K_eval`` only (``selection="gcn_top"``): the ``M``
random samples train the GCN but never compete on their raw noisy scores, the winner's curse
Chen et al. (Fig. 2) argue against. Two other selections: ``"all_evaluated"`` (the earlier
behaviour of this module: the current architecture, the previous super-cell, the GCN's top
and the samples compete) and ``"sampled"`` (no predictor: the ablation keeping the best
samples).

Each architecture is evaluated at most once (scores are cached); the budget is
``IterativeSearchResult.num_evaluations``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from sklearn.base import clone
from tqdm.auto import tqdm

from archgraph.lookup import LookupTable
from archgraph.metrics import kendall_tau
from archgraph.predictors import SpaceGCNPredictor
from archgraph.spaces import ChoiceArch, ProductSpace, Subspace
from archgraph.utils.validation import check_int, check_one_of, check_random_state


@dataclass
class SearchRound:
    """What one round of :func:`iterative_search` did and how well its GCN ranked.

    Attributes:
        layers: ``L_t``, the layers freed in this round.
        subspace: the round's subspace (super-cell factor last, if any).
        table: lookup table of the predictor's predictions over the whole subspace (``None``
            for ``selection="sampled"``).
        top_archs, top_scores: the ``K_keep`` best candidates (best first) and their
            evaluator scores; the super-cell options of the next round.
        candidates: the round's candidates (``selection``), in the order evaluated.
        tau_holdout: Kendall tau, GCN vs evaluator, on the held-out sampled architectures.
        tau_truth: Kendall tau, GCN vs the evaluator's ``true_accuracy`` over the whole
            subspace (``None`` if the evaluator has no ground truth or no GCN is fitted).
        tau_evaluator_truth: Kendall tau, evaluator vs truth, on the sampled architectures
            (the noise level the GCN works against; ``None`` without ground truth).
        num_evaluations: evaluations made so far (cumulative).
    """

    layers: tuple[int, ...]
    subspace: Subspace
    table: LookupTable | None
    top_archs: list[ChoiceArch]
    top_scores: np.ndarray
    candidates: list[ChoiceArch]
    tau_holdout: float
    tau_truth: float | None
    tau_evaluator_truth: float | None
    num_evaluations: int


@dataclass
class IterativeSearchResult:
    """Outcome of :func:`iterative_search`: the best evaluated architecture and every round."""

    arch: ChoiceArch
    score: float
    num_evaluations: int
    rounds: list[SearchRound] = field(default_factory=list)

    @property
    def tables(self) -> list[LookupTable]:
        return [r.table for r in self.rounds]


def _schedule(layers_per_round, num_layers: int, rounds: int) -> list[tuple[int, ...]]:
    owner = "iterative_search"
    if isinstance(layers_per_round, (int, np.integer)) and not isinstance(layers_per_round, bool):
        p = check_int(layers_per_round, "layers_per_round", owner, low=1, high=num_layers // 2)
        # consecutive blocks of at most p layers covering every layer (19 layers, p = 3:
        # five blocks of 3, two of 2)
        blocks = np.array_split(np.arange(num_layers), -(-num_layers // p))
        return [tuple(int(l) for l in b) for b in blocks]
    if not isinstance(layers_per_round, (list, tuple)) or not layers_per_round:
        raise TypeError(f"The 'layers_per_round' parameter of {owner} must be an int or a "
                        f"non-empty list of layer lists. Got {layers_per_round!r} instead.")
    schedule = []
    for group in layers_per_round:
        group = tuple(check_int(l, "layers_per_round", owner, 0, num_layers - 1) for l in group)
        if not group or len(set(group)) != len(group):
            raise ValueError(f"The 'layers_per_round' parameter of {owner} must list distinct "
                             f"layers per round. Got {list(group)}.")
        schedule.append(group)
    if len(schedule) == 1 and rounds > 1:
        raise ValueError(f"The 'layers_per_round' parameter of {owner} gives one group of "
                         f"layers, {list(schedule[0])}, for {rounds} rounds: each round's "
                         f"layers must be disjoint from the previous round's. Give at least "
                         f"two groups, or rounds=1.")
    for a, b in zip(schedule, schedule[1:] + schedule[:1]):
        if len(schedule) > 1 and set(a) & set(b):
            raise ValueError(f"The 'layers_per_round' parameter of {owner} must give each "
                             f"round layers disjoint from the previous round's (the schedule "
                             f"repeats). Got {list(a)} then {list(b)}.")
    return schedule


def _num_holdout(holdout: float, m: int) -> int:
    """Held-out sampled architectures of a round of ``m`` (at least 2 for a tau, and at
    least 2 left to train on; none if ``holdout == 0`` or ``m`` is too small)."""
    n = max(2, int(round(holdout * m))) if holdout > 0 else 0
    return n if m - n >= 2 else 0


def _samples_per_round(m_samples, rounds: int) -> list[int]:
    """``m_samples`` (an int, or one int per round) as a list of ``rounds`` ints >= 4."""
    owner = "iterative_search"
    if isinstance(m_samples, (list, tuple, np.ndarray)):
        if len(m_samples) != rounds:
            raise ValueError(f"The 'm_samples' parameter of {owner} must be an int or a "
                             f"sequence of one int per round (rounds={rounds}). Got "
                             f"{len(m_samples)} values instead.")
        return [check_int(m, "m_samples", owner, low=4) for m in m_samples]
    return [check_int(m_samples, "m_samples", owner, low=4)] * rounds


#: what competes in a round (module docstring)
SELECTIONS = ("gcn_top", "all_evaluated", "sampled")


def iterative_search(space: ProductSpace, evaluator, predictor=None, rounds: int = 4,
                     layers_per_round=3, m_samples: int | Sequence[int] = 100,
                     k_eval: int = 100,
                     k_keep: int = 6, selection: str = "gcn_top",
                     start: ChoiceArch | None = None, max_flops: float | None = None,
                     holdout: float = 0.2, similarity: Callable | None = None,
                     random_state=None, verbose: bool = False) -> IterativeSearchResult:
    """Search ``space`` with space GCNs over subspaces and super-cells (module docstring).

    Args:
        space: a root :class:`~archgraph.spaces.ProductSpace` (chain spaces, NAS-Bench-201).
        evaluator: an ``Evaluator`` of ``space`` (``evaluate(archs) -> accuracies``); if it has
            ``true_accuracy(archs)`` the rounds also report tau against the truth.
        predictor: an unfitted predictor with ``space=None`` (cloned, never modified): each
            round fits a clone on its subspace, seeded from ``random_state``; ``None`` =
            :class:`~archgraph.predictors.SpaceGCNPredictor` with its defaults (must be
            ``None`` for ``selection="sampled"``, which fits none).
        rounds: maximum number of rounds ``T``.
        layers_per_round: ``p`` (rounds free consecutive blocks of at most ``p`` layers
            that together cover every layer, cyclically; ``p <= L/2``) or an explicit
            schedule, a list of at least two layer lists, each disjoint from the one before
            (cyclically).
        m_samples: architectures sampled and evaluated per round (capped by the subspace):
            an int for every round, or a sequence of ``rounds`` ints, one per round (e.g. to
            spend the per-round evaluations of another search on random samples).
        k_eval: ``K_eval``, the GCN's top architectures (re-)evaluated per round (capped by
            the subspace).
        k_keep: ``K_keep``, the best candidates kept as the next round's super-cell options.
        selection: the round's candidates: ``"gcn_top"`` (Algorithm 1: the GCN's top
            ``K_eval``), ``"all_evaluated"`` (the current architecture, the previous
            super-cell, the GCN's top ``K_eval`` and the samples, by evaluator score; the
            result is then the best of everything evaluated) or ``"sampled"`` (the no-GCN
            ablation: the samples alone).
        start: the initial architecture; default ``space.default_arch()`` if the space has
            one, else option 0 everywhere.
        max_flops: only architectures with at most this many FLOPs are ranked, kept and
            returned.
        holdout: fraction of the sampled architectures kept out of the GCN's training, for
            the ``tau_holdout`` diagnostic (at least 2 of them; ``0`` keeps none and
            ``tau_holdout`` is NaN).
        similarity: a callable ``similarity(subspace)`` returning the round's per-factor
            matrices for the predictor's ``similarity`` parameter (each round has other
            factors), or ``None`` to leave the predictor's default.
        random_state: seed of the sampling and of the predictors.
        verbose: show a progress bar over rounds.
    """
    owner = "iterative_search"
    if not isinstance(space, ProductSpace) or isinstance(space, Subspace):
        raise TypeError(f"The 'space' parameter of {owner} must be a root ProductSpace (a chain "
                        f"space, NAS-Bench-201, ...). Got {type(space).__name__} instead.")
    if not callable(getattr(evaluator, "evaluate", None)):
        raise TypeError(f"The 'evaluator' parameter of {owner} must have an evaluate(archs) "
                        f"method. Got {type(evaluator).__name__} instead.")
    rounds = check_int(rounds, "rounds", owner, low=1)
    m_per_round = _samples_per_round(m_samples, rounds)
    k_eval = check_int(k_eval, "k_eval", owner, low=1)
    k_keep = check_int(k_keep, "k_keep", owner, low=1)
    check_one_of(selection, "selection", SELECTIONS, owner)
    if selection == "sampled" and predictor is not None:
        raise ValueError(f"The 'predictor' parameter of {owner} must be None for "
                         f"selection='sampled' (the ablation fits no predictor). Got "
                         f"{type(predictor).__name__}.")
    if not isinstance(holdout, numbers.Real) or isinstance(holdout, bool):
        raise TypeError(f"The 'holdout' parameter of {owner} must be a float in [0, 1). Got "
                        f"{holdout!r} ({type(holdout).__name__}) instead.")
    if not 0 <= holdout < 1:
        raise ValueError(f"The 'holdout' parameter of {owner} must be a float in [0, 1). Got "
                         f"{holdout!r} instead.")
    short = [m for m in m_per_round if _num_holdout(holdout, m) == 0]
    if holdout > 0 and short:
        raise ValueError(f"The 'holdout' parameter of {owner} ({holdout}) leaves fewer than 2 "
                         f"of m_samples={short[0]} architectures to train on. Lower it, or "
                         f"raise m_samples.")
    schedule = _schedule(layers_per_round, space.num_layers, rounds)
    predictor = SpaceGCNPredictor() if predictor is None else predictor
    if not hasattr(predictor, "fit") or not hasattr(predictor, "get_params"):
        raise TypeError(f"The 'predictor' parameter of {owner} must be an unfitted predictor "
                        f"(e.g. SpaceGCNPredictor()). Got {type(predictor).__name__} instead.")
    params = predictor.get_params(deep=False)
    if params.get("space") is not None:
        raise ValueError(f"The 'predictor' parameter of {owner} must not set 'space' (leave it "
                         f"None): each round fits its own subspace.")
    if similarity is not None and not callable(similarity):
        raise TypeError(f"The 'similarity' parameter of {owner} must be a callable taking a "
                        f"round's subspace and returning its per-factor similarity matrices "
                        f"(the factors change from round to round). Got "
                        f"{type(similarity).__name__} instead.")
    if similarity is not None and params.get("similarity", None) is not None:
        raise ValueError(f"The 'predictor' parameter of {owner} must leave 'similarity' unset "
                         f"when the 'similarity' callable of {owner} is given.")
    if max_flops is not None:
        flops_base, flops_tables = space.cost_tables("flops")
        cheapest = flops_base + sum(t.min() for t in flops_tables)
        if max_flops < cheapest:
            raise ValueError(f"The 'max_flops' parameter of {owner} is below the cheapest "
                             f"architecture of the space ({cheapest:.4g} FLOPs). Got "
                             f"{max_flops!r} instead.")
    rng = check_random_state(random_state)
    if start is None:
        default = getattr(space, "default_arch", None)
        start = default() if callable(default) else ChoiceArch(space.name,
                                                               (0,) * space.num_layers)
    space.validate(start)
    has_truth = callable(getattr(evaluator, "true_accuracy", None))

    scores: dict[ChoiceArch, float] = {}

    def evaluate(archs: Sequence[ChoiceArch]) -> np.ndarray:
        new = list(dict.fromkeys(a for a in archs if a not in scores))
        if new:
            for a, s in zip(new, np.asarray(evaluator.evaluate(new), dtype=np.float64)):
                scores[a] = float(s)
        return np.array([scores[a] for a in archs])

    def feasible(archs: Sequence[ChoiceArch]) -> np.ndarray:
        if max_flops is None:
            return np.ones(len(archs), dtype=bool)
        return space.cost("flops", archs) <= max_flops

    evaluate([start])
    current, top = start, [start]
    # what the result is picked from: every round's candidates (all evaluated architectures
    # for "all_evaluated", as before)
    candidates: dict[ChoiceArch, None] = {start: None} if selection == "all_evaluated" else {}
    prev_free: tuple[int, ...] = ()
    history: list[SearchRound] = []
    for t in tqdm(range(rounds), desc=owner, disable=not verbose):
        layers = schedule[t % len(schedule)]
        supercell = sorted(set(prev_free) - set(layers))
        sub = space.subspace(sorted(set(layers) | set(supercell)), current)
        if supercell:
            sub = sub.with_supercell(supercell, top)
        m = min(m_per_round[t], len(sub))
        sampled = sub.sample(m, rng=rng)
        y = evaluate(sampled)
        n_hold = _num_holdout(holdout, m)
        table, tau_holdout, gcn_top, pred = None, float("nan"), [], None
        if selection != "sampled":
            train = slice(n_hold, None)
            model = clone(predictor).set_params(space=sub)
            seed = int(rng.integers(2 ** 31))
            if "random_state" in params:
                model.set_params(random_state=seed)
            if similarity is not None:
                model.set_params(similarity=similarity(sub))
            model.fit(sampled[train], y[train])
            everything = sub.decode(sub.all_choices())  # index order
            pred = model.predict(everything)  # [len(sub)]
            table = LookupTable.from_predictions(sub, None, pred, costs=sub.cost_metrics)
            if n_hold:
                tau_holdout = kendall_tau(y[:n_hold], model.predict(sampled[:n_hold]))
            order = np.argsort(-pred, kind="stable")
            if max_flops is not None:
                order = order[sub.costs("flops")[order] <= max_flops]
            gcn_top = sub.from_index(order[:k_eval])
            evaluate(gcn_top)
        if selection == "gcn_top":
            pool = list(gcn_top)
        elif selection == "all_evaluated":
            pool = list(dict.fromkeys([current, *top, *gcn_top, *sampled]))
        else:
            pool = list(sampled)
        ok = feasible(pool)
        pool = [a for a, f in zip(pool, ok) if f] or pool or [current]
        pool_scores = evaluate(pool)
        best = np.argsort(-pool_scores, kind="stable")[:k_keep]
        new_top = [pool[i] for i in best]
        candidates.update(dict.fromkeys(pool))
        tau_truth = tau_eval_truth = None
        if has_truth:
            if pred is not None:
                truth = np.asarray(evaluator.true_accuracy(everything),
                                   dtype=np.float64)  # [len(sub)], index order
                tau_truth = kendall_tau(truth, pred)
            tau_eval_truth = kendall_tau(np.asarray(evaluator.true_accuracy(sampled)), y)
        history.append(SearchRound(layers=layers, subspace=sub, table=table, top_archs=new_top,
                                   top_scores=pool_scores[best], candidates=pool,
                                   tau_holdout=tau_holdout,
                                   tau_truth=tau_truth, tau_evaluator_truth=tau_eval_truth,
                                   num_evaluations=len(scores)))
        changed = set(new_top) != set(top)
        top, current, prev_free = new_top, new_top[0], sub.free_layers
        if not changed:
            break
    done = [a for a in (scores if selection == "all_evaluated" else candidates)
            if feasible([a])[0]]
    if not done:
        raise RuntimeError(f"{owner} evaluated no architecture with at most {max_flops} FLOPs; "
                           f"start from a cheaper architecture or raise 'max_flops'.")
    final = max(done, key=lambda a: scores[a])
    return IterativeSearchResult(arch=final, score=scores[final], num_evaluations=len(scores),
                                 rounds=history)

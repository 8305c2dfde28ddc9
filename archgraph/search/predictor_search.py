"""Predictor-based search (Wen et al., ECCV 2020): evaluate N random architectures, fit a
predictor, evaluate the K it ranks best; and its cost-constrained "soft-Pareto" variant."""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from sklearn.base import clone

from archgraph.lookup import soft_pareto_mask
from archgraph.spaces.evaluator import check_evaluator
from archgraph.utils.validation import check_int, check_one_of, check_random_state

#: largest space whose every architecture ``predictor_search`` predicts when ``pool_size=None``
MAX_ENUMERATED = 2_000_000


@dataclass
class SearchResult:
    """Outcome of a search: the best evaluated architecture and every evaluation.

    Attributes:
        arch: the architecture with the highest evaluated accuracy.
        accuracy: its evaluated accuracy.
        history: ``(arch, accuracy, stage)`` of every evaluation in order; ``stage`` is
            ``"train"`` (the N random ones), ``"top_k"`` (chosen by the predictor) or
            ``"random"`` (random search).
        predictor: the fitted predictor (``None`` for random search).
        costs: cost of each ``history`` entry (soft-Pareto search only).
    """

    arch: object
    accuracy: float
    history: list[tuple[object, float, str]] = field(default_factory=list)
    predictor: object = None
    costs: np.ndarray | None = None

    @property
    def num_evaluations(self) -> int:
        return len(self.history)


def _best(history) -> tuple[object, float]:
    arch, acc, _ = max(history, key=lambda h: h[1])  # first of equal accuracies
    return arch, float(acc)


def _fit_on_random(space, evaluator, predictor, n_train: int, rng, owner: str):
    """Sample and evaluate ``n_train`` architectures and fit a clone of ``predictor``."""
    if not hasattr(predictor, "fit") or not hasattr(predictor, "get_params"):
        raise TypeError(f"The 'predictor' parameter of {owner} must be an unfitted predictor "
                        f"(e.g. NeuralPredictor(space=space)). Got {type(predictor).__name__}.")
    train = space.sample(n_train, rng)
    y = np.asarray(evaluator.evaluate(train), dtype=np.float64)  # [N]
    model = clone(predictor)
    if "random_state" in model.get_params():
        model.set_params(random_state=int(rng.integers(2 ** 31)))
    model.fit(train, y)
    return train, y, model


def _pool(space, pool_size, seen: set, rng, owner: str) -> list:
    """Candidates not evaluated yet: every architecture (``pool_size=None``) or a sample."""
    if pool_size is None:
        try:
            size = len(space)
            if size > MAX_ENUMERATED:
                raise NotImplementedError
            pool = list(space.enumerate())
        except (NotImplementedError, TypeError) as exc:
            raise ValueError(f"The 'pool_size' parameter of {owner} is None, which predicts the "
                             f"whole space, but the {space.name!r} space cannot be enumerated "
                             f"(at most {MAX_ENUMERATED} architectures). Pass an int "
                             f"pool_size.") from exc
    else:
        pool = space.sample(check_int(pool_size, "pool_size", owner, low=1), rng)
    return [a for a in pool if a not in seen]


def predictor_search(space, evaluator, predictor, n_train: int, k_top: int, pool_size=None,
                     random_state=None) -> SearchResult:
    """Neural-predictor search with a budget of ``n_train + k_top`` evaluations.

    1. sample ``n_train`` distinct architectures uniformly and evaluate them;
    2. fit a clone of ``predictor`` on them (seeded from ``random_state``);
    3. predict every not-yet-evaluated architecture of the space (``pool_size=None``, for
       enumerable spaces) or of a random pool of ``pool_size``;
    4. evaluate the ``k_top`` best predicted; return the best of all evaluations.

    Args:
        space: the search space.
        evaluator: an ``Evaluator`` (``evaluate(archs) -> accuracies``) of that space.
        predictor: an unfitted predictor of ``space`` (cloned, never modified).
        n_train: ``N``, random architectures evaluated to train the predictor.
        k_top: ``K``, predicted-best architectures evaluated afterwards.
        pool_size: candidates to predict; ``None`` = the whole space.
        random_state: seed of the samples and of the predictor.
    """
    owner = "predictor_search"
    check_evaluator(space, evaluator, owner)
    n_train = check_int(n_train, "n_train", owner, low=2)
    k_top = check_int(k_top, "k_top", owner, low=1)
    rng = check_random_state(random_state)
    train, y, model = _fit_on_random(space, evaluator, predictor, n_train, rng, owner)
    history = [(a, float(v), "train") for a, v in zip(train, y)]
    pool = _pool(space, pool_size, set(train), rng, owner)
    if pool:
        pred = model.predict(pool)
        top = [pool[i] for i in np.argsort(-pred, kind="stable")[:k_top]]
        history += [(a, float(v), "top_k") for a, v in zip(top, evaluator.evaluate(top))]
    return SearchResult(*_best(history), history=history, predictor=model)


def soft_pareto_search(space, evaluator, predictor, n_train: int, k_top: int,
                       cost: str | Callable = "flops", J: int = 5, max_cost: float | None = None,
                       pool_size=None, random_state=None) -> SearchResult:
    """Cost-constrained predictor search with soft-Pareto selection (Wen et al., Sec. 5).

    As :func:`predictor_search`, but step 4 keeps only candidates on the soft Pareto front of
    (cost, predicted accuracy) of width ``J`` (:func:`archgraph.lookup.soft_pareto_mask`: sorted
    by cost, a model is kept if its predicted accuracy beats the minimum of the previous ``J``
    kept ones), optionally within ``max_cost``, and evaluates the ``k_top`` of them with the
    highest predicted accuracy. The result is the most accurate evaluated architecture within
    ``max_cost``; ``costs`` holds the cost of every evaluation.

    Args:
        cost: a cost metric of the space (``space.cost_metrics``, e.g. ``"flops"``,
            ``"latency"``) or a callable ``archs -> costs`` (e.g. a measured latency table).
        J: width of the soft front (``J = 1`` is the strict Pareto front).
        max_cost: largest admissible cost, or ``None``.
        (others as in :func:`predictor_search`)
    """
    owner = "soft_pareto_search"
    check_evaluator(space, evaluator, owner)
    n_train = check_int(n_train, "n_train", owner, low=2)
    k_top = check_int(k_top, "k_top", owner, low=1)
    J = check_int(J, "J", owner, low=1)
    if isinstance(cost, str):
        check_one_of(cost, "cost", getattr(space, "cost_metrics", ()), owner)
        metric = cost

        def cost_fn(archs):
            return space.cost(metric, archs)
    elif callable(cost):
        cost_fn = cost
    else:
        raise TypeError(f"The 'cost' parameter of {owner} must be a cost metric name or a "
                        f"callable archs -> costs. Got {type(cost).__name__} instead.")
    if max_cost is not None and (not isinstance(max_cost, numbers.Real)
                                 or not np.isfinite(max_cost)):
        raise ValueError(f"The 'max_cost' parameter of {owner} must be None or a finite float. "
                         f"Got {max_cost!r} instead.")
    rng = check_random_state(random_state)
    train, y, model = _fit_on_random(space, evaluator, predictor, n_train, rng, owner)
    history = [(a, float(v), "train") for a, v in zip(train, y)]
    pool = _pool(space, pool_size, set(train), rng, owner)
    pool_cost = np.asarray(cost_fn(pool), dtype=np.float64)  # [P]
    if max_cost is not None:
        keep = pool_cost <= max_cost
        pool, pool_cost = [a for a, k in zip(pool, keep) if k], pool_cost[keep]
    if pool:
        pred = model.predict(pool)
        front = np.flatnonzero(soft_pareto_mask(pool_cost, pred, J))  # [F]
        chosen = front[np.argsort(-pred[front], kind="stable")[:k_top]]
        top = [pool[i] for i in chosen]
        history += [(a, float(v), "top_k") for a, v in zip(top, evaluator.evaluate(top))]
    costs = np.asarray(cost_fn([h[0] for h in history]), dtype=np.float64)
    admissible = [h for h, c in zip(history, costs) if max_cost is None or c <= max_cost]
    if not admissible:
        raise ValueError(f"No evaluated architecture of {owner} costs at most max_cost="
                         f"{max_cost} (cheapest evaluated: {costs.min()}).")
    return SearchResult(*_best(admissible), history=history, predictor=model, costs=costs)


def random_search(space, evaluator, budget: int, random_state=None) -> SearchResult:
    """The baseline: evaluate ``budget`` distinct architectures drawn uniformly at random."""
    owner = "random_search"
    check_evaluator(space, evaluator, owner)
    budget = check_int(budget, "budget", owner, low=1)
    archs = space.sample(budget, check_random_state(random_state))
    history = [(a, float(v), "random") for a, v in zip(archs, evaluator.evaluate(archs))]
    return SearchResult(*_best(history), history=history)

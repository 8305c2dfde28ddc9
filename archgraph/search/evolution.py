"""Evolutionary search under FLOPs/parameter constraints (Guo et al., ECCV 2020, SPOS; the
search stage of Pan et al., CVPR 2022, DCNAS), with any ``Evaluator``.

A population of admissible architectures is evaluated; each generation breeds ``population``
children from the ``top_k`` best architectures evaluated so far, half by *mutation* (every layer
of a parent redrawn uniformly with probability ``mutation_prob``) and half by *crossover* (each
layer taken from one of two parents, with equal probability); children that violate the
constraints or were evaluated before are rejected and bred again. The evaluator never sees an
inadmissible architecture, and every architecture is evaluated at most once.
"""
from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from archgraph.search.predictor_search import SearchResult, _best
from archgraph.spaces import ProductSpace
from archgraph.spaces.evaluator import check_evaluator
from archgraph.utils.validation import check_bound, check_int, check_random_state

#: breeding attempts per child before a generation is filled with random admissible ones
MAX_TRIES_PER_CHILD = 50
#: random architectures drawn at once when looking for admissible ones
_CHUNK = 1024


def _check_prob(value, name: str, owner: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"The '{name}' parameter of {owner} must be a float in [0, 1]. "
                        f"Got {value!r} ({type(value).__name__}) instead.")
    if not 0 <= value <= 1:
        raise ValueError(f"The '{name}' parameter of {owner} must be a float in [0, 1]. "
                         f"Got {value!r} instead.")
    return float(value)


class _Admissible:
    """Which choice rows satisfy the cost bounds (and lie in the candidate pool, if any)."""

    def __init__(self, space, bounds: dict, pool: np.ndarray | None):
        self.space, self.bounds = space, bounds
        self.pool = pool
        self.pool_keys = None if pool is None else {tuple(r) for r in pool.tolist()}

    def costs_ok(self, choices: np.ndarray) -> np.ndarray:
        ok = np.ones(len(choices), dtype=bool)
        for metric, bound in self.bounds.items():
            ok &= self.space.costs(metric, choices) <= bound
        return ok

    def __call__(self, choices: np.ndarray) -> np.ndarray:
        ok = self.costs_ok(choices)
        if self.pool_keys is not None:
            ok &= np.array([tuple(r) in self.pool_keys for r in choices.tolist()], dtype=bool)
        return ok


def evolutionary_search(space, evaluator, *, population: int = 20, budget: int | None = 100,
                        max_iterations: int | None = None, top_k: int = 10,
                        mutation_prob: float = 0.1, max_flops: float | None = None,
                        max_params: float | None = None, candidates: Sequence | None = None,
                        random_state=None, progress: bool = False) -> SearchResult:
    """Evolutionary search of the most accurate admissible architecture of a product space.

    1. evaluate ``population`` distinct admissible architectures drawn at random (from
       ``candidates`` when given);
    2. each generation: the ``top_k`` most accurate architectures evaluated so far are the
       parents; ``population // 2`` children by mutation (a random parent, each layer redrawn
       uniformly with probability ``mutation_prob``; a child equal to its parent is bred
       again), the rest by crossover (two random parents, each layer from either with
       probability 1/2); a child is kept only if it is admissible (within ``max_flops`` and
       ``max_params``, and a member of ``candidates`` when given) and new (never evaluated,
       not bred twice in the generation). After ``MAX_TRIES_PER_CHILD * population`` failed
       attempts the generation is filled with random admissible new architectures;
    3. stop after ``budget`` evaluations (the last generation is cut to fit) or
       ``max_iterations`` generations, or when every admissible architecture has been
       evaluated.

    With ``candidates`` (e.g. the candidate pool of a DCNAS supernet) a child outside the pool
    is replaced by the nearest pool member in Hamming distance that is admissible and new
    (ties broken at random), so breeding still moves towards the parents.

    Args:
        space: a :class:`~archgraph.spaces.ProductSpace` (or subspace).
        evaluator: any ``Evaluator`` of ``space`` (table, predictor-backed, lookup table,
            supernet).
        population: architectures evaluated per generation (the first one included), >= 2.
        budget: largest number of evaluations; ``None`` for no bound (then
            ``max_iterations`` must be given).
        max_iterations: largest number of generations after the first; ``None`` for no bound.
        top_k: parents: the ``top_k`` best evaluated so far (>= 1).
        mutation_prob: probability that mutation redraws a layer, in [0, 1].
        max_flops, max_params: cost bounds (the space's ``"flops"``/``"params"`` cost models);
            ``None`` for none.
        candidates: restrict the search to these architectures of ``space`` (duplicates
            dropped); ``None`` searches the whole space.
        random_state: seed or ``numpy.random.Generator`` of every draw.
        progress: progress bar over evaluations.

    Returns:
        a :class:`~archgraph.search.SearchResult`: the most accurate evaluated architecture and
        every evaluation ``(arch, accuracy, stage)`` with ``stage`` ``"initial"``,
        ``"mutation"``, ``"crossover"`` or ``"random"`` (a generation filled at random).
        Every evaluated architecture satisfies the constraints.

    Raises:
        ValueError: no admissible architecture exists (among the ``candidates`` or in
            ``_CHUNK * 64`` random draws of the space).
    """
    owner = "evolutionary_search"
    check_evaluator(space, evaluator, owner)
    if not isinstance(space, ProductSpace):
        raise TypeError(f"The 'space' parameter of {owner} must be a ProductSpace (layers of "
                        f"independent choices), which mutation and crossover act on. Got "
                        f"{type(space).__name__} instead.")
    population = check_int(population, "population", owner, low=2)
    if budget is not None:
        budget = check_int(budget, "budget", owner, low=1)
    if max_iterations is not None:
        max_iterations = check_int(max_iterations, "max_iterations", owner, low=0)
    if budget is None and max_iterations is None:
        raise ValueError(f"The 'budget' and 'max_iterations' parameters of {owner} are both "
                         f"None; give at least one so that the search ends.")
    top_k = check_int(top_k, "top_k", owner, low=1)
    mutation_prob = _check_prob(mutation_prob, "mutation_prob", owner)
    bounds = {}
    for metric, value in (("flops", max_flops), ("params", max_params)):
        if value is None:
            continue
        bounds[metric] = check_bound(value, f"max_{metric}", owner)
        if metric not in getattr(space, "cost_metrics", ()):
            raise ValueError(f"The 'max_{metric}' parameter of {owner} needs a {metric!r} cost "
                             f"model, but the {space.name!r} space has only "
                             f"{list(space.cost_metrics)}.")
    rng = check_random_state(random_state)
    pool = None
    if candidates is not None:
        if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence):
            raise TypeError(f"The 'candidates' parameter of {owner} must be None or a sequence "
                            f"of architectures of {space.name!r}. Got "
                            f"{type(candidates).__name__} instead.")
        pool = space.encode(list(dict.fromkeys(candidates)))            # [P, L]
        if not len(pool):
            raise ValueError(f"The 'candidates' parameter of {owner} is empty.")
    admissible = _Admissible(space, bounds, pool)
    pool_ok = None if pool is None else pool[admissible.costs_ok(pool)]  # [P', L]
    if pool_ok is not None and not len(pool_ok):
        raise ValueError(f"No architecture of the 'candidates' of {owner} satisfies the "
                         f"constraints {bounds}.")

    num_options = np.asarray(space.num_options)                        # [L]
    seen: set[tuple[int, ...]] = set()
    history: list[tuple[object, float, str]] = []
    bar = tqdm(total=budget, desc=owner, disable=not progress, unit="arch")

    def random_new(n: int) -> list[tuple[int, ...]]:
        """Up to ``n`` random admissible architectures never seen (fewer if none are left)."""
        if pool_ok is not None:
            fresh = [tuple(r) for r in pool_ok.tolist() if tuple(r) not in seen]
            order = rng.permutation(len(fresh))[:n]
            return [fresh[i] for i in order]
        out: dict[tuple[int, ...], None] = {}
        for _ in range(64):
            draws = rng.integers(0, num_options, size=(_CHUNK, len(num_options)))
            for row in draws[admissible(draws)].tolist():
                row = tuple(row)
                if row not in seen and row not in out:
                    out[row] = None
                    if len(out) == n:
                        return list(out)
        if len(out) < n and space.size <= 64 * _CHUNK:  # small space: look at every one
            allc = space.all_choices(np.int64)
            for row in allc[admissible(allc)].tolist():
                row = tuple(row)
                if row not in seen and row not in out:
                    out[row] = None
                    if len(out) == n:
                        break
        return list(out)

    def nearest_in_pool(child: np.ndarray, taken: set) -> tuple[int, ...] | None:
        dist = (pool_ok != child).sum(1)                                # [P']
        for d in np.unique(dist):
            rows = [tuple(r) for r in pool_ok[dist == d].tolist()]
            rows = [r for r in rows if r not in seen and r not in taken]
            if rows:
                return rows[int(rng.integers(len(rows)))]
        return None

    def evaluate(rows: list[tuple[int, ...]], stages: list[str]) -> None:
        if budget is not None:
            rows, stages = rows[:budget - len(history)], stages[:budget - len(history)]
        if not rows:
            return
        archs = space.decode(np.array(rows, dtype=np.int64))
        acc = np.asarray(evaluator.evaluate(archs), dtype=np.float64)
        if acc.shape != (len(archs),):
            raise ValueError(f"The 'evaluator' of {owner} returned {acc.shape} accuracies for "
                             f"{len(archs)} architectures.")
        seen.update(rows)
        history.extend((a, float(v), s) for a, v, s in zip(archs, acc, stages))
        bar.update(len(rows))

    first = random_new(population)
    if not first:
        raise ValueError(f"No architecture of the {space.name!r} space satisfying the "
                         f"constraints {bounds} was found in {64 * _CHUNK} random draws.")
    evaluate(first, ["initial"] * len(first))
    generation = 0
    try:
        while (budget is None or len(history) < budget) and (
                max_iterations is None or generation < max_iterations):
            order = np.argsort([-h[1] for h in history], kind="stable")[:top_k]
            parents = space.encode([history[i][0] for i in order])      # [k, L]
            children: list[tuple[int, ...]] = []
            stages: list[str] = []
            taken: set[tuple[int, ...]] = set()
            n_mut = population // 2
            tries = 0
            while len(children) < population and tries < MAX_TRIES_PER_CHILD * population:
                tries += 1
                mutate = len(children) < n_mut
                if mutate:
                    parent = parents[rng.integers(len(parents))]
                    flip = rng.random(len(num_options)) < mutation_prob
                    child = np.where(flip, rng.integers(0, num_options), parent)
                    if np.array_equal(child, parent):
                        continue
                else:
                    a, b = parents[rng.integers(len(parents), size=2)]
                    child = np.where(rng.random(len(num_options)) < 0.5, a, b)
                if pool_ok is not None:
                    row = nearest_in_pool(child, taken)
                    if row is None:
                        break  # every admissible pool member has been evaluated
                else:
                    row = tuple(child.tolist())
                    if row in seen or row in taken or not admissible(child[None])[0]:
                        continue
                taken.add(row)
                children.append(row)
                stages.append("mutation" if mutate else "crossover")
            if len(children) < population:
                more = [r for r in random_new(population - len(children) + len(taken))
                        if r not in taken][:population - len(children)]
                children += more
                stages += ["random"] * len(more)
            if not children:
                break  # every admissible architecture has been evaluated
            evaluate(children, stages)
            generation += 1
    finally:
        bar.close()
    return SearchResult(*_best(history), history=history)

"""``archgraph search predictor|iterative|evolution``: search a space with an evaluator.

``evolution``: mutation and crossover of the best architectures evaluated so far.
``predictor``: the neural-predictor search of Wen et al. (ECCV 2020): evaluate ``--n-train``
random architectures, fit a predictor, evaluate its ``--k-top`` best. ``iterative``: the space-GCN
search of Chen et al. (AAAI 2021) over subspaces and super-cells.

Example::

    archgraph search predictor --space nasbench201 --evaluator table --option noise_std=2 \\
        --model neural --n-train 100 --k-top 10
    archgraph search iterative --space macro --evaluator table --rounds 4 --max-flops 200M
    archgraph search evolution --space macro --evaluator table --budget 100 --max-flops 100M
"""
from __future__ import annotations

import json
import warnings

from archgraph.cli.common import (
    add_command,
    add_json,
    parse_count,
    parse_options,
    progress_enabled,
    resolve_space,
)


def _common(p) -> None:
    p.add_argument("--space", required=True,
                   help="search space (registered name or module:attr)")
    p.add_argument("--evaluator", required=True,
                   help="registered evaluator, e.g. table, supernet, standalone")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="option of the evaluator factory (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="hyperparameter of the predictor (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="seed of the search")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_json(p)


def add_parser(sub) -> None:
    p = sub.add_parser("search", help="search a space with a predictor",
                       description="Search a space (see 'archgraph search predictor -h').")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = add_command(ssub, "predictor", "neural-predictor search (Wen et al.)",
                    __doc__.split("\n\n")[1])
    _common(s)
    s.add_argument("--model", default="neural", help="registered predictor")
    s.add_argument("--n-train", type=int, default=100,
                   help="random architectures evaluated to train the predictor")
    s.add_argument("--k-top", type=int, default=10,
                   help="predicted-best architectures evaluated afterwards")
    s.add_argument("--pool-size", type=int, default=None,
                   help="random candidates to predict (default: the whole space)")
    s.set_defaults(func=run_predictor)

    i = add_command(ssub, "iterative", "space-GCN search over subspaces (Chen et al.)",
                    __doc__.split("\n\n")[1])
    _common(i)
    i.add_argument("--model", default="space_gcn", help="registered predictor of each round")
    i.add_argument("--rounds", type=int, default=4, help="maximum number of rounds")
    i.add_argument("--layers-per-round", type=int, default=3,
                   help="layers freed per round (at most half the layers)")
    i.add_argument("--m-samples", type=int, default=100,
                   help="architectures evaluated per round")
    i.add_argument("--k-eval", type=int, default=100,
                   help="the GCN's top architectures evaluated per round")
    i.add_argument("--k-keep", type=int, default=6,
                   help="best candidates kept as the next round's super-cell options")
    i.add_argument("--selection", default="gcn_top",
                   choices=("gcn_top", "all_evaluated", "sampled"),
                   help="the round's candidates (see iterative_search)")
    i.add_argument("--max-flops", default=None, help="FLOPs budget, e.g. 200M")
    i.set_defaults(func=run_iterative)

    e = add_command(ssub, "evolution", "evolutionary search (mutation and crossover of the "
                    "best architectures so far)", __doc__.split("\n\n")[1])
    _common(e)
    e.add_argument("--population", type=int, default=20, help="architectures per generation")
    e.add_argument("--budget", type=int, default=100, help="largest number of evaluations")
    e.add_argument("--top-k", type=int, default=10, help="parents of each generation")
    e.add_argument("--mutation-prob", type=float, default=0.1,
                   help="probability of redrawing each layer of a mutated child")
    e.add_argument("--max-flops", default=None, help="FLOPs budget, e.g. 200M")
    e.add_argument("--max-params", default=None, help="parameter budget, e.g. 3.5M")
    e.set_defaults(func=run_evolution)


def make_evaluator(space, name: str, pairs: list[str], owner: str):
    from archgraph.evaluators import EVALUATORS

    factory = EVALUATORS.get(name, owner=owner, param="--evaluator")
    options = parse_options(pairs)
    try:
        return factory(space, **options)
    except TypeError as exc:
        raise TypeError(f"Bad '--option' for the {name!r} evaluator: {exc}") from exc


def _predictor(name: str, pairs: list[str], owner: str, progress: bool):
    from archgraph.predictors import PREDICTORS

    cls = PREDICTORS.get(name, owner=owner, param="--model")
    params = parse_options(pairs, "--param")
    defaults = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"The '--param' argument names {unknown}, which are not parameters "
                         f"of {cls.__name__}. Valid: {', '.join(sorted(defaults))}.")
    if "verbose" in defaults and "verbose" not in params:
        params["verbose"] = progress
    return cls(**params)


def _report(args, space, arch, accuracy: float, evaluations: int, extra: dict) -> None:
    result = {"arch": space.to_str(arch), "accuracy": float(accuracy),
              "evaluations": int(evaluations), **extra}
    if args.json:
        print(json.dumps(result))
        return
    print(f"best architecture {result['arch']}: accuracy {accuracy:.2f}% after {evaluations} "
          f"evaluations")
    for key, value in extra.items():
        print(f"  {key}: {value}")


def run_predictor(args) -> int:
    from archgraph.search import predictor_search

    owner = "archgraph search predictor"
    space = resolve_space(args.space)
    evaluator = make_evaluator(space, args.evaluator, args.option, owner)
    model = _predictor(args.model, args.param, owner, False).set_params(space=space)
    result = predictor_search(space, evaluator, model, n_train=args.n_train, k_top=args.k_top,
                              pool_size=args.pool_size, random_state=args.seed)
    _report(args, space, result.arch, result.accuracy, result.num_evaluations, {})
    return 0


def run_iterative(args) -> int:
    from archgraph.predictors import PredictionRangeWarning
    from archgraph.search import iterative_search

    owner = "archgraph search iterative"
    space = resolve_space(args.space)
    evaluator = make_evaluator(space, args.evaluator, args.option, owner)
    model = None if args.selection == "sampled" else _predictor(args.model, args.param, owner,
                                                                 False)
    max_flops = None if args.max_flops is None else parse_count(args.max_flops, "--max-flops")
    with warnings.catch_warnings():  # each round's GCN extrapolates a little: not news here
        warnings.simplefilter("ignore", PredictionRangeWarning)
        result = iterative_search(space, evaluator, model, rounds=args.rounds,
                                  layers_per_round=args.layers_per_round,
                                  m_samples=args.m_samples, k_eval=args.k_eval,
                                  k_keep=args.k_keep, selection=args.selection,
                                  max_flops=max_flops, random_state=args.seed,
                                  verbose=progress_enabled(args))
    rounds = [{"layers": list(r.layers), "subspace_size": len(r.subspace),
               "best": float(r.top_scores[0]), "tau_holdout": float(r.tau_holdout),
               "evaluations": r.num_evaluations} for r in result.rounds]
    extra = {"rounds": rounds} if args.json else {
        f"round {t + 1}": (f"layers {r['layers']}, {r['subspace_size']} architectures, best "
                           f"{r['best']:.2f}%, tau(holdout) {r['tau_holdout']:.3f}")
        for t, r in enumerate(rounds)}
    _report(args, space, result.arch, result.score, result.num_evaluations, extra)
    return 0


def run_evolution(args) -> int:
    from archgraph.search import evolutionary_search

    owner = "archgraph search evolution"
    if args.param:
        raise ValueError("The '--param' argument is not used by 'archgraph search evolution' "
                         "(it evaluates with the evaluator only).")
    space = resolve_space(args.space)
    evaluator = make_evaluator(space, args.evaluator, args.option, owner)
    bounds = {k: None if v is None else parse_count(v, f"--{k.replace('_', '-')}")
              for k, v in (("max_flops", args.max_flops), ("max_params", args.max_params))}
    result = evolutionary_search(space, evaluator, population=args.population,
                                 budget=args.budget, top_k=args.top_k,
                                 mutation_prob=args.mutation_prob, random_state=args.seed,
                                 progress=progress_enabled(args), **bounds)
    _report(args, space, result.arch, result.accuracy, result.num_evaluations, {})
    return 0

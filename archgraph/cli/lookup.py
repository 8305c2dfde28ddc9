"""``archgraph lookup build|query|pareto``: tabulate a fitted predictor over a whole (sub)space
with its costs; query the table under budgets; print its Pareto front.

Example::

    archgraph lookup build gcn.safetensors --out lut.parquet
    archgraph lookup query lut.parquet --max-flops 400M --max-params 3.5M --top-k 5
    archgraph lookup pareto lut.parquet --cost flops --soft 3
"""
from __future__ import annotations

import sys
import warnings

from archgraph.cli.common import (
    add_command,
    add_json,
    human,
    parse_count,
    parse_ms,
    parse_percent,
    progress_enabled,
    resolve_space,
    show_frame,
)


def add_parser(sub) -> None:
    p = sub.add_parser("lookup", help="build and query lookup tables",
                       description="Build and query lookup tables (see 'archgraph lookup "
                                   "build -h').")
    lsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = add_command(lsub, "build", "tabulate a saved predictor over a whole (sub)space with "
                    "its costs", __doc__.split("\n\n")[0])
    b.add_argument("predictor", help="predictor file of 'archgraph predictor fit'")
    b.add_argument("--out", required=True, help="table to write (.parquet or .csv)")
    b.add_argument("--layers", default=None, metavar="L,L,...",
                   help="tabulate the subspace freeing only these layer indices (0-based) "
                        "of the space, the others as in --base; default: the predictor's "
                        "whole (sub)space")
    b.add_argument("--base", default=None,
                   help="architecture string fixing the layers outside --layers")
    b.add_argument("--costs", default=None, metavar="NAME,...",
                   help="cost columns to add (default: every cost model of the space)")
    b.add_argument("--latency", default=None, metavar="LUT.yaml",
                   help="per-block latency lookup table (YAML, ProxylessNAS style) adding a "
                        "'latency' column in ms (chain spaces); query it with --max-latency")
    b.add_argument("--space", default=None,
                   help="search space (registered name or module:attr) if not registered")
    b.add_argument("--chunk-size", type=int, default=65536,
                   help="architectures predicted per chunk")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    add_json(b)
    b.set_defaults(func=run_build)

    q = add_command(lsub, "query", "the most accurate architectures of a table within "
                    "budgets (FLOPs/params as counts with K/M/G suffixes, latency in ms)")
    q.add_argument("table", help="lookup table (.parquet or .csv)")
    q.add_argument("--max-flops", default=None, help="FLOPs (multiply-adds) budget, e.g. 400M")
    q.add_argument("--max-params", default=None, help="parameter budget, e.g. 3.5M")
    q.add_argument("--max-latency", default=None, help="latency budget, e.g. 80ms")
    q.add_argument("--min-accuracy", default=None, help="accuracy floor in percent, e.g. 93")
    q.add_argument("--top-k", type=int, default=10, help="rows to return")
    q.add_argument("--space", default=None, help="search space (registered name or "
                   "module:attr) of a table whose space is not registered (for arch strings)")
    add_json(q)
    q.set_defaults(func=run_query)

    f = add_command(lsub, "pareto", "the Pareto front (lower cost, higher accuracy) of a table")
    f.add_argument("table", help="lookup table (.parquet or .csv)")
    f.add_argument("--cost", default="flops", help="cost column of the front")
    f.add_argument("--soft", type=int, default=None, metavar="J",
                   help="soft Pareto front of width J (J=1 is the strict front)")
    f.add_argument("--max-cost", default=None,
                   help="drop front rows above this cost (K/M/G suffixes)")
    f.add_argument("--space", default=None, help="search space (registered name or "
                   "module:attr) of a table whose space is not registered (for arch strings)")
    add_json(f)
    f.set_defaults(func=run_pareto)


def _int_list(text: str, flag: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise ValueError(f"The '{flag}' argument must be comma-separated ints. Got {text!r} "
                         f"instead.") from exc


def run_build(args) -> int:
    import time

    from archgraph.lookup import LookupTable
    from archgraph.predictors import load

    space = resolve_space(args.space) if args.space else None
    model = load(args.predictor, space=space)
    own = getattr(model, "space_", None) or model.space
    target = own
    if args.layers is not None:
        if args.base is None:
            raise ValueError("The '--layers' argument needs '--base ARCH' (the architecture "
                             "fixing the other layers).")
        root = own.root
        target = root.subspace(_int_list(args.layers, "--layers"), root.from_str(args.base))
    elif args.base is not None:
        raise ValueError("The '--base' argument is used only with '--layers'.")
    if args.latency is not None:
        target = _with_latency(target, args.latency)
    costs = None if args.costs is None else [c for c in args.costs.split(",") if c]
    start = time.perf_counter()
    table = LookupTable.build(model, target, costs=costs, chunk_size=args.chunk_size,
                              progress=progress_enabled(args))
    table.save(args.out)
    seconds = time.perf_counter() - start
    acc = table.frame["accuracy"]
    summary = {"file": str(args.out), "space": target.name, "rows": len(table),
               "columns": list(table.frame.columns), "accuracy_min": float(acc.min()),
               "accuracy_max": float(acc.max()), "seconds": round(seconds, 3)}
    if args.json:
        import json

        print(json.dumps(summary))
    else:
        print(f"{args.out}: {len(table):,} architectures of {target.name!r}, predicted "
              f"accuracy {acc.min():.2f}..{acc.max():.2f}%, costs "
              f"{', '.join(table.cost_columns) or 'none'} ({seconds:.1f} s)")
    return 0


def _with_latency(space, path):
    """``space`` with the additive cost ``latency`` of the latency table at ``path`` (added to
    its root; a subspace is rebuilt on the root so that it inherits it)."""
    from archgraph.spaces import ChainSpace, Subspace, load_latency_lut

    root = space.root
    if not isinstance(root, ChainSpace):
        raise ValueError(f"The '--latency' argument needs a chain space (layer table with "
                         f"shapes). Got the {root.name!r} space.")
    root.add_latency(load_latency_lut(path))
    if isinstance(space, Subspace):
        return Subspace(root, space.base, space.factors)
    return root


def _load(path, space_text):
    from archgraph.lookup import LookupTable

    return LookupTable.load(path, space=resolve_space(space_text) if space_text else None)


def run_query(args) -> int:
    from archgraph.lookup import EmptyQueryWarning

    kwargs = {}
    if args.max_flops is not None:
        kwargs["max_flops"] = parse_count(args.max_flops, "--max-flops")
    if args.max_params is not None:
        kwargs["max_params"] = parse_count(args.max_params, "--max-params")
    if args.max_latency is not None:
        kwargs["max_latency"] = parse_ms(args.max_latency, "--max-latency")
    if args.min_accuracy is not None:
        kwargs["min_accuracy"] = parse_percent(args.min_accuracy, "--min-accuracy")
    if args.top_k < 1:
        raise ValueError(f"The '--top-k' argument must be >= 1. Got {args.top_k}.")
    table = _load(args.table, args.space)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EmptyQueryWarning)
        result = table.query(top_k=args.top_k, **kwargs)
    for w in caught:
        if issubclass(w.category, EmptyQueryWarning):
            print(f"archgraph lookup query: {w.message}", file=sys.stderr)
    budgets = ", ".join(f"{k.replace('_', ' ')} {human(v)}" for k, v in kwargs.items())
    show_frame(result, args.json, f"top {args.top_k} of {len(table):,} architectures"
                                  + (f" within {budgets}" if budgets else ""), table.layers)
    return 0


def run_pareto(args) -> int:
    table = _load(args.table, args.space)
    if args.soft is not None:
        front = table.soft_pareto(args.soft, cost=args.cost)
    else:
        front = table.pareto(cost=args.cost)
    if args.max_cost is not None:
        front = front[front[args.cost] <= parse_count(args.max_cost, "--max-cost")]
    kind = "soft Pareto front (J=%d)" % args.soft if args.soft is not None else "Pareto front"
    show_frame(front, args.json, f"{kind} of {len(table):,} architectures by {args.cost}: "
                                 f"{len(front)} rows", table.layers)
    return 0

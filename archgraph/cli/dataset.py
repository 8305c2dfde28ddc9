"""``archgraph dataset build``: sample architectures, evaluate them, write a predictor dataset.

Evaluators come from the registry of ``archgraph.evaluators`` (``list_evaluators()``): factories
``factory(space, **options) -> Evaluator`` of archgraph itself or installed as entry points of
the group ``archgraph.evaluators``. Shipped ones:

- ``table``: a shipped benchmark table (``nasbench201``, ``nasbench101``, ``macro``); options
  ``target``, ``noise_std``, ``noise``, ``random_state``, ``data_dir``.
- ``supernet`` (package ``supernet``): a supernet trained with ``supernet.train.train``,
  evaluated on the digits data; options ``checkpoint`` (required), ``recal_batches``,
  ``batch_size``, ``reset_bn``, ``random_state``.
- ``standalone`` (package ``supernet``): every architecture trained from scratch on the digits
  data (the ground truth, slow); options ``epochs``, ``batch_size``, ``lr``,
  ``label_smoothing``, ``random_state``.

Example::

    archgraph dataset build --space macro --evaluator supernet --n 100 --out table.parquet \\
        --option checkpoint=supernet.pt --option recal_batches=10

Options are ``key=value`` pairs; values are read as YAML scalars (``10``, ``0.5``, ``true``,
``null``, text). Rerunning the same command after an interruption resumes the file.
"""
from __future__ import annotations

import yaml


def add_parser(sub) -> None:
    p = sub.add_parser("dataset", help="build predictor datasets",
                       description="Build predictor datasets (see 'archgraph dataset build -h').")
    dsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = dsub.add_parser("build", help="sample, evaluate and write a predictor dataset",
                        description=__doc__.split("\n\n")[0])
    b.add_argument("--space", required=True, help="registered search space (archgraph spaces)")
    b.add_argument("--evaluator", required=True,
                   help="registered evaluator (or plugin of the entry point group "
                        "'archgraph.evaluators'), e.g. table, supernet")
    b.add_argument("--n", type=int, required=True, help="number of architectures")
    b.add_argument("--out", required=True, help="output table, .parquet or .csv")
    b.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    b.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="option of the evaluator factory (repeatable)")
    b.add_argument("--chunk-size", type=int, default=32,
                   help="architectures evaluated between two writes (default 32)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=run)


def parse_options(pairs: list[str]) -> dict:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}`` (values as YAML scalars)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"The '--option' argument must be KEY=VALUE. Got {pair!r} instead.")
        out[key] = yaml.safe_load(value) if value else None
    return out


def run(args) -> int:
    # imported here, so that 'archgraph --help' does not load torch
    from archgraph.datasets.predictor_dataset import build_predictor_dataset
    from archgraph.evaluators import EVALUATORS
    from archgraph.spaces import get_search_space

    space = get_search_space(args.space)
    factory = EVALUATORS.get(args.evaluator, owner="archgraph dataset build", param="--evaluator")
    options = parse_options(args.option)
    try:
        evaluator = factory(space, **options)
    except TypeError as exc:
        raise TypeError(f"Bad '--option' for the {args.evaluator!r} evaluator: {exc}") from exc
    table = build_predictor_dataset(space, evaluator, args.n, args.out, random_state=args.seed,
                                    chunk_size=args.chunk_size, progress=not args.quiet)
    print(f"{args.out}: {len(table)} architectures of {space.name!r}, accuracy "
          f"{table['accuracy'].min():.2f}..{table['accuracy'].max():.2f}")
    return 0

"""``archgraph dataset build``: sample architectures, evaluate them, write a predictor dataset.

Evaluators are plugins: entry points of the group ``archgraph.evaluators`` whose object is a
factory ``factory(space, **options) -> Evaluator``. Shipped ones:

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

from importlib.metadata import entry_points

import yaml

GROUP = "archgraph.evaluators"


def add_parser(sub) -> None:
    p = sub.add_parser("dataset", help="build predictor datasets",
                       description="Build predictor datasets (see 'archgraph dataset build -h').")
    dsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = dsub.add_parser("build", help="sample, evaluate and write a predictor dataset",
                        description=__doc__.split("\n\n")[0])
    b.add_argument("--space", required=True, help="registered search space (archgraph spaces)")
    b.add_argument("--evaluator", required=True,
                   help=f"evaluator plugin (entry point group {GROUP!r}), e.g. table, supernet")
    b.add_argument("--n", type=int, required=True, help="number of architectures")
    b.add_argument("--out", required=True, help="output table, .parquet or .csv")
    b.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    b.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="option of the evaluator factory (repeatable)")
    b.add_argument("--chunk-size", type=int, default=32,
                   help="architectures evaluated between two writes (default 32)")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=run)


def evaluator_factories() -> dict:
    """Installed evaluator plugins: ``{name: entry point}``."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def table_evaluator(space, target=None, noise_std: float = 0.0, noise: str = "fixed",
                    random_state=None, data_dir=None):
    """The ``table`` plugin: :meth:`TableEvaluator.from_benchmark` of ``space``'s benchmark."""
    from archgraph.evaluators import TableEvaluator
    return TableEvaluator.from_benchmark(space.name, target=target, data_dir=data_dir,
                                         noise_std=noise_std, noise=noise,
                                         random_state=random_state)


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
    from archgraph.datasets.predictor_dataset import build_predictor_dataset
    from archgraph.spaces import get_search_space
    from archgraph.utils.validation import check_one_of

    space = get_search_space(args.space)
    plugins = evaluator_factories()
    check_one_of(args.evaluator, "--evaluator", sorted(plugins), "archgraph dataset build")
    factory = plugins[args.evaluator].load()
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

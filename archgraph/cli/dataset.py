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

One build per output file: a second ``build`` of the same ``--out`` while the first runs exits
at once (status 75) with a one-line message naming the file and the process holding it (host,
pid); with ``--wait`` it waits for the first to finish (at most ``--wait-timeout`` seconds) and
then resumes what it wrote, so nothing is evaluated twice.

Several processes, on one machine or many (``torchrun``; gloo on CPU, see
:mod:`archgraph.datasets.distributed`): each evaluates its share of every chunk, rank 0 writes
the file, which equals the one-process build of the same seed::

    torchrun --standalone --nproc_per_node 2 -m -- archgraph.cli dataset build \\
        --space nasbench201 --evaluator table --n 1000 --out nb201.parquet

(the ``--`` keeps torchrun from reading ``--n`` as its own ``--nnodes``). The distributed
build starts by itself when ``WORLD_SIZE`` > 1 (set by ``torchrun``), or with
``--distributed`` (e.g. a process group of a launcher that sets ``RANK``, ``WORLD_SIZE``,
``MASTER_ADDR`` and ``MASTER_PORT`` some other way).
"""
from __future__ import annotations

import math
import os
import sys

import yaml

from archgraph.cli.common import HelpFormatter, resolve_space

#: exit status of a build refused because another process writes its output (EX_TEMPFAIL)
EXIT_LOCKED = 75


def add_parser(sub) -> None:
    p = sub.add_parser("dataset", help="build predictor datasets",
                       description="Build predictor datasets (see 'archgraph dataset build -h').")
    dsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = dsub.add_parser("build", help="sample, evaluate and write a predictor dataset",
                        description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    b.add_argument("--space", required=True,
                   help="search space: registered name (archgraph spaces) or module:attr")
    b.add_argument("--evaluator", required=True,
                   help="registered evaluator (or plugin of the entry point group "
                        "'archgraph.evaluators'), e.g. table, supernet")
    b.add_argument("--n", type=int, required=True, help="number of architectures")
    b.add_argument("--out", required=True, help="output table, .parquet or .csv")
    b.add_argument("--seed", type=int, default=0, help="sampling seed")
    b.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="option of the evaluator factory (repeatable)")
    b.add_argument("--chunk-size", type=int, default=32,
                   help="architectures evaluated between two writes")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--wait", action="store_true",
                   help="if another build writes --out, wait for it to finish and resume its "
                        "file (default: exit at once with status 75)")
    b.add_argument("--wait-timeout", type=float, default=None, metavar="SECONDS",
                   help="with --wait: give up after this many seconds (default: no limit)")
    b.add_argument("--distributed", action="store_true",
                   help="build with all processes of a torch.distributed job (automatic when "
                        "WORLD_SIZE > 1, e.g. under torchrun)")
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

    space = resolve_space(args.space)
    factory = EVALUATORS.get(args.evaluator, owner="archgraph dataset build", param="--evaluator")
    options = parse_options(args.option)
    try:
        evaluator = factory(space, **options)
    except TypeError as exc:
        raise TypeError(f"Bad '--option' for the {args.evaluator!r} evaluator: {exc}") from exc
    from archgraph.utils.locks import OutputLockedError

    if args.wait_timeout is not None and not (args.wait and args.wait_timeout >= 0):
        raise ValueError(f"The '--wait-timeout' argument needs --wait and a number of seconds "
                         f">= 0. Got {args.wait_timeout!r}{'' if args.wait else ' without --wait'}"
                         f" instead.")
    timeout = (math.inf if args.wait_timeout is None else args.wait_timeout) if args.wait else 0
    kwargs = dict(random_state=args.seed, chunk_size=args.chunk_size, progress=not args.quiet,
                  lock_timeout=None if math.isinf(timeout) else timeout)
    try:
        if args.distributed or int(os.environ.get("WORLD_SIZE", "1")) > 1:
            table, rank = _build_distributed(space, evaluator, args.n, args.out, kwargs)
        else:
            table, rank = build_predictor_dataset(space, evaluator, args.n, args.out,
                                                  **kwargs), 0
    except OutputLockedError as exc:
        print(f"archgraph dataset build: error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    if rank == 0:
        print(f"{args.out}: {len(table)} architectures of {space.name!r}, accuracy "
              f"{table['accuracy'].min():.2f}..{table['accuracy'].max():.2f}")
    return 0


def _build_distributed(space, evaluator, n, out, kwargs):
    """The build on all ranks of the process group (started here if none is: gloo)."""
    import torch.distributed as dist

    from archgraph.datasets.distributed import build_predictor_dataset_distributed

    own = not dist.is_initialized()
    if own:
        dist.init_process_group("gloo")
    try:
        table = build_predictor_dataset_distributed(space, evaluator, n, out, **kwargs)
        return table, dist.get_rank()
    finally:
        if own:
            dist.destroy_process_group()

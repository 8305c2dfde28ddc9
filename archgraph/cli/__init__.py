"""The ``archgraph`` command line. Each sub-command lives in its own module of this package and
exposes ``add_parser(subparsers)``, which registers it and sets ``func`` to its runner."""
from __future__ import annotations

import argparse
import importlib
import sys

#: modules of this package that define sub-commands, in the order ``--help`` lists them
COMMANDS = ["spaces", "dataset"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="archgraph", description=(
        "Performance prediction for neural architecture search with graph neural networks."))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"archgraph.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"archgraph.cli.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"archgraph {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

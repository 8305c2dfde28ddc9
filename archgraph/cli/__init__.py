"""The ``archgraph`` command line. Each sub-command lives in its own module of this package and
exposes ``add_parser(subparsers)``, which registers it and sets ``func`` to its runner."""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

#: modules of this package that define sub-commands, in the order ``--help`` lists them
COMMANDS = ["spaces", "dataset", "predictor", "lookup", "search", "supernet", "demo"]


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


#: printed on Ctrl-C (exit status 130, as a shell reports SIGINT): every long job resumes
INTERRUPTED = "interrupted; rerun the same command to resume"


def main(argv: list[str] | None = None) -> int:
    """Run ``archgraph ARGS``; returns the exit status: 0, 2 for bad input (a one-line
    error, as argparse's own), 130 when interrupted."""
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "passthrough", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.extra = extra
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        name = " ".join(filter(None, [args.command, getattr(args, "action", None)]))
        try:
            return int(args.func(args) or 0)
        except (ValueError, TypeError, FileNotFoundError, ImportError) as exc:
            text = " ".join(str(exc).split()) or type(exc).__name__
            print(f"archgraph {name}: error: {text}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into 'head' and closed: not an error of ours
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the interpreter closes it)
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``archgraph supernet train ...``: train a weight-sharing supernet (the ``supernet`` package).

archgraph never imports ``supernet`` (the package sits above archgraph's layers and is
optional), so this command runs ``python -m supernet`` with the same Python interpreter in a
child process, passing every argument after ``train`` through unchanged; its exit status is
this command's. ``archgraph supernet train --help`` prints the options of ``python -m
supernet`` with their defaults.
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("supernet", help="train weight-sharing supernets (python -m supernet)",
                       description=__doc__.split("\n\n")[0])
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    t = ssub.add_parser("train", help="train a supernet; options as 'python -m supernet'",
                        description=__doc__, add_help=False,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    t.set_defaults(func=run_train, passthrough=True)  # main() hands over unparsed arguments


def run_train(args) -> int:
    if importlib.util.find_spec("supernet") is None:  # looks the package up, runs none of it
        raise ValueError("'archgraph supernet' needs the supernet package, installed with "
                         "archgraph: pip install archgraph (from this repository).")
    cmd = [sys.executable, "-m", "supernet", *args.extra]
    proc = subprocess.Popen(cmd)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # the child got the same Ctrl-C; let it stop, then report it
        proc.wait()
        raise

"""Run ``archgraph dataset build`` or ``python -m supernet`` with injected faults (a helper of
tests/test_fault_injection.py and bench/bench_soak.py, started as a subprocess).

    python tests/fault_driver.py [--kill-at-replace K [--tear]] [--slow S] [--log FILE] \\
        dataset build --space macro --evaluator slow ...
    python tests/fault_driver.py --kill-at-replace 2 supernet --space digits5 ...

--kill-at-replace K   SIGKILL this process at the K-th atomic rename of an output (its
                      temporary file complete, the rename not done): a kill in the middle of a
                      checkpoint or table write
--tear                first cut that temporary file in half (a write torn by the kill)
--slow S              register the evaluator 'slow': the 'synthetic' evaluator (same options,
                      same metadata, so its tables equal a 'synthetic' build byte for byte) that
                      sleeps S seconds per call
--log FILE            'slow' appends the architectures of each call to FILE (one per line)
--gate FILE           'slow' waits for FILE to exist before its first evaluation
--waiting FILE        'slow' writes FILE when it starts waiting for the gate (every import
                      done, inside the command)
--started FILE        write FILE once the imports are done, right before the command runs
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time


def _arm_kill(at: int, tear: bool) -> None:
    real, calls = os.replace, [0]

    def replace(src, dst, *args, **kwargs):
        name = os.path.basename(os.fspath(src))
        if name.startswith(".") and name.endswith(".tmp"):  # archgraph.utils.io's temporaries
            calls[0] += 1
            if calls[0] == at:
                if tear:
                    size = os.path.getsize(src)
                    os.truncate(src, size // 2)
                os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst, *args, **kwargs)

    os.replace = replace


def _register_slow(delay: float, log: str | None, gate: str | None,
                   waiting: str | None = None) -> None:
    from archgraph.evaluators import register_evaluator, synthetic_evaluator

    class Slow:
        def __init__(self, inner):
            self.inner, self.space, self.metadata = inner, inner.space, inner.metadata

        def evaluate(self, archs):
            if waiting and gate and not os.path.exists(gate):
                with open(waiting, "w", encoding="utf-8") as fh:
                    fh.write(str(os.getpid()))
            while gate and not os.path.exists(gate):
                time.sleep(0.02)
            time.sleep(delay)
            acc = self.inner.evaluate(archs)
            if log:
                with open(log, "a", encoding="utf-8") as fh:
                    fh.write("".join(self.space.to_str(a) + "\n" for a in archs))
            return acc

    @register_evaluator("slow")
    def slow(space, **options):
        return Slow(synthetic_evaluator(space, **options))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="fault_driver.py", allow_abbrev=False)
    p.add_argument("--kill-at-replace", type=int, default=None)
    p.add_argument("--tear", action="store_true")
    p.add_argument("--slow", type=float, default=0.0)
    p.add_argument("--log", default=None)
    p.add_argument("--gate", default=None)
    p.add_argument("--started", default=None)
    p.add_argument("--waiting", default=None)
    p.add_argument("target", choices=("dataset", "supernet"))
    args, rest = p.parse_known_args(argv)
    _register_slow(args.slow, args.log, args.gate, args.waiting)
    if args.kill_at_replace is not None:
        _arm_kill(args.kill_at_replace, args.tear)
    if args.target == "dataset":
        from archgraph.cli import main as cli

        rest = ["dataset", *rest]
    else:
        from supernet.cli import main as cli
    if args.started:
        with open(args.started, "w", encoding="utf-8") as fh:
            fh.write(str(os.getpid()))
    return cli(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

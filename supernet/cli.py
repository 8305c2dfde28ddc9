"""``python -m supernet``: train a supernet from the command line (see :func:`main`)."""
from __future__ import annotations

import argparse
import os
import sys

import torch.distributed as dist

from archgraph.spaces import get_search_space, list_search_spaces
from archgraph.utils import check_one_of
from archgraph.utils.locks import OutputLockedError
from supernet.config import SupernetConfig
from supernet.data import load_digits
from supernet.distributed import rank_and_world
from supernet.factory import build_supernet
from supernet.samplers import StrictFairSampler, UniformSampler
from supernet.train import train

PROG = "python -m supernet"
#: exit status of a run refused because another run writes its checkpoint (EX_TEMPFAIL)
EXIT_LOCKED = 75


def _lock_timeout(args) -> float | None:
    """``lock_timeout`` of :func:`~supernet.train.train` from ``--wait``/``--wait-timeout``."""
    if args.wait_timeout is not None and not (args.wait and args.wait_timeout >= 0):
        raise ValueError(f"The '--wait-timeout' argument needs --wait and a number of seconds "
                         f">= 0. Got {args.wait_timeout!r}{'' if args.wait else ' without --wait'}"
                         f" instead.")
    return (args.wait_timeout if args.wait else 0.0)


def main(argv: list[str] | None = None) -> int:
    """``python -m supernet``: train a supernet on the digits training split.

    The checkpoint is the one ``archgraph dataset build --evaluator supernet --option
    checkpoint=PATH`` reads; rerunning the command resumes it. Under ``torchrun`` every process
    trains its slice of each batch (``--batch-size`` is per process), e.g.
    ``torchrun --standalone --nproc_per_node=2 -m supernet --space digits5 --checkpoint sn.pt``.
    Returns the exit status (2 on bad arguments).
    """
    p = argparse.ArgumentParser(prog=PROG, description=(
        "Train a weight-sharing supernet on scikit-learn's 8x8 digits (training split)."))
    p.add_argument("--space", default="digits5",
                   help="registered chain space or nasbench201 (default: digits5)")
    p.add_argument("--epochs", type=int, default=30, help="epochs of the schedule (default 30)")
    p.add_argument("--sampler", choices=("uniform", "fair"), default="uniform",
                   help="uniform single-path (SPOS) or strict-fair (FairNAS) sampling")
    p.add_argument("--checkpoint", required=True,
                   help="checkpoint file, written after every epoch and resumed if present")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights, the data order and the paths (default 0)")
    p.add_argument("--batch-size", type=int, default=64, help="batch size per process")
    p.add_argument("--lr", type=float, default=0.05, help="initial SGD learning rate")
    p.add_argument("--width-mult", type=float, default=1.0, help="channel multiplier")
    p.add_argument("--bias-weights", type=int, default=0, metavar="D",
                   help="inter-choice bias weights of depth D in 1..3 (Laube & Zell; default 0: "
                        "none)")
    p.add_argument("--bias", choices=("joint", "shared"), default="joint",
                   help="bias vector per combination of choices (joint) or per choice and "
                        "offset, summed (shared)")
    p.add_argument("--split-weights-epoch", type=int, default=None, metavar="E",
                   help="split weights: copy every option per choice of the previous layer "
                        "after epoch E (Laube & Zell)")
    p.add_argument("--label-smoothing", type=float, default=0.0, help="in [0, 1)")
    p.add_argument("--stop-after", type=int, default=None,
                   help="stop after this epoch (resume later with the same command)")
    p.add_argument("--device", default="cpu",
                   help="cpu (default) or cuda (cuda:LOCAL_RANK under torchrun)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--wait", action="store_true",
                   help="if another run writes --checkpoint, wait for it to finish and resume "
                        "its checkpoint (default: exit at once with status 75)")
    p.add_argument("--wait-timeout", type=float, default=None, metavar="SECONDS",
                   help="with --wait: give up after this many seconds (default: no limit)")
    args = p.parse_args(argv)
    own_group = False
    try:
        space = get_search_space(check_one_of(args.space, "--space", list_search_spaces(), PROG))
        config = SupernetConfig(width_mult=args.width_mult, input_resolution=8, in_channels=1,
                                num_classes=10, bias_weights=args.bias_weights, bias=args.bias,
                                split_weights_epoch=args.split_weights_epoch)
        net = build_supernet(space, config, random_state=args.seed)
        sampler = (UniformSampler if args.sampler == "uniform" else StrictFairSampler)(
            space, args.seed)
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if args.device.startswith("cuda") else "gloo")
            own_group = True
        history = train(net, load_digits("train"), args.epochs, sampler=sampler,
                        batch_size=args.batch_size, lr=args.lr,
                        label_smoothing=args.label_smoothing, checkpoint=args.checkpoint,
                        stop_after=args.stop_after, random_state=args.seed, device=args.device,
                        progress=not args.quiet, lock_timeout=_lock_timeout(args))
        if rank_and_world()[0] == 0:
            last = history[-1]
            print(f"{args.checkpoint}: {space.name} supernet, epoch {last['epoch']}/"
                  f"{args.epochs}, loss {last['loss']:.3f}, train accuracy "
                  f"{100 * last['train_acc']:.1f}%")
    except OutputLockedError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (ValueError, TypeError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if own_group:
            dist.destroy_process_group()
    return 0

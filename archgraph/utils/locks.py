"""Exclusive locks of output paths: one writer per file, across processes (and machines that
share a file system with working ``flock``).

A job that reads an output, adds to it and writes it back (a resumable predictor-dataset build,
a supernet training that resumes its checkpoint) holds :func:`output_lock` of that path for
its whole run. A second job on the same path either waits for it (``timeout`` > 0 or ``None``)
or is refused at once (``timeout=0``, the default) with :class:`OutputLockedError`, a one-line
message naming the path and the holder (host, pid, start time).

The lock is a ``flock`` on a hidden file beside the output, ``.NAME.lock`` (``filelock``); the
holder writes its host and pid into ``.NAME.lock.owner``. Both stay in place after release
(removing a lock file while another process waits on it would let two writers in); the kernel
drops the lock of a killed process, so a crash never leaves a path locked.
"""
from __future__ import annotations

import contextlib
import math
import numbers
import os
import socket
import time
from pathlib import Path
from typing import Iterator


class OutputLockedError(RuntimeError):
    """Another process holds the lock of an output path."""

    def __init__(self, message: str, path: Path, holder: str):
        super().__init__(message)
        self.path, self.holder = path, holder


def lock_paths(path) -> tuple[Path, Path]:
    """The lock file and the holder file of output ``path``."""
    path = Path(path)
    lock = path.with_name(f".{path.name}.lock")
    return lock, lock.with_name(lock.name + ".owner")


def lock_holder(path) -> str:
    """Who holds (or last held) the lock of ``path``: ``"host H, pid P, since T"``, or
    ``"unknown"`` when no holder file was written yet."""
    try:
        text = lock_paths(path)[1].read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return "unknown"
    host, _, rest = text.partition(" ")
    pid, _, since = rest.partition(" ")
    if not host or not pid.isdigit():
        return "unknown"
    return f"host {host}, pid {pid}" + (f", since {since}" if since else "")


def check_timeout(timeout, name: str, owner: str) -> float:
    """``timeout`` as seconds to wait for a lock: ``None`` (wait as long as it takes) gives
    ``inf``; a number must be >= 0."""
    if timeout is None:
        return math.inf
    if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool):
        raise TypeError(f"The '{name}' parameter of {owner} must be a float in [0, inf] or None. "
                        f"Got {timeout!r} ({type(timeout).__name__}) instead.")
    if not float(timeout) >= 0:  # NaN fails too
        raise ValueError(f"The '{name}' parameter of {owner} must be a float in [0, inf] or "
                         f"None. Got {timeout!r} instead.")
    return float(timeout)


@contextlib.contextmanager
def output_lock(path, timeout: float | None = 0.0, what: str = "output",
                hint: str = "pass a lock timeout to wait for it, or write another path"
                ) -> Iterator[Path]:
    """Hold the exclusive lock of output ``path`` inside the block.

    Args:
        path: the output file (it need not exist; its folder is created).
        timeout: seconds to wait for another holder; ``0`` refuses at once, ``None`` waits as
            long as it takes.
        what: what the file is, for the message (``"predictor-dataset table"``).
        hint: how the user gets past a refusal, ending the message.

    Raises:
        OutputLockedError: another process holds the lock (after ``timeout`` seconds).
    """
    import filelock

    timeout = check_timeout(timeout, "timeout", "output_lock")
    path = Path(path)
    lock_file, owner_file = lock_paths(path)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(lock_file))
    try:
        lock.acquire(timeout=-1 if math.isinf(timeout) else timeout)
    except filelock.Timeout:
        holder = lock_holder(path)
        waited = f" after waiting {timeout:g} s" if timeout > 0 else ""
        raise OutputLockedError(f"{what.capitalize()} {str(path)!r} is locked by another "
                                f"writer ({holder}){waited}: {hint}.", path, holder) from None
    try:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
        owner_file.write_text(f"{socket.gethostname()} {os.getpid()} {stamp}\n",
                              encoding="utf-8")
        yield path
    finally:
        lock.release()

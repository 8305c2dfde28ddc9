"""Atomic file writes: nothing is half-written on failure (write a temporary file beside the
target, then rename it into place), content checksums verified on load, and exclusive locks of
output paths."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
from pathlib import Path
from typing import Iterator


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _tmp_prefix(path: Path) -> str:
    # the writer's host and pid are in the name, so a later writer can tell a stale temporary
    # file (its process is gone) from one being written right now
    return f".{path.name}.{socket.gethostname()}-{os.getpid()}."


def clean_stale_tmp(path) -> list[Path]:
    """Remove the temporary files that killed writers of ``path`` left beside it (written by
    this host, by a process that no longer runs); return the removed paths. Called at the start
    of every atomic write."""
    path = Path(path)
    host, removed = socket.gethostname(), []
    if not path.parent.is_dir():
        return removed
    for tmp in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        owner = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        tmp_host, _, pid = owner.rpartition("-")
        if tmp_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with the glob metacharacters escaped."""
    import glob

    return glob.escape(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _mkstemp(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_tmp(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_tmp_prefix(path), suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an output file gets the usual mode
    return fd, tmp


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb") -> Iterator:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any exception the temporary file is removed and ``path`` is left untouched. The file
    gets the permissions of a newly created file (``0o666`` minus the umask); stale temporary
    files of killed writers of ``path`` are removed first (:func:`clean_stale_tmp`).
    """
    path = Path(path)
    fd, tmp = _mkstemp(path)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` when the block succeeds.

    For writers that want a file name (``DataFrame.to_parquet``, ``torch.save``). Permissions
    and stale temporary files as in :func:`atomic_write`.
    """
    path = Path(path)
    fd, tmp = _mkstemp(path)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# -- content checksums ---------------------------------------------------------------------
#: name of the checksum entry in a file's metadata (Parquet key-value metadata, a CSV header,
#: a checkpoint dict)
CHECKSUM_KEY = "sha256"


def bytes_digest(data: bytes) -> str:
    """SHA-256 (hex) of ``data``."""
    return hashlib.sha256(data).hexdigest()


def frame_digest(frame) -> str:
    """SHA-256 (hex) of a DataFrame's content: column names, dtypes and every value (the row
    index is not part of it). Equal for a frame and its Parquet round trip."""
    import pandas as pd

    h = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    h.update(str(len(frame)).encode())
    if frame.shape[1]:
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def state_digest(obj) -> str:
    """SHA-256 (hex) of a nested structure of tensors, arrays, dicts, lists and plain values
    (a checkpoint dict): every tensor's dtype, shape and bytes, every key and plain value."""
    h = hashlib.sha256()
    _feed(h, obj)
    return h.hexdigest()


def _feed(h, obj) -> None:
    import numpy as np

    if isinstance(obj, dict):
        h.update(b"{%d" % len(obj))
        for key in sorted(obj, key=repr):
            h.update(repr(key).encode())
            _feed(h, obj[key])
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[%d" % len(obj))
        for value in obj:
            _feed(h, value)
        h.update(b"]")
    elif type(obj).__module__ == "torch" and hasattr(obj, "dtype"):  # a tensor
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(_torch_uint8()).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        h.update(f"A{a.dtype}{a.shape}".encode() + a.tobytes())
    else:
        h.update(f"{type(obj).__name__}:{obj!r}".encode())


def _torch_uint8():
    import torch

    return torch.uint8


def check_digest(path, stored, actual: str, what: str = "file") -> None:
    """Refuse ``path`` with a one-line ``ValueError`` if its ``stored`` checksum is missing or
    differs from the ``actual`` one of its content."""
    if stored is None:
        raise ValueError(f"{what.capitalize()} {str(path)!r} carries no {CHECKSUM_KEY} "
                         f"checksum: it was not written by archgraph, or was altered.")
    if stored != actual:
        raise ValueError(f"{what.capitalize()} {str(path)!r} is corrupted: its content does not "
                         f"match its {CHECKSUM_KEY} checksum (the file was altered or damaged).")


def read_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that reading a damaged CSV, JSON or Parquet file raises: readers turn them
    into one ``ValueError`` naming the file. JSON, CSV and most Arrow errors are ValueErrors; a
    damaged pandas schema in Parquet metadata gives ``TypeError`` ("data type 'floGt64' not
    understood") or ``KeyError``; a damaged Parquet schema can give
    ``ArrowNotImplementedError`` (a ``NotImplementedError``: "Integers with less than 8 bits
    not implemented"), or another Arrow exception (``ArrowException``)."""
    errors: tuple = (ValueError, TypeError, KeyError, OSError, NotImplementedError)
    try:
        from pyarrow.lib import ArrowException
    except ImportError:  # pragma: no cover - pyarrow is needed for Parquet only
        return errors
    return (*errors, ArrowException)

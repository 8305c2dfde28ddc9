"""Atomic file writes: nothing is half-written on failure (write a temporary file beside the
target, then rename it into place)."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb") -> Iterator:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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

    For writers that want a file name (``DataFrame.to_parquet``, ``torch.save``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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

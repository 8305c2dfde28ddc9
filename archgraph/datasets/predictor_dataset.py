"""Predictor datasets: sampled architectures with an evaluator's accuracies, as a table.

The "build predictor datasets" job of the pipeline (DESIGN.md): sample ``n`` architectures of a
space, evaluate them with any :class:`~archgraph.evaluators.Evaluator` (a supernet, a benchmark
table, training from scratch), and write one row per architecture to Parquet or CSV:

``arch`` (the space's string), ``space``, one column per layer (its choice, named after
``space.layer_names``; product spaces only), ``accuracy``, ``flops`` and ``params`` (the space's
cost models; empty where it has none), ``evaluator`` (JSON of the evaluator's ``metadata``, or
its ``repr``) and ``seed`` (the sampling seed).

The job is resumable: rows are appended in chunks, the file is rewritten atomically after each
chunk (a crash never leaves a half-written file), and a rerun with the same arguments skips the
architectures already in the file.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from archgraph.spaces.evaluator import check_evaluator
from archgraph.spaces.product_space import ProductSpace
from archgraph.spaces.search_space import SearchSpace
from archgraph.utils.io import (
    CHECKSUM_KEY,
    atomic_path,
    atomic_write,
    bytes_digest,
    check_digest,
    frame_digest,
    read_errors,
)
from archgraph.utils.locks import check_timeout, output_lock
from archgraph.utils.validation import check_int, check_one_of

#: file formats by suffix
FORMATS = (".parquet", ".csv")


def read_table(path) -> pd.DataFrame:
    """Read a predictor-dataset table (Parquet or CSV; ``arch`` kept as strings).

    A file written by :func:`build_predictor_dataset` carries the SHA-256 of its content,
    verified here: Parquet in its key-value metadata (``archgraph.sha256``), CSV in a first
    line ``# archgraph-predictor-dataset {"sha256": ...}`` (of the text after that line; read
    such a file elsewhere with ``pandas.read_csv(path, skiprows=1)``). An unreadable, altered
    or truncated file is refused with a one-line ``ValueError`` naming it. Files without a
    checksum (made by hand or by earlier versions) are read as they are.
    """
    path = Path(path)
    check_one_of(path.suffix, "path suffix", FORMATS, "read_table")
    if not path.is_file():
        raise FileNotFoundError(f"No predictor-dataset table at {str(path)!r}.")
    with _unreadable(path):
        if path.suffix == ".csv":
            with open(path, encoding="utf-8", newline="") as fh:
                first = fh.readline()
                headed = first.startswith(_CSV_HEADER)
                body = fh.read() if headed else first + fh.read()
            meta = json.loads(first[len(_CSV_HEADER):]) if headed else None
        else:
            import pyarrow.parquet as pq

            # one open file: by path, pyarrow sizes and opens the file separately, so a
            # concurrent atomic rewrite (a new inode) in between reads as a truncated file
            with open(path, "rb") as fh:
                table = pq.read_table(fh)
            frame = table.to_pandas()
            # hashing reads every value: Arrow-backed strings with damaged UTF-8 fail only here
            actual = frame_digest(frame)
    if path.suffix == ".csv":
        if headed:  # the header line was there: its checksum is required
            check_digest(path, meta.get(CHECKSUM_KEY) if isinstance(meta, dict) else None,
                         bytes_digest(body.encode("utf-8")), "predictor-dataset table")
        with _unreadable(path):
            frame = pd.read_csv(io.StringIO(body), dtype={"arch": str, "evaluator": str})
        if not headed and "arch" not in frame:  # e.g. a damaged header line read as columns
            raise ValueError(f"Predictor-dataset table {str(path)!r} has neither the archgraph "
                             f"header line (a damaged first line?) nor an 'arch' column (columns: "
                             f"{[str(c)[:30] for c in frame.columns[:4]]}).")
        return frame
    stored = (table.schema.metadata or {}).get(_CHECKSUM_META)
    if stored is not None:
        check_digest(path, stored.decode(errors="replace"), actual, "predictor-dataset table")
    return frame


@contextlib.contextmanager
def _unreadable(path: Path):
    """Turn the errors of reading a broken file (JSON, thrift, Arrow, text, CSV) into one
    line naming it."""
    try:
        yield
    except (*read_errors(), pd.errors.ParserError) as exc:
        raise ValueError(f"Predictor-dataset table {str(path)!r} is unreadable (corrupted or "
                         f"not a {path.suffix[1:]} file): {type(exc).__name__}: "
                         f"{_first_line(exc)}") from exc


#: Parquet key-value metadata entry of the content checksum
_CHECKSUM_META = f"archgraph.{CHECKSUM_KEY}".encode()
#: first line of a CSV table, followed by JSON holding the checksum of the rest
_CSV_HEADER = "# archgraph-predictor-dataset "


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _write(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".csv":
        body = frame.to_csv(index=False, lineterminator="\n")
        header = json.dumps({"format": "archgraph.PredictorDataset",
                             CHECKSUM_KEY: bytes_digest(body.encode("utf-8"))})
        with atomic_write(path, "wb") as fh:
            fh.write((_CSV_HEADER + header + "\n" + body).encode("utf-8"))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), _CHECKSUM_META: frame_digest(frame).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _describe(evaluator) -> str:
    meta = getattr(evaluator, "metadata", None)
    if meta is None:
        return repr(evaluator)
    return json.dumps(meta, sort_keys=True, default=str)


def build_predictor_dataset(space: SearchSpace, evaluator, n: int, path,
                            random_state: int = 0, chunk_size: int = 32,
                            progress: bool = True, lock_timeout: float | None = 0.0
                            ) -> pd.DataFrame:
    """Sample ``n`` distinct architectures of ``space``, evaluate them, write the table.

    One writer per file: the build holds an exclusive lock of ``path``
    (:func:`~archgraph.utils.locks.output_lock`) from reading it to its last write. A second
    build of the same path is refused with :class:`~archgraph.utils.locks.OutputLockedError`
    naming the holder (host, pid), or waits for it with ``lock_timeout``; a build that waited
    resumes what the first one wrote, so no work is done twice.

    Args:
        space: the search space (its ``sample(n, rng)`` draws the architectures).
        evaluator: any object with ``evaluate(archs) -> np.ndarray`` (and, optionally, a
            ``metadata`` dict stored in the ``evaluator`` column).
        n: number of architectures.
        path: output file, ``.parquet`` or ``.csv``. If it exists and was written with the same
            space, evaluator and seed, its rows are kept and only missing architectures are
            evaluated.
        random_state: seed of the sample (an int: it is stored in the ``seed`` column).
        chunk_size: architectures evaluated between two writes of the file.
        progress: show a progress bar.
        lock_timeout: seconds to wait for another build of ``path`` to finish: ``0`` (default)
            refuses at once, ``None`` waits as long as it takes.

    Returns:
        The whole table (also written to ``path``), in sampling order.
    """
    owner = "build_predictor_dataset"
    job = _Job.make(space, evaluator, n, path, random_state, chunk_size, owner)
    check_timeout(lock_timeout, "lock_timeout", owner)
    with output_lock(job.path, lock_timeout, "predictor-dataset table", _LOCK_HINT):
        done, todo = job.resume()
        bar = tqdm(total=len(todo), desc="evaluate", disable=not progress, unit="arch")
        for start in range(0, len(todo), chunk_size):
            chunk = todo[start:start + chunk_size]
            done = job.append(done, chunk, job.evaluate(evaluator, chunk))
            bar.update(len(chunk))
        bar.close()
    return job.in_sample_order(done)


#: how a refused second build gets past the lock (library and command line)
_LOCK_HINT = ("another build of this file is running; wait for it (lock_timeout=None, "
              "'archgraph dataset build --wait') or write another path")


class _Job:
    """The parts of a build shared by the one-process and the distributed builder
    (:mod:`archgraph.datasets.distributed`): validated arguments, the sample, resuming the
    file, evaluating a chunk, appending and writing it."""

    @classmethod
    def make(cls, space, evaluator, n, path, random_state, chunk_size, owner) -> "_Job":
        job = cls()
        job.n = check_int(n, "n", owner, low=1)
        job.random_state = check_int(random_state, "random_state", owner)
        job.chunk_size = check_int(chunk_size, "chunk_size", owner, low=1)
        check_evaluator(space, evaluator, owner)
        job.path = Path(path)
        if job.path.suffix not in FORMATS:
            raise ValueError(f"The 'path' parameter of {owner} must end in .parquet or .csv. "
                             f"Got {str(path)!r} instead.")
        job.space, job.owner = space, owner
        job.described = _describe(evaluator)
        sampler = getattr(evaluator, "sample", None)  # a table samples only rows it scores
        job.archs = (sampler(job.n, job.random_state) if callable(sampler)
                     else space.sample(job.n, job.random_state))
        job.keys = [space.to_str(a) for a in job.archs]
        return job

    def resume(self) -> tuple[pd.DataFrame, list]:
        """The rows already in the file (validated) and the ``(key, arch)`` pairs left to
        evaluate, in sample order."""
        path, done = self.path, pd.DataFrame()
        if path.exists():
            done = read_table(path)
            for col, want in (("space", self.space.name), ("evaluator", self.described),
                              ("seed", self.random_state)):
                have = set(done[col]) if col in done else {"<missing column>"}
                if len(done) and have != {want}:
                    raise ValueError(f"Cannot resume {str(path)!r}: its {col!r} column holds "
                                     f"{sorted(map(str, have))[:3]}, expected {want!r}. Remove "
                                     f"the file or pass another 'path'.")
            if len(done):
                _check_resumed(done, path, self.space, set(self.keys), self.n)
        present = set(done["arch"]) if len(done) else set()
        return done, [(k, a) for k, a in zip(self.keys, self.archs) if k not in present]

    @staticmethod
    def evaluate(evaluator, chunk) -> np.ndarray:
        acc = np.asarray(evaluator.evaluate([a for _, a in chunk]), dtype=float)
        if acc.shape != (len(chunk),):
            raise ValueError(f"The evaluator returned shape {acc.shape} for {len(chunk)} "
                             f"architectures; expected ({len(chunk)},).")
        return acc

    def append(self, done: pd.DataFrame, chunk, acc) -> pd.DataFrame:
        """``done`` with the rows of ``chunk``, written to the file (atomically)."""
        rows = _rows(self.space, chunk, acc, self.described, self.random_state)
        done = rows if not len(done) else pd.concat([done, rows], ignore_index=True)
        _write(done, self.path)
        return done

    def in_sample_order(self, done: pd.DataFrame) -> pd.DataFrame:
        if not len(done):  # nothing to evaluate and no file: cannot happen with n >= 1
            raise ValueError(f"{self.owner} produced no rows.")
        order = {k: i for i, k in enumerate(self.keys)}
        done = done[done["arch"].isin(order)]
        return done.iloc[np.argsort([order[k] for k in done["arch"]], kind="stable")
                         ].reset_index(drop=True)


def _check_resumed(done: pd.DataFrame, path: Path, space: SearchSpace, keys: set,
                   n: int) -> None:
    """Refuse a table to resume whose rows are not what this builder writes: the message names
    the file and the first bad row."""
    def refuse(row, problem):
        raise ValueError(f"Cannot resume {str(path)!r}: row {row} {problem}. Remove the file or "
                         f"pass another 'path'.")

    for col in ("arch", "accuracy"):
        if col not in done:
            raise ValueError(f"Cannot resume {str(path)!r}: it has no {col!r} column (columns: "
                             f"{list(done.columns)[:8]}). Remove the file or pass another 'path'.")
    dup = np.flatnonzero(done["arch"].duplicated().to_numpy())
    if dup.size:
        refuse(int(dup[0]), f"repeats the architecture {str(done['arch'].iloc[dup[0]])!r}")
    archs = []
    for i, text in enumerate(done["arch"]):
        if not isinstance(text, str):
            refuse(i, f"holds {text!r} in 'arch', expected a {space.name} architecture string")
        try:
            archs.append(space.from_str(text))
        except (ValueError, TypeError) as exc:
            refuse(i, f"holds an invalid architecture {text!r}: {exc}")
    acc = pd.to_numeric(done["accuracy"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(acc) | (acc < 0))
    if bad.size:
        refuse(int(bad[0]), f"holds the accuracy {done['accuracy'].iloc[bad[0]]!r}, expected a "
                            f"finite number >= 0")
    if isinstance(space, ProductSpace):
        missing = [c for c in space.layer_names if c not in done]
        if missing:
            raise ValueError(f"Cannot resume {str(path)!r}: it has no layer column "
                             f"{missing[0]!r} (the {space.name!r} space has layers "
                             f"{list(space.layer_names)[:8]}). Remove the file or pass another "
                             f"'path'.")
        choices = space.encode(archs)  # [rows, L]
        stored = done[list(space.layer_names)].to_numpy()
        wrong = np.flatnonzero((stored != choices).any(axis=1))
        if wrong.size:
            refuse(int(wrong[0]), f"has layer columns {stored[wrong[0]].tolist()} that "
                                  f"contradict its arch string {done['arch'].iloc[wrong[0]]!r}")
    extra = np.flatnonzero(~done["arch"].isin(keys).to_numpy())
    if extra.size:
        refuse(int(extra[0]), f"holds the architecture {done['arch'].iloc[extra[0]]!r}, which is "
                              f"not among the n={n} sampled with this seed (the file was built "
                              f"with another 'n'; {len(done)} rows)")


def _rows(space, chunk, acc, described, seed) -> pd.DataFrame:
    archs = [a for _, a in chunk]
    data: dict = {"arch": [k for k, _ in chunk], "space": space.name}
    if isinstance(space, ProductSpace):
        choices = space.encode(archs)  # [n, L]
        for l, name in enumerate(space.layer_names):
            data[name] = choices[:, l]
    data["accuracy"] = acc
    for metric in ("flops", "params"):
        try:
            data[metric] = [float(getattr(space, metric)(a)) for a in archs]
        except (NotImplementedError, ValueError):
            data[metric] = np.nan
    data["evaluator"] = described
    data["seed"] = seed
    return pd.DataFrame(data)


def read_predictor_dataset(path, space: SearchSpace | None = None,
                           target: str = "accuracy") -> tuple[list, np.ndarray]:
    """The architectures and targets of a predictor dataset: ``(archs, y)``, ready for
    ``predictor.fit(archs, y)``.

    Args:
        path: a table written by :func:`build_predictor_dataset` (or any Parquet/CSV file
            with an ``arch`` column of the space's strings and a numeric ``target`` column).
        space: the search space of the rows; ``None``: the registered space named by the
            file's ``space`` column.
        target: the column to return as ``y``.

    Raises:
        ValueError: one line naming the file (and the row) for a missing column, an
            architecture that does not parse, or a target that is not a finite number.
    """
    from archgraph.spaces.registry import get_search_space

    path = Path(path)
    frame = read_table(path)
    where = f"Predictor-dataset table {str(path)!r}"
    missing = [c for c in ("arch", target) if c not in frame.columns]
    if missing:
        raise ValueError(f"{where} lacks the column(s) {missing}; it has "
                         f"{list(frame.columns)}.")
    if not len(frame):
        raise ValueError(f"{where} holds no rows.")
    if space is None:
        names = set(frame["space"]) if "space" in frame.columns else set()
        if len(names) != 1:
            raise ValueError(f"{where} does not name one search space (its 'space' column "
                             f"holds {sorted(map(str, names))[:3]}); pass space=.")
        space = get_search_space(next(iter(names)))
    elif "space" in frame.columns and set(frame["space"]) != {space.name}:
        raise ValueError(f"{where} is of the {sorted(map(str, set(frame['space'])))[:3]} "
                         f"space, not the given {space.name!r} space.")
    if not pd.api.types.is_numeric_dtype(frame[target]):
        raise ValueError(f"{where}: the target column {target!r} is not numeric (dtype "
                         f"{frame[target].dtype}).")
    y = frame[target].to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"{where}, row {bad[0]}: {target} is {y[bad[0]]} (not a finite "
                         f"number; {bad.size} such rows).")
    archs = []
    for row, text in enumerate(frame["arch"]):
        try:
            archs.append(space.from_str(str(text)))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}, row {row}: architecture {text!r} is not of the "
                             f"{space.name!r} space: {exc}") from exc
    return archs, y

"""The base of every predictor: scikit-learn's parameter validation and fitted-state checks,
plus the checks of architectures and targets that scikit-learn's array checks cannot do."""
from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral, Real
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_consistent_length
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from archgraph.predictors import serialization
from archgraph.spaces import ProductSpace, SearchSpace
from archgraph.utils.memory import check_memory
from archgraph.utils.validation import check_finite, check_int

#: ``_parameter_constraints`` entries shared by the predictors
POSITIVE_INT = [Interval(Integral, 1, None, closed="left")]
POSITIVE_FLOAT = [Interval(Real, 0, None, closed="neither")]
NON_NEGATIVE_FLOAT = [Interval(Real, 0, None, closed="left")]
#: a seed, a legacy ``RandomState`` (seeds a ``Generator``) or a ``numpy.random.Generator``
RANDOM_STATE = [Interval(Integral, 0, None, closed="left"), np.random.RandomState,
                np.random.Generator, None]


#: largest target magnitude a predictor fits: standardized in float64, the GCNs' float32
#: outputs times the targets' spread stay finite (3.4e38 * 2e30 < 1.8e308), so no prediction
#: is +-inf or NaN; accuracies, losses and latencies are many orders of magnitude smaller
TARGET_LIMIT = 1e30


def check_targets(archs: list, y, owner: str) -> np.ndarray:
    """``y`` as a finite float array ``[len(archs)]`` within ``+-TARGET_LIMIT``; ``owner``
    names the method."""
    y = check_finite(y, "y", owner)
    big = np.flatnonzero(np.abs(y) > TARGET_LIMIT)
    if big.size:
        raise ValueError(f"The 'y' parameter of {owner} must hold numbers in [-{TARGET_LIMIT:g}, "
                         f"{TARGET_LIMIT:g}]. Got {y[big[0]]:g} at position {big[0]} "
                         f"({big.size} out of range in all).")
    try:
        check_consistent_length(archs, y)
    except ValueError as exc:
        raise ValueError(f"The 'archs' and 'y' arguments of {owner} must have the same "
                         f"length. Got {len(archs)} architectures and {len(y)} targets.") from exc
    return y


def check_device(device, owner: str) -> torch.device:
    """``device`` (declared ``[str, torch.device]``) as a ``torch.device``; the constraint
    cannot tell a device name from any other string."""
    try:
        return torch.device(device)
    except (TypeError, RuntimeError) as exc:
        raise ValueError(f"The 'device' parameter of {owner} must name a torch device "
                         f"('cpu', 'cuda', 'cuda:0', ...). Got {device!r} instead.") from exc


class ArchEstimator(BaseEstimator):
    """Fit template of the estimators over architectures (predictors and the classifier
    stage of :class:`~archgraph.predictors.TwoStagePredictor`).

    ``fit(archs, y)`` takes a sequence of architectures of ``self.space`` (a list, so
    scikit-learn's cross-validation can index it) and one target each: it validates the
    ``_parameter_constraints`` (scikit-learn's ``_fit_context``), the architectures against
    the space and the targets, then calls ``_fit(archs, y)``. Subclasses declare their
    constraints, implement ``_fit`` and may override ``_check_y``.
    """

    _parameter_constraints: dict = {"space": [SearchSpace]}

    def _check_archs(self, archs, name: str = "archs") -> list:
        """``archs`` as a non-empty list, each validated against the space."""
        owner = type(self).__name__
        if isinstance(archs, (str, bytes)) or not isinstance(archs, Iterable):
            raise TypeError(f"The '{name}' argument of {owner} must be a sequence of "
                            f"architectures. Got {type(archs).__name__} instead.")
        archs = list(archs)
        if not archs:
            raise ValueError(f"The '{name}' argument of {owner} must hold at least one "
                             f"architecture. Got an empty sequence.")
        if any(isinstance(a, str) for a in archs):  # the space's strings, as str(arch) gives
            archs = [self.space.from_str(a) if isinstance(a, str) else a for a in archs]
        if isinstance(self.space, ProductSpace):
            self.space.encode(archs)  # vectorized-friendly validation of every arch
        else:
            for a in archs:
                self.space.validate(a)
        return archs

    def _check_y(self, archs: list, y) -> np.ndarray:
        return check_targets(archs, y, f"{type(self).__name__}.fit")

    # -- files -----------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write this estimator (hyperparameters and, if fitted, its fitted state) to
        ``path`` without pickle: a safetensors file with a JSON header and a SHA-256
        (:mod:`archgraph.predictors.serialization`); read it back with
        :func:`archgraph.predictors.load`."""
        return serialization.save(self, path)

    def _fitted_state(self) -> dict:
        """Fitted attributes to store, as values the file format encodes (numbers, strings,
        arrays, tensors, devices, spaces, estimators, and tuples/lists/dicts of them).
        Subclasses replace what it cannot encode (torch modules, scikit-learn models) by
        their numbers and rebuild them in :meth:`_restore_fitted`."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def _restore_fitted(self, state: dict) -> None:
        """Set the fitted attributes of :meth:`_fitted_state` on a new estimator."""
        for key, value in state.items():
            setattr(self, key, value)

    @_fit_context(prefer_skip_nested_validation=False)  # stages validate their own parameters
    def fit(self, archs: Sequence, y) -> "ArchEstimator":
        """Fit on architectures ``archs`` and their targets ``y``; returns ``self``."""
        archs = self._check_archs(archs)
        y = self._check_y(archs, y)
        if len(y) < 2:
            raise ValueError(f"{type(self).__name__}.fit needs at least 2 architectures. "
                             f"Got {len(y)}.")
        self._fit(archs, y)
        self.n_train_ = len(archs)
        return self


class BasePredictor(RegressorMixin, ArchEstimator):
    """Base of every predictor of ``archgraph.predictors``: a scikit-learn regressor over
    architectures. ``predict(archs)`` returns a float array ``[len(archs)]``; subclasses
    implement ``_fit`` and ``_predict`` (or override ``fit`` and ``predict``)."""

    def predict(self, archs: Sequence) -> np.ndarray:
        """Predicted accuracies ``[len(archs)]`` of ``archs``."""
        check_is_fitted(self)
        return np.asarray(self._predict(self._check_archs(archs)), dtype=np.float64)

    #: bytes per architecture a chunk of :meth:`predict_space` holds besides its output
    #: (choice matrix, architectures and their encodings); subclasses with a heavier working
    #: set override :meth:`_chunk_bytes`
    CHUNK_BYTES_PER_ARCH = 4096

    def _chunk_bytes(self, space: ProductSpace, chunk_size: int) -> int:
        return chunk_size * self.CHUNK_BYTES_PER_ARCH

    def predict_space(self, space: ProductSpace | None = None, *, chunk_size: int = 65536,
                      progress: bool = False, max_memory_gb: float | None = None) -> np.ndarray:
        """Predicted accuracies of every architecture of a product (sub)space, in its
        :meth:`~archgraph.spaces.ProductSpace.index` order, streamed from the choice matrix.

        The space is predicted ``chunk_size`` architectures at a time from
        :meth:`~archgraph.spaces.ProductSpace.choice_block`, so memory is the output
        (8 bytes per architecture) plus one chunk's working set, estimated and checked
        against ``max_memory_gb`` before anything is allocated. The numbers equal
        ``predict(list(space.enumerate()))``; predictors over one shared topology
        (:class:`~archgraph.predictors.NeuralPredictor` on chain spaces) build their inputs
        straight from the choices, with no architecture object at all.

        Args:
            space: the predictor's space or a subspace of it (``space.subspace(...)``);
                default: the predictor's own space.
            chunk_size: architectures per chunk.
            progress: show a tqdm progress bar over chunks.
            max_memory_gb: memory budget in GiB; ``None``: 90% of what the process may still
                use (free memory, ``ulimit -v``, the cgroup limit).

        Returns:
            float64 array ``[len(space)]``.
        """
        check_is_fitted(self)
        owner = f"{type(self).__name__}.predict_space"
        space = self._check_predict_space(space, owner)
        chunk_size = check_int(chunk_size, "chunk_size", owner, low=1)
        n = len(space)
        chunk = min(chunk_size, n)
        check_memory((8 * n + self._chunk_bytes(space, chunk)) / 2 ** 30, max_memory_gb,
                     f"{owner} over {n:,} architectures of {space.name!r}")
        out = np.empty(n, dtype=np.float64)
        starts = range(0, n, chunk)
        for start in tqdm(starts, desc=type(self).__name__, unit="chunk", disable=not progress):
            stop = min(start + chunk, n)
            out[start:stop] = self._predict_choices(space, space.choice_block(start, stop))
        return out

    def _check_predict_space(self, space, owner: str) -> ProductSpace:
        own = self.space
        space = own if space is None else space
        if not isinstance(space, ProductSpace):
            raise TypeError(f"The 'space' argument of {owner} must be a ProductSpace or a "
                            f"subspace of one (whole-space prediction needs a choice matrix). "
                            f"Got {type(space).__name__} instead.")
        if isinstance(own, ProductSpace) and space.root.signature() != own.root.signature():
            raise ValueError(f"The 'space' argument of {owner} must be the predictor's space "
                             f"{own.name!r} or a subspace of it. Got the {space.name!r} space "
                             f"with another layer/option table.")
        return space

    def _predict_choices(self, space: ProductSpace, choices: np.ndarray) -> np.ndarray:
        """Predictions of one chunk of ``space`` given as its choice matrix; the generic path
        decodes the chunk's architectures (subclasses skip that where they can)."""
        return np.asarray(self._predict(space.decode(choices)), dtype=np.float64)

r"""Correct & Smooth over the graph of a whole (sub)space: labels and structure together.

Huang et al., "Combining Label Propagation and Simple Models Out-performs Graph Neural
Networks" (ICLR 2021, https://arxiv.org/abs/2010.13993), on the Hamming-1 graph of Chen et al.
(AAAI 2021, https://arxiv.org/abs/2004.08423). Three steps:

1. **Base model**: ridge regression on the per-layer one-hot codes and the joint one-hot
   codes of layer pairs (none, neighbouring layers ``(l, l + 1)`` or all pairs; by default
   the kind of lowest leave-one-out error). It is a sum of per-layer and per-pair terms, so
   it is evaluated on the whole ``[O_1, ..., O_L]`` grid by broadcasting, never per
   architecture.
2. **Correct**: the base model's residuals ``r = y - b`` on the labelled nodes spread over the
   graph, :math:`E \leftarrow (1 - \alpha_c) E_0 + \alpha_c \hat A E` with the labelled nodes
   reset to their residual after every step; :math:`Z = b + s E`.
3. **Smooth**: :math:`G \leftarrow (1 - \alpha_s) G_0 + \alpha_s \hat A G` from
   :math:`G_0 = Z`, the labelled nodes anchored to their labels after every step. A labelled
   node's own prediction is its cross-validated value (below), or its label.

:math:`\hat A = D^{-1/2}(A + I)D^{-1/2}` is applied by the implicit Kronecker-sum operator
(:class:`~archgraph.graphs.kronecker.KroneckerAdjacency`), so no edge is stored and spaces of
millions of nodes fit. The amounts of correction (:math:`\alpha_c, s`) and smoothing
(:math:`\alpha_s`) are chosen inside ``fit`` by k-fold cross-validation on the labelled nodes
(each fold refits the base model on the other folds and propagates from them only), every
grid point of a fold from the same two power sequences (:func:`propagate_grid`), so the
cross-validation costs a few propagations of one column per fold whatever the grid size.
"""
from __future__ import annotations

import itertools
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context, clone
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from archgraph.graphs.kronecker import KroneckerAdjacency
from archgraph.graphs.similarity import check_similarity
from archgraph.metrics import kendall_tau
from archgraph.predictors.base import (
    POSITIVE_INT,
    RANDOM_STATE,
    check_device,
    check_targets,
)
from archgraph.predictors.registry import register_predictor
from archgraph.predictors.space_gcn import TransductivePredictor, resolve_space
from archgraph.spaces import ProductSpace
from archgraph.utils.memory import check_memory
from archgraph.utils.validation import check_random_state

#: L2 penalties tried by the base ridge (leave-one-out, scikit-learn's ``RidgeCV``)
RIDGE_ALPHAS = tuple(np.logspace(-3, 3, 13))


def _check_grid(values, name: str, owner: str, low: float, high: float | None) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.zeros(0)
    ok = arr.ndim == 1 and arr.size > 0 and np.all(np.isfinite(arr)) and np.all(arr >= low) and (
        high is None or np.all(arr <= high))
    if not ok:
        bound = f"[{low}, {high}]" if high is not None else f"[{low}, inf)"
        raise ValueError(f"The '{name}' parameter of {owner} must be a non-empty sequence of "
                         f"numbers in {bound}. Got {values!r} instead.")
    return arr


#: layer pairs of the base model's interaction features
INTERACTIONS = ("none", "neighbours", "all")


def layer_pairs(num_layers: int, interactions: str) -> list[tuple[int, int]]:
    """The layer pairs ``(i, j)``, ``i < j``, coded jointly: none, ``(l, l + 1)`` or all."""
    if interactions == "none":
        return []
    if interactions == "neighbours":
        return [(l, l + 1) for l in range(num_layers - 1)]
    return list(itertools.combinations(range(num_layers), 2))


def pair_features(choices: np.ndarray, num_options, pairs) -> np.ndarray:
    """One-hot codes of each layer and of each layer pair in ``pairs``:
    ``[n, L] -> [n, sum_l O_l + sum_(i,j) O_i O_j]`` float64."""
    n = choices.shape[0]
    rows = np.arange(n)
    blocks = []
    for l, o in enumerate(num_options):
        b = np.zeros((n, o))
        b[rows, choices[:, l]] = 1.0
        blocks.append(b)
    for i, j in pairs:
        o, p = num_options[i], num_options[j]
        b = np.zeros((n, o * p))
        b[rows, choices[:, i] * p + choices[:, j]] = 1.0
        blocks.append(b)
    return np.concatenate(blocks, axis=1)


def additive_grid(num_options, intercept: float, coef: np.ndarray, pairs) -> np.ndarray:
    """The base model on every node, ``[N]`` float64 in index order, by broadcasting the
    per-layer and per-pair weights over the ``[O_1, ..., O_L]`` grid."""
    shape = tuple(num_options)
    num_layers = len(shape)
    grid = np.full(shape, float(intercept))
    col = 0
    for l, o in enumerate(shape):
        view = [1] * num_layers
        view[l] = o
        grid += coef[col:col + o].reshape(view)
        col += o
    for i, j in pairs:
        o, p = shape[i], shape[j]
        view = [1] * num_layers
        view[i], view[j] = o, p
        grid += coef[col:col + o * p].reshape(view)
        col += o * p
    return grid.reshape(-1)


def propagate(adj, start: torch.Tensor, alpha: torch.Tensor, anchors: torch.Tensor,
              num_iterations: int) -> torch.Tensor:
    r"""``num_iterations`` steps of :math:`G \leftarrow (1 - \alpha) G_0 + \alpha \hat A G`
    from :math:`G = G_0`, column ``k`` with its own :math:`\alpha_k`; after every step the
    entries ``anchors`` (flat positions into ``[N, K]``) are reset to their value in ``G_0``.

    Shapes:
        - start: ``[N, K]``; alpha: ``[K]``; anchors: ``[A]`` int64
        - output: ``[N, K]``
    """
    kept = (1 - alpha) * start  # [N, K]
    anchor_values = start.reshape(-1)[anchors]  # [A]
    g = start
    for _ in range(num_iterations):
        g = adj @ g  # [N, K]
        g.mul_(alpha).add_(kept)
        g.view(-1)[anchors] = anchor_values
    return g


def propagate_grid(adj, start: torch.Tensor, alphas: torch.Tensor, anchors: torch.Tensor,
                   num_iterations: int, rows: torch.Tensor | None = None) -> torch.Tensor:
    r"""Every column of ``start`` propagated as by :func:`propagate` with every
    :math:`\alpha_j` of ``alphas``, from two power sequences per column instead of one
    propagation per (column, :math:`\alpha`) pair.

    With the anchored entries :math:`L` reset after every step and the free ones :math:`U`,
    a step acts on :math:`U` as :math:`g_U \leftarrow (1 - \alpha) s_U + \alpha (P g_U + b)`
    with :math:`P = \hat A_{UU}` and :math:`b = \hat A_{UL} s_L`, so after :math:`T` steps
    from :math:`g = s`

    .. math:: g_U = \sum_{k < T} \alpha^k \big((1 - \alpha) P^k s_U + \alpha P^k b\big)
              + \alpha^T P^T s_U,

    whose powers :math:`P^k s_U, P^k b` do not depend on :math:`\alpha`: each step costs one
    operator application on ``2F`` columns (``F`` when :math:`s_U = 0`) for any number of
    :math:`\alpha`, and only the ``rows`` asked for are accumulated.

    Shapes:
        - start: ``[N, F]``; alphas: ``[J]``; anchors: ``[A]`` flat positions into ``[N, F]``
        - rows: ``[R]`` node indices or ``None`` (all ``N``)
        - output: ``[R, F, J]``
    """
    n, f = start.shape
    anchored = torch.zeros(n * f, dtype=torch.bool, device=start.device)
    anchored[anchors] = True
    anchored = anchored.view(n, f)
    free = start.masked_fill(anchored, 0.0)  # s_U
    has_free = bool(free.any())
    b = adj @ (start - free)  # A s_L
    b.masked_fill_(anchored, 0.0)
    v = torch.cat([free, b], dim=1) if has_free else b  # [N, 2F] or [N, F]
    del b
    node, col = anchors // f, anchors % f
    v_anchors = torch.cat([node * v.shape[1] + col, node * v.shape[1] + f + col]
                          if has_free else [node * v.shape[1] + col])
    pick = (lambda t: t) if rows is None else (lambda t: t[rows])
    out = torch.zeros((n if rows is None else len(rows), f, len(alphas)), dtype=start.dtype,
                      device=start.device)  # [R, F, J]
    power = torch.ones_like(alphas)  # alpha^k
    for _ in range(num_iterations):
        vk = pick(v)[:, :, None]  # [R, 2F or F, 1]
        if has_free:
            out.addcmul_(vk[:, :f], power * (1 - alphas))
        out.addcmul_(vk[:, -f:], power * alphas)
        power = power * alphas
        v = adj @ v
        v.view(-1)[v_anchors] = 0.0
    if has_free:  # the last term: alpha^T P^T s_U
        out.addcmul_(pick(v)[:, :f, None], power)
    fixed = pick(anchored)  # [R, F]
    out[fixed] = pick(start)[fixed][:, None]
    return out


def _fold_anchors(folds: list, nodes: np.ndarray, device) -> torch.Tensor:
    """Flat positions into ``[N, folds]`` of each fold column's anchored (training) nodes."""
    width = len(folds)
    return torch.cat([torch.as_tensor(nodes[train] * width + k)
                      for k, (train, _) in enumerate(folds)]).to(device)


@register_predictor("correct_smooth")
class CorrectSmoothPredictor(TransductivePredictor):
    """Transductive regressor over a product (sub)space: ridge base model, residual
    correction and smoothing over the Hamming-1 graph (Correct & Smooth, module docstring).

    ``fit(archs, y)`` chooses the correction and smoothing amounts by ``cv``-fold
    cross-validation on the labelled nodes, refits on all of them and predicts every node of
    the space once; a labelled node predicts its cross-validated value (from the folds that
    do not hold it) or, with ``labelled="label"``, its label.
    The plain GCN of Chen et al. is :class:`~archgraph.predictors.SpaceGCNPredictor`.

    Args:
        space: the :class:`~archgraph.spaces.ProductSpace` or ``Subspace`` to fit; ``None``
            takes the registered space the labelled architectures belong to.
        base: the base model: ``"ridge"`` (the ridge on layer and layer-pair codes below)
            or any predictor with ``fit`` and ``predict_space`` (e.g. a
            :class:`~archgraph.predictors.NeuralPredictor`), cloned and refitted on every
            fold, its whole-space predictions corrected and smoothed over the graph.
        interactions: layer pairs coded jointly in the ridge base's features: ``"none"``,
            ``"neighbours"`` (``(l, l + 1)``, for chains), ``"all"`` (every pair, e.g. the
            edges of a cell) or ``"auto"`` (the one of lowest leave-one-out error of the
            ridge on all labelled nodes).
        correction_alphas: grid of :math:`\\alpha_c` in [0, 1) (0 = no correction away from
            the labelled nodes).
        correction_scales: grid of the scale :math:`s` of the propagated residuals.
        smoothing_alphas: grid of :math:`\\alpha_s` in [0, 1) (0 = no smoothing).
        num_iterations: propagation steps of each stage.
        cv: folds of the cross-validation over the labelled nodes.
        labelled: what a labelled node predicts: ``"out_of_fold"`` (its cross-validated
            prediction from the other labelled nodes, on the same scale as every other
            node's) or ``"label"`` (its label, the mean if repeated). Labels spread wider
            than smoothed predictions, so with ``"label"`` the labelled nodes crowd the top
            of the ranking by their noise (NAS-Bench-201: precision at the top 1% of all
            cells 0.09-0.21 against 0.37-0.47 with ``"out_of_fold"`` at M >= 500 real
            12-epoch labels, BENCHMARKS.md).
        scoring: held-out criterion, ``"mse"`` (mean squared error to the held-out labels)
            or ``"kendall"`` (their Kendall tau, mean over folds).
        similarity: per-layer ``[O_l, O_l]`` edge weights; ``None`` = uniform.
        device: torch device of the propagation.
        random_state: seed of the fold assignment.
        max_memory_gb: memory budget checked before allocating; ``None`` = 90% of the
            available memory.
        verbose: show a progress bar over the stages.

    Attributes:
        space_: the fitted space.
        predictions_: predicted value of every node in ``space_`` index order, ``[N]``.
        interactions_: the layer pairs of the ridge base (``"none"``, ``"neighbours"`` or
            ``"all"``; ``None`` for another base).
        base_estimator_: the base predictor fitted on all labelled nodes (``None`` for the
            ridge, whose numbers follow).
        base_intercept_, base_coef_: the base ridge fitted on all labelled nodes
            (``base_coef_`` ``[sum_l O_l + sum_(i,j) O_i O_j]``, layers then pairs).
        base_alpha_: its L2 penalty (leave-one-out choice).
        correction_alpha_, correction_scale_, smoothing_alpha_: the chosen amounts.
        correction_scores_: held-out score ``[len(correction_alphas), len(correction_scales)]``
            (higher is better; ``-MSE`` for ``"mse"``).
        smoothing_scores_: held-out score ``[len(smoothing_alphas)]``.
        labelled_nodes_: the distinct labelled nodes ``[M']``; labels_: their labels ``[M']``.
        out_of_fold_: each labelled node's cross-validated prediction (from the other folds,
            chosen amounts) ``[M']``.
        memory_estimate_gb_: the estimate checked against ``max_memory_gb``.
        n_train_: number of labelled architectures.
    """

    _parameter_constraints: dict = {
        "space": [ProductSpace, None],
        "base": [StrOptions({"ridge"}), HasMethods(["fit", "predict_space"])],
        "interactions": [StrOptions({"auto", *INTERACTIONS})],
        "correction_alphas": ["array-like"], "correction_scales": ["array-like"],
        "smoothing_alphas": ["array-like"], "num_iterations": POSITIVE_INT,
        "cv": [Interval(Integral, 2, None, closed="left")],
        "scoring": [StrOptions({"mse", "kendall"})],
        "labelled": [StrOptions({"label", "out_of_fold"})], "similarity": ["array-like", None],
        "device": [str, torch.device], "random_state": RANDOM_STATE,
        "max_memory_gb": [Interval(Real, 0, None, closed="neither"), None],
        "verbose": ["verbose"],
    }

    def __init__(self, space=None, *, base="ridge", interactions: str = "auto",
                 correction_alphas=(0.0, 0.5, 0.8, 0.9, 0.95), correction_scales=(1.0,),
                 smoothing_alphas=(0.0, 0.1, 0.2, 0.3, 0.5, 0.8, 0.9, 0.95),
                 num_iterations: int = 50,
                 cv: int = 5, scoring: str = "kendall", labelled: str = "out_of_fold",
                 similarity=None, device="cpu", random_state=None,
                 max_memory_gb: float | None = None, verbose: bool = False):
        self.space = space
        self.base = base
        self.interactions = interactions
        self.correction_alphas = correction_alphas
        self.correction_scales = correction_scales
        self.smoothing_alphas = smoothing_alphas
        self.num_iterations = num_iterations
        self.cv = cv
        self.scoring = scoring
        self.labelled = labelled
        self.similarity = similarity
        self.device = device
        self.random_state = random_state
        self.max_memory_gb = max_memory_gb
        self.verbose = verbose

    def memory_estimate_gb(self, space) -> float:
        """Estimated peak memory (GiB) of fitting ``space``."""
        grid = len(np.atleast_1d(self.correction_alphas))
        # float32 [N, folds]: every correction amount's result (grid), then the bases, start,
        # corrected values, free part and two-column power iterate with the operator's
        # buffers in the smoothing stage (12); float64 [N]: base grid, predictions, a
        # temporary (3)
        return len(space) * (4 * self.cv * (grid + 12) + 3 * 8) / 2 ** 30

    # -- steps ----------------------------------------------------------------------------
    @staticmethod
    def _ridge(space, choices: np.ndarray, y: np.ndarray, interactions: str):
        pairs = layer_pairs(space.num_layers, interactions)
        x = pair_features(choices, space.num_options, pairs)
        # one SVD for every penalty: the same leave-one-out choice as the default mode, 2-3x faster
        return RidgeCV(alphas=RIDGE_ALPHAS, gcv_mode="svd").fit(x, y), pairs

    def _choose_interactions(self, space, choices: np.ndarray, y: np.ndarray) -> str | None:
        if not isinstance(self.base, str):
            return None
        if self.interactions != "auto":
            return self.interactions
        scores = [self._ridge(space, choices, y, kind)[0].best_score_ for kind in INTERACTIONS]
        return INTERACTIONS[int(np.argmax(scores))]  # LOO negative MSE; first of equals

    def _base(self, space, nodes: np.ndarray, y: np.ndarray, interactions: str | None):
        """Fit the base model on ``nodes``; return ``(fitted, grid [N])``, ``fitted`` the
        predictor or, for the ridge, ``(intercept, coef, alpha)``."""
        if not isinstance(self.base, str):
            model = clone(self.base)
            if model.get_params().get("space", space) is None:  # the space being fitted
                model.set_params(space=space.root)
            model.fit(space.from_index(nodes), y)
            return model, np.asarray(model.predict_space(space), dtype=np.float64)
        choices = np.stack(np.unravel_index(nodes, space.num_options), axis=1)  # [n, L]
        ridge, pairs = self._ridge(space, choices, y, interactions)
        grid = additive_grid(space.num_options, ridge.intercept_, ridge.coef_, pairs)
        return (float(ridge.intercept_), ridge.coef_.astype(np.float64),
                float(ridge.alpha_)), grid

    def _score(self, y_true: np.ndarray, y_pred: np.ndarray) -> float:
        if self.scoring == "kendall":
            return kendall_tau(y_true, y_pred) if len(y_true) > 1 else 0.0
        return -float(np.mean((y_true - y_pred) ** 2))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, archs, y) -> "CorrectSmoothPredictor":
        """Fit on labelled architectures ``archs`` of the space with targets ``y``."""
        owner = type(self).__name__
        archs = list(archs)
        y = check_targets(archs, y, f"{owner}.fit")
        space = resolve_space(self.space, archs, owner)
        c_alphas = _check_grid(self.correction_alphas, "correction_alphas", owner, 0.0, 1.0)
        scales = _check_grid(self.correction_scales, "correction_scales", owner, 0.0, None)
        s_alphas = _check_grid(self.smoothing_alphas, "smoothing_alphas", owner, 0.0, 1.0)
        for name, grid in (("correction_alphas", c_alphas), ("smoothing_alphas", s_alphas)):
            if np.any(grid >= 1):
                raise ValueError(f"The '{name}' parameter of {owner} must hold numbers in "
                                 f"[0, 1) (1 keeps nothing of the start). Got {grid.tolist()}.")
        nodes_all = space.indices(archs)  # [M]; rejects architectures outside the (sub)space
        nodes, inverse = np.unique(nodes_all, return_inverse=True)  # [M']
        labels = np.bincount(inverse, weights=y) / np.bincount(inverse)  # mean per node [M']
        if len(nodes) <= self.cv:
            raise ValueError(f"{owner}.fit needs more distinct labelled architectures than "
                             f"'cv' folds ({self.cv}). Got {len(nodes)}.")
        if self.similarity is not None:
            check_similarity(self.similarity, space.num_options, owner)
        estimate = self.memory_estimate_gb(space)
        check_memory(estimate, self.max_memory_gb,
                     f"Fitting {owner} on the {len(space):,}-node space")
        device = check_device(self.device, owner)
        seed = int(check_random_state(self.random_state).integers(2 ** 31))
        adj = KroneckerAdjacency.from_space(space, self.similarity, device=device)
        n = len(space)
        choices = np.stack(np.unravel_index(nodes, space.num_options), axis=1)  # [M', L]
        folds = list(KFold(self.cv, shuffle=True, random_state=seed).split(nodes))
        iters = self.num_iterations
        progress = tqdm(total=3, desc=owner, disable=not self.verbose)

        # base model per fold (fitted on the other folds) and on all labelled nodes
        interactions = self._choose_interactions(space, choices, labels)
        bases = np.empty((n, self.cv), dtype=np.float32)  # [N, folds]
        for k, (train, _) in enumerate(folds):
            bases[:, k] = self._base(space, nodes[train], labels[train], interactions)[1]
        center = float(labels.mean())

        # correct: residuals of the fold's base on its training nodes, zero elsewhere
        start = np.zeros((n, self.cv), dtype=np.float32)  # [N, folds]
        for k, (train, _) in enumerate(folds):
            start[nodes[train], k] = labels[train] - bases[nodes[train], k]
        anchors = _fold_anchors(folds, nodes, device)
        e = propagate_grid(adj, torch.from_numpy(start).to(device),
                           torch.as_tensor(c_alphas, dtype=torch.float32, device=device),
                           anchors, iters).cpu().numpy()  # [N, folds, alphas]
        del start
        scores = np.zeros((len(c_alphas), len(scales)))
        for k, (_, val) in enumerate(folds):
            for j in range(len(c_alphas)):
                for i, s in enumerate(scales):
                    pred = bases[nodes[val], k] + s * e[nodes[val], k, j]
                    scores[j, i] += self._score(labels[val], pred) / self.cv
        j, i = np.unravel_index(int(np.argmax(scores)), scores.shape)  # first of equal scores
        c_alpha, scale = float(c_alphas[j]), float(scales[i])
        corrected = bases + scale * e[:, :, j]  # [N, folds]
        del e
        progress.update()

        # smooth: the corrected predictions, the fold's training labels anchored
        start = corrected - center  # [N, folds]
        for k, (train, _) in enumerate(folds):
            start[nodes[train], k] = labels[train] - center
        g = propagate_grid(adj, torch.from_numpy(start).to(device),
                           torch.as_tensor(s_alphas, dtype=torch.float32, device=device),
                           anchors, iters, rows=torch.as_tensor(nodes, device=device))
        g = g.cpu().numpy() + center  # [M', folds, alphas]: row i is node nodes[i]
        del start
        s_scores = np.zeros(len(s_alphas))
        for k, (_, val) in enumerate(folds):
            for j in range(len(s_alphas)):
                s_scores[j] += self._score(labels[val], g[val, k, j]) / self.cv
        best = int(np.argmax(s_scores))
        s_alpha = float(s_alphas[best])
        out_of_fold = np.empty(len(nodes))  # each labelled node predicted from the others
        for k, (_, val) in enumerate(folds):
            out_of_fold[val] = g[val, k, best]
        del g, corrected, bases
        progress.update()

        # refit on every labelled node with the chosen amounts
        fitted, base = self._base(space, nodes, labels, interactions)
        every = torch.as_tensor(nodes, device=device)
        e0 = torch.zeros((n, 1), dtype=torch.float32, device=device)
        e0[every, 0] = torch.as_tensor(labels - base[nodes], dtype=torch.float32, device=device)
        e = propagate(adj, e0, torch.tensor([c_alpha], device=device), every, iters)
        g0 = torch.as_tensor(base - center, dtype=torch.float32, device=device)[:, None]
        g0.add_(e, alpha=scale)
        del e, e0
        g0[every, 0] = torch.as_tensor(labels - center, dtype=torch.float32, device=device)
        g = propagate(adj, g0, torch.tensor([s_alpha], device=device), every, iters)
        pred = g[:, 0].cpu().double().numpy() + center
        pred[nodes] = labels if self.labelled == "label" else out_of_fold  # exact, float64
        progress.update()
        progress.close()

        self.predictions_ = pred
        self.space_ = space
        self.interactions_ = interactions
        other = not isinstance(self.base, str)
        self.base_estimator_ = fitted if other else None
        self.base_intercept_, self.base_coef_, self.base_alpha_ = (
            (None, None, None) if other else fitted)
        self.correction_alpha_, self.correction_scale_ = c_alpha, scale
        self.smoothing_alpha_ = s_alpha
        self.correction_scores_ = scores
        self.smoothing_scores_ = s_scores
        self.labelled_nodes_ = nodes
        self.labels_ = labels
        self.out_of_fold_ = out_of_fold
        self.memory_estimate_gb_ = estimate
        self.n_train_ = len(archs)
        return self

    def predict_base(self, archs) -> np.ndarray:
        """The base model's predictions ``[n]`` (no correction, no smoothing)."""
        check_is_fitted(self)
        if self.base_estimator_ is not None:
            return self.base_estimator_.predict(list(archs))
        choices = self.space_.encode(list(archs))
        pairs = layer_pairs(self.space_.num_layers, self.interactions_)
        x = pair_features(choices, self.space_.num_options, pairs)
        return x @ self.base_coef_ + self.base_intercept_

    def lookup_table(self):
        """:class:`~archgraph.lookup.LookupTable` of every node: predictions and costs."""
        from archgraph.lookup import LookupTable

        check_is_fitted(self)
        return LookupTable.from_predictions(self.space_, None, self.predictions_,
                                            costs=self.space_.cost_metrics)


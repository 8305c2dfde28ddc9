"""Classical baselines on the one-hot encoding ``space.features(archs)``: ridge, random forest
and a Gaussian process (scikit-learn), gradient-boosted trees (XGBoost, an optional
dependency)."""
from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel
from sklearn.linear_model import Ridge
from sklearn.utils._param_validation import Interval, StrOptions

from archgraph.encoding import onehot_encode
from archgraph.predictors.base import NON_NEGATIVE_FLOAT, POSITIVE_INT, RANDOM_STATE, BasePredictor
from archgraph.predictors.registry import register_predictor
from archgraph.spaces import ProductSpace


def _seed(random_state):
    """``random_state`` as scikit-learn and XGBoost take it: a ``numpy.random.Generator`` is
    replaced by an int drawn from it; ``None``, ints and ``RandomState`` pass unchanged."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2 ** 31))
    return random_state


class OneHotBaseline(BasePredictor):
    """A scikit-learn ``model_`` on the one-hot encoding; on a chain space, whole-space
    prediction encodes the choice matrix directly."""

    def _predict(self, archs: list) -> np.ndarray:
        return self.model_.predict(self.space.features(archs))

    def _predict_choices(self, space, choices: np.ndarray) -> np.ndarray:
        own = self.space
        if not isinstance(own, ProductSpace) or own is not own.root:
            return super()._predict_choices(space, choices)
        full = space.parent_choices(choices) if space is not space.root else choices
        return self.model_.predict(onehot_encode(full, own.num_options))


@register_predictor("ridge")
class RidgePredictor(OneHotBaseline):
    """Ridge regression (L2-penalized least squares) on the one-hot encoding of the space.

    Args:
        space: the search space of the architectures.
        alpha: L2 penalty.

    Attributes:
        model_: the fitted :class:`sklearn.linear_model.Ridge`.
    """

    _parameter_constraints: dict = {**BasePredictor._parameter_constraints,
                                    "alpha": NON_NEGATIVE_FLOAT}

    def __init__(self, space=None, *, alpha: float = 1.0):
        self.space = space
        self.alpha = alpha

    def _fit(self, archs: list, y: np.ndarray) -> None:
        self.model_ = Ridge(alpha=float(self.alpha)).fit(self.space.features(archs), y)

    def _fitted_state(self) -> dict:
        m = self.model_
        return {**super()._fitted_state(),
                "model_": {"coef_": np.asarray(m.coef_), "intercept_": np.asarray(m.intercept_),
                           "n_features_in_": int(m.n_features_in_)}}

    def _restore_fitted(self, state: dict) -> None:
        fitted = state.pop("model_")
        model = Ridge(alpha=float(self.alpha))
        model.coef_ = fitted["coef_"]
        model.intercept_ = (float(fitted["intercept_"]) if fitted["intercept_"].ndim == 0
                            else fitted["intercept_"])
        model.n_features_in_ = fitted["n_features_in_"]
        super()._restore_fitted({**state, "model_": model})


@register_predictor("random_forest")
class RandomForestPredictor(OneHotBaseline):
    """Random forest regression on the one-hot encoding of the space.

    Args:
        space: the search space of the architectures.
        n_estimators: number of trees.
        min_samples_leaf: minimum training architectures per leaf.
        max_features: fraction of the features tried at each split.
        random_state: seed of the bootstrap samples and feature draws.

    Attributes:
        model_: the fitted :class:`sklearn.ensemble.RandomForestRegressor`.
    """

    _parameter_constraints: dict = {**BasePredictor._parameter_constraints,
                                    "n_estimators": POSITIVE_INT, "min_samples_leaf": POSITIVE_INT,
                                    "max_features": [Interval(Real, 0, 1, closed="right")],
                                    "random_state": RANDOM_STATE}

    def __init__(self, space=None, *, n_estimators: int = 100, min_samples_leaf: int = 1,
                 max_features: float = 1.0, random_state=None):
        self.space = space
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.random_state = random_state

    def _fit(self, archs: list, y: np.ndarray) -> None:
        self.model_ = RandomForestRegressor(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_features=float(self.max_features), random_state=_seed(self.random_state),
        ).fit(self.space.features(archs), y)

    def _fitted_state(self) -> dict:
        """The forest as numbers: every tree's node arrays (scikit-learn's ``Tree`` state,
        one array per node field, the trees concatenated) and per-tree node counts, depths
        and seeds."""
        m = self.model_
        states = [t.tree_.__getstate__() for t in m.estimators_]
        nodes = np.concatenate([st["nodes"] for st in states])
        forest = {f"nodes.{field}": np.ascontiguousarray(nodes[field])
                  for field in nodes.dtype.names}
        forest["values"] = np.concatenate([st["values"] for st in states])
        forest["node_count"] = np.array([st["node_count"] for st in states], dtype=np.int64)
        forest["max_depth"] = np.array([st["max_depth"] for st in states], dtype=np.int64)
        forest["tree_seeds"] = np.array([t.random_state for t in m.estimators_], dtype=np.int64)
        forest["n_features_in_"] = int(m.n_features_in_)
        forest["n_outputs_"] = int(m.n_outputs_)
        forest["max_features_"] = m.estimators_[0].max_features_
        return {**super()._fitted_state(), "model_": forest}

    def _restore_fitted(self, state: dict) -> None:
        from sklearn.tree import DecisionTreeRegressor
        from sklearn.tree._tree import NODE_DTYPE, Tree

        forest = state.pop("model_")
        seed = self.random_state
        if isinstance(seed, np.random.Generator):
            seed = None  # the forest's own seed was drawn from it at fit time
        model = RandomForestRegressor(
            n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
            max_features=float(self.max_features), random_state=seed)
        n_features, n_outputs = forest["n_features_in_"], forest["n_outputs_"]
        counts = forest["node_count"]
        if len(counts) != self.n_estimators or counts.sum() != len(forest["values"]):
            raise ValueError(f"the forest holds {len(counts)} trees of {counts.sum()} nodes "
                             f"and {len(forest['values'])} node values, expected "
                             f"{self.n_estimators} trees")
        model.estimator_ = DecisionTreeRegressor()
        model.estimators_ = []
        starts = np.concatenate([[0], np.cumsum(counts)])
        for t, (lo, hi) in enumerate(zip(starts[:-1], starts[1:])):
            nodes = np.empty(hi - lo, dtype=NODE_DTYPE)
            for field in NODE_DTYPE.names:
                nodes[field] = forest[f"nodes.{field}"][lo:hi]
            tree = Tree(n_features, np.ones(n_outputs, dtype=np.intp), n_outputs)
            tree.__setstate__({"max_depth": int(forest["max_depth"][t]),
                               "node_count": int(hi - lo), "nodes": nodes,
                               "values": np.ascontiguousarray(forest["values"][lo:hi])})
            est = DecisionTreeRegressor(min_samples_leaf=self.min_samples_leaf,
                                        max_features=float(self.max_features),
                                        random_state=int(forest["tree_seeds"][t]))
            est.tree_ = tree
            est.n_features_in_ = n_features
            est.n_outputs_ = n_outputs
            est.max_features_ = forest["max_features_"]
            model.estimators_.append(est)
        model.n_features_in_ = n_features
        model.n_outputs_ = n_outputs
        super()._restore_fitted({**state, "model_": model})


#: hyperparameter bounds of :class:`GaussianProcessPredictor`'s kernel, on targets
#: standardized by ``normalize_y`` (variance 1) and one-hot inputs (two architectures that
#: differ in k layers lie sqrt(2 k) apart). At a length scale of 1, neighbours (sqrt(2)
#: apart) correlate by 0.32 (Matern 5/2) or 0.37 (RBF); much shorter scales make every
#: architecture nearly independent of the others, a model of pure noise with constant
#: predictions: an optimum of the likelihood that NB201's outliers (cells at 10% accuracy)
#: drove a fit to at N = 50 when the bound was 0.01
GP_VARIANCE_BOUNDS = (1e-3, 1e3)
GP_LENGTH_SCALE_BOUNDS = (1.0, 1e3)
GP_NOISE_BOUNDS = (1e-8, 1e1)


@register_predictor("gp")
class GaussianProcessPredictor(OneHotBaseline):
    """Gaussian-process regression on the one-hot encoding of the space.

    The kernel is ``ConstantKernel * Matern(nu=2.5)`` (or ``* RBF``) with one length scale,
    plus a ``WhiteKernel`` for the label noise, on targets standardized by the model
    (``normalize_y``). Its variance, length scale and noise level maximize the log marginal
    likelihood (L-BFGS-B), started once from variance 1, the median distance between the
    training architectures (within the bounds) and noise 0.1, and ``n_restarts_optimizer``
    more times from points drawn log-uniformly within the bounds (``GP_*_BOUNDS``). The fit
    is O(N^3) in time and O(N^2) in memory: meant for hundreds to a few thousand
    architectures.

    Args:
        space: the search space of the architectures.
        kernel: ``"matern"`` (Matern 5/2) or ``"rbf"`` (squared exponential).
        n_restarts_optimizer: further starts of the hyperparameter search.
        random_state: seed of the restarts' starting points.

    Attributes:
        model_: the fitted :class:`sklearn.gaussian_process.GaussianProcessRegressor`; its
            ``kernel_`` holds the fitted hyperparameters.
    """

    _parameter_constraints: dict = {**BasePredictor._parameter_constraints,
                                    "kernel": [StrOptions({"matern", "rbf"})],
                                    "n_restarts_optimizer": [Interval(Integral, 0, None,
                                                                      closed="left")],
                                    "random_state": RANDOM_STATE}

    def __init__(self, space=None, *, kernel: str = "matern", n_restarts_optimizer: int = 2,
                 random_state=None):
        self.space = space
        self.kernel = kernel
        self.n_restarts_optimizer = n_restarts_optimizer
        self.random_state = random_state

    def _prior_kernel(self, length_scale: float = 1.0):
        shape = (Matern(length_scale, GP_LENGTH_SCALE_BOUNDS, nu=2.5) if self.kernel == "matern"
                 else RBF(length_scale, GP_LENGTH_SCALE_BOUNDS))
        return (ConstantKernel(1.0, GP_VARIANCE_BOUNDS) * shape
                + WhiteKernel(0.1, GP_NOISE_BOUNDS))

    def _regressor(self, kernel, random_state=None) -> GaussianProcessRegressor:
        return GaussianProcessRegressor(kernel, normalize_y=True,
                                        n_restarts_optimizer=self.n_restarts_optimizer,
                                        random_state=random_state)

    def _fit(self, archs: list, y: np.ndarray) -> None:
        from scipy.spatial.distance import pdist

        x = self.space.features(archs)
        dist = np.median(pdist(x))  # [N (N - 1) / 2] pairwise distances
        start = float(np.clip(dist, *GP_LENGTH_SCALE_BOUNDS)) if dist > 0 else 1.0
        self.model_ = self._regressor(self._prior_kernel(start),
                                      _seed(self.random_state)).fit(x, y)

    def _chunk_bytes(self, space, chunk_size: int) -> int:
        # the chunk's kernel against every training architecture, and its distances
        return chunk_size * (self.CHUNK_BYTES_PER_ARCH + 16 * self.n_train_)

    def _fitted_state(self) -> dict:
        """The training inputs, the Cholesky factor ``L_`` of their kernel matrix and
        ``alpha_`` (the standardized targets through it) as computed at fit time, and the
        kernel's fitted hyperparameters as numbers: predictions need no refit."""
        m = self.model_
        params = m.kernel_.get_params()
        return {**super()._fitted_state(), "model_": {
            "X_train_": np.asarray(m.X_train_), "y_train_": np.asarray(m.y_train_),
            "alpha_": np.asarray(m.alpha_), "L_": np.asarray(m.L_),  # dtypes kept: exact
            "y_train_mean": float(m._y_train_mean), "y_train_std": float(m._y_train_std),
            "log_marginal_likelihood_value_": float(m.log_marginal_likelihood_value_),
            "kernel": self.kernel,
            "kernel_": {h.name: float(params[h.name]) for h in m.kernel_.hyperparameters}}}

    def _restore_fitted(self, state: dict) -> None:
        fitted = state.pop("model_")
        kernel = self._prior_kernel()
        if fitted["kernel"] != self.kernel:
            raise ValueError(f"the stored Gaussian process was fitted with the "
                             f"{fitted['kernel']!r} kernel, its parameters say {self.kernel!r}")
        values = fitted["kernel_"]
        names = {h.name for h in kernel.hyperparameters}
        if set(values) != names or not all(np.isfinite(v) and v > 0 for v in values.values()):
            raise ValueError(f"the stored kernel hyperparameters {values!r} are not positive "
                             f"numbers for {sorted(names)} (a {self.kernel!r} kernel)")
        x, alpha, chol = fitted["X_train_"], fitted["alpha_"], fitted["L_"]
        n = state["n_train_"]
        if x.ndim != 2 or x.shape[0] != n or alpha.shape != (n,) or chol.shape != (n, n) \
                or fitted["y_train_"].shape != (n,):
            raise ValueError(f"the stored Gaussian process holds inputs {x.shape}, alpha_ "
                             f"{alpha.shape}, L_ {chol.shape} and y_train_ "
                             f"{fitted['y_train_'].shape}, expected {n} training "
                             f"architectures")
        if not all(np.isfinite(a).all() for a in (x, alpha, chol)):
            raise ValueError("the stored Gaussian process holds non-finite numbers")
        model = self._regressor(self._prior_kernel())
        model.kernel_ = kernel.set_params(**values)
        model.X_train_, model.y_train_ = x, fitted["y_train_"]
        model.alpha_, model.L_ = alpha, chol
        model._y_train_mean = np.float64(fitted["y_train_mean"])
        model._y_train_std = np.float64(fitted["y_train_std"])
        model.log_marginal_likelihood_value_ = fitted["log_marginal_likelihood_value_"]
        model.n_features_in_ = x.shape[1]
        super()._restore_fitted({**state, "model_": model})


def _xgboost():
    try:
        import xgboost
    except ImportError as exc:
        raise ImportError("XGBoostPredictor needs xgboost: pip install 'archgraph[xgboost]' "
                          "(or pip install xgboost-cpu; xgboost on macOS).") from exc
    return xgboost


@register_predictor("xgboost")
class XGBoostPredictor(OneHotBaseline):
    """Gradient-boosted regression trees (`XGBoost <https://xgboost.readthedocs.io>`_) on
    the one-hot encoding of the space; needs the optional ``xgboost`` package
    (``pip install 'archgraph[xgboost]'``).

    The defaults suit a few hundred training architectures: many shallow trees with a small
    step, each on a random 80% of them (squared error, histogram splits).

    Args:
        space: the search space of the architectures.
        n_estimators: number of boosting rounds (trees).
        max_depth: depth of each tree.
        lr: learning rate (shrinkage of each tree).
        subsample: fraction of the training architectures each tree is fitted on.
        n_jobs: threads; ``None``: XGBoost's default (every core, or ``OMP_NUM_THREADS``).
            The numbers do not depend on it.
        random_state: seed of the subsamples.

    Attributes:
        model_: the fitted :class:`xgboost.XGBRegressor`.
    """

    _parameter_constraints: dict = {**BasePredictor._parameter_constraints,
                                    "n_estimators": POSITIVE_INT, "max_depth": POSITIVE_INT,
                                    "lr": [Interval(Real, 0, 1, closed="right")],
                                    "subsample": [Interval(Real, 0, 1, closed="right")],
                                    "n_jobs": [Interval(Integral, 1, None, closed="left"), None],
                                    "random_state": RANDOM_STATE}

    def __init__(self, space=None, *, n_estimators: int = 300, max_depth: int = 4,
                 lr: float = 0.05, subsample: float = 0.8, n_jobs: int | None = None,
                 random_state=None):
        self.space = space
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.lr = lr
        self.subsample = subsample
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _regressor(self, random_state=None):
        return _xgboost().XGBRegressor(
            n_estimators=self.n_estimators, max_depth=self.max_depth,
            learning_rate=float(self.lr), subsample=float(self.subsample), n_jobs=self.n_jobs,
            random_state=random_state, objective="reg:squarederror", tree_method="hist")

    def _fit(self, archs: list, y: np.ndarray) -> None:
        self.model_ = self._regressor(_seed(self.random_state)).fit(self.space.features(archs), y)

    def _fitted_state(self) -> dict:
        """The booster as XGBoost's own binary JSON (UBJSON) model bytes."""
        raw = self.model_.get_booster().save_raw(raw_format="ubj")
        return {**super()._fitted_state(),
                "model_": {"ubj": np.frombuffer(bytes(raw), dtype=np.uint8)}}

    def _restore_fitted(self, state: dict) -> None:
        xgboost = _xgboost()
        raw = state.pop("model_")["ubj"]
        model = self._regressor()
        try:
            model.load_model(bytearray(raw.tobytes()))
        except xgboost.core.XGBoostError as exc:
            raise ValueError(f"its XGBoost model bytes do not load: "
                             f"{str(exc).strip().splitlines()[0]}") from exc
        rounds = model.get_booster().num_boosted_rounds()
        if rounds != self.n_estimators:
            raise ValueError(f"the stored booster has {rounds} boosting rounds, expected "
                             f"n_estimators={self.n_estimators}")
        super()._restore_fitted({**state, "model_": model})

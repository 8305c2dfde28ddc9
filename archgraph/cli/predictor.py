"""``archgraph predictor fit|evaluate``: fit a predictor on a predictor dataset and save it;
rank a held-out dataset with a saved predictor.

Example::

    archgraph predictor fit --data train.parquet --model space_gcn --out gcn.safetensors \\
        --param epochs=300 --param hidden_channels=32
    archgraph predictor evaluate gcn.safetensors --data heldout.parquet
"""
from __future__ import annotations

from archgraph.cli.common import (
    add_command,
    add_json,
    parse_options,
    progress_enabled,
    resolve_space,
    show_dict,
)


def add_parser(sub) -> None:
    p = sub.add_parser("predictor", help="fit and evaluate performance predictors",
                       description="Fit and evaluate predictors (see 'archgraph predictor "
                                   "fit -h').")
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    f = add_command(psub, "fit", "fit a predictor on a predictor dataset and save it",
                    __doc__.split("\n\n")[0])
    f.add_argument("--data", required=True,
                   help="predictor dataset (.parquet/.csv of 'archgraph dataset build')")
    f.add_argument("--model", required=True,
                   help="registered predictor: space_gcn, neural, two_stage, ridge, "
                        "random_forest, gp, xgboost, ...")
    f.add_argument("--out", required=True, help="predictor file to write (.safetensors)")
    f.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="predictor hyperparameter, value read as YAML (repeatable)")
    f.add_argument("--space", default=None,
                   help="search space (registered name or module:attr); default: the "
                        "dataset's 'space' column")
    f.add_argument("--target", default="accuracy", help="numeric column of the dataset to fit")
    f.add_argument("--seed", type=int, default=0,
                   help="random_state of the predictor (unless given by --param)")
    f.add_argument("--quiet", action="store_true", help="no progress bar")
    add_json(f)
    f.set_defaults(func=run_fit)

    e = add_command(psub, "evaluate", "rank a held-out predictor dataset with a saved "
                    "predictor (Kendall tau, Spearman rho, precision at k)")
    e.add_argument("predictor", help="predictor file of 'archgraph predictor fit'")
    e.add_argument("--data", required=True, help="held-out predictor dataset")
    e.add_argument("--target", default="accuracy", help="numeric column of true values")
    e.add_argument("--k", type=float, default=0.1,
                   help="top-k of precision/regret: an int, or a fraction of the rows in (0, 1)")
    e.add_argument("--space", default=None,
                   help="search space (registered name or module:attr) if not registered")
    add_json(e)
    e.set_defaults(func=run_evaluate)


def run_fit(args) -> int:
    from archgraph.datasets import read_predictor_dataset
    from archgraph.predictors import PREDICTORS

    space = resolve_space(args.space) if args.space else dataset_space(args.data)
    archs, y = read_predictor_dataset(args.data, space=space, target=args.target)
    cls = PREDICTORS.get(args.model, owner="archgraph predictor fit", param="--model")
    params = parse_options(args.param, "--param")
    defaults = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"The '--param' argument names {unknown}, which are not parameters "
                         f"of {cls.__name__}. Valid: {', '.join(sorted(defaults))}.")
    if "space" in defaults and "space" not in params:
        params["space"] = space
    if "random_state" in defaults and "random_state" not in params:
        params["random_state"] = args.seed
    if "verbose" in defaults and "verbose" not in params:
        params["verbose"] = progress_enabled(args)
    if args.model == "two_stage" and params.get("threshold") is None:
        raise ValueError("The two_stage predictor needs '--param threshold=ACCURACY' (the "
                         "accuracy separating its classifier's two classes).")
    model = cls(**params).fit(archs, y)
    if "verbose" in defaults:
        model.set_params(verbose=False)  # the saved predictor stays quiet
    model.save(args.out)
    summary = {"predictor": args.model, "file": str(args.out), "space": space.name,
               "n_train": len(archs), "target_min": float(y.min()),
               "target_max": float(y.max())}
    show_dict(summary, args.json)
    return 0


def dataset_space(path):
    """The registered space named by a predictor dataset's ``space`` column."""
    from archgraph.datasets import read_table
    from archgraph.spaces import get_search_space

    frame = read_table(path)
    names = sorted(map(str, set(frame["space"]))) if "space" in frame.columns else []
    if len(names) != 1:
        raise ValueError(f"Predictor-dataset table {str(path)!r} does not name one search "
                         f"space (its 'space' column holds {names[:3]}); pass --space.")
    return get_search_space(names[0])


def run_evaluate(args) -> int:
    from archgraph.datasets import read_predictor_dataset
    from archgraph.metrics import evaluate_ranking
    from archgraph.predictors import load

    space = resolve_space(args.space) if args.space else None
    model = load(args.predictor, space=space)
    if space is None:
        own = getattr(model, "space_", None) or model.space
        space = getattr(own, "root", own)  # a subspace's rows are strings of its root
    archs, y = read_predictor_dataset(args.data, space=space, target=args.target)
    k = int(args.k) if args.k >= 1 else args.k
    pred = model.predict(archs)
    result = {"n": len(archs), **evaluate_ranking(y, pred, k=k)}
    show_dict(result, args.json)
    return 0

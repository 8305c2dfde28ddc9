import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from archgraph.datasets import SyntheticBenchmark
from archgraph.graphs.similarity import measured_similarity
from archgraph.lookup import LookupTable
from archgraph.predictors.space_gcn import SpaceGCNPredictor
from archgraph.spaces import ChoiceArch, ProductSpace, get_search_space


def toy(num_options=(4, 3, 4, 2)):
    return ProductSpace("toy", [[f"op{i}" for i in range(o)] for o in num_options],
                        costs={"flops": (10.0, [np.arange(o) * 2.0 for o in num_options])})


def smooth_target(space, archs):
    """An additive accuracy: every layer's option adds its own amount."""
    return SyntheticBenchmark(space, random_state=0).true_accuracy(archs)


def test_fit_predict_lookup_table():
    space = toy()
    archs = space.sample(40, rng=0)
    y = smooth_target(space, archs)
    model = SpaceGCNPredictor(space, hidden_channels=16, epochs=150, random_state=0).fit(archs, y)
    assert model.fit(archs, y) is model
    assert model.graph_ == "implicit" and model.predictions_.shape == (len(space),)
    everything = list(space.enumerate())
    pred = model.predict(everything)
    assert pred.dtype == np.float64 and np.all(np.isfinite(pred))
    truth = smooth_target(space, everything)
    assert np.corrcoef(pred, truth)[0, 1] > 0.8  # generalizes to unlabelled nodes
    table = model.lookup_table()
    assert isinstance(table, LookupTable) and len(table) == len(space)
    np.testing.assert_allclose(table.frame["accuracy"], model.predictions_)
    np.testing.assert_allclose(table.frame["flops"], space.costs("flops"))
    best = table.query(max_flops=20.0, top_k=3)
    assert len(best) == 3 and (best["flops"] <= 20).all()


def test_same_seed_same_numbers_and_graph_forms_agree():
    space = toy()
    archs = space.sample(30, rng=1)
    y = smooth_target(space, archs)
    kw = dict(hidden_channels=8, epochs=30, random_state=3)
    a = SpaceGCNPredictor(space, graph="materialized", **kw).fit(archs, y)
    b = SpaceGCNPredictor(space, graph="materialized", **kw).fit(archs, y)
    c = SpaceGCNPredictor(space, graph="implicit", **kw).fit(archs, y)
    np.testing.assert_array_equal(a.predictions_, b.predictions_)
    np.testing.assert_allclose(a.predictions_, c.predictions_, rtol=1e-4, atol=1e-4)
    assert c.graph_ == "implicit"


def test_subspace_with_supercell_and_measured_similarity():
    root = toy((3, 3, 3, 3))
    base = root.decode([[0, 0, 0, 0]])[0]
    best = root.decode([[0, 0, 0, 0], [1, 2, 0, 0], [2, 1, 0, 0], [1, 1, 0, 0], [2, 2, 0, 0]])
    sub = root.subspace([0, 1, 2], base).with_supercell([0, 1], best)
    assert sub.num_options == (3, 5)
    archs = sub.sample(8, rng=0)
    rng = np.random.default_rng(0)
    sims = measured_similarity([rng.normal(size=(o, 6)) for o in sub.num_options], kind="rbf")
    model = SpaceGCNPredictor(sub, epochs=5, similarity=sims, features="gray+onehot",
                              random_state=0).fit(archs, np.arange(8.0))
    assert model.predictions_.shape == (len(sub),)
    assert model.lookup_table().frame["flops"].notna().all()


def test_sklearn_clone_and_space_from_registry():
    space = get_search_space("nasbench201")
    archs = space.sample(20, rng=0)
    model = SpaceGCNPredictor(hidden_channels=4, epochs=2, random_state=0)
    assert clone(model).get_params()["hidden_channels"] == 4
    model.fit(archs, np.linspace(0, 1, 20))
    assert model.space_.name == "nasbench201" and len(model.predictions_) == 15625


def test_errors():
    space = toy()
    archs = space.sample(5, rng=0)
    y = np.arange(5.0)
    with pytest.raises(NotFittedError, match="This SpaceGCNPredictor instance is not fitted"):
        SpaceGCNPredictor(space).predict(archs)
    with pytest.raises(TypeError, match="'space' parameter of SpaceGCNPredictor must be an "
                                        "instance of '.*ProductSpace' or None. Got "
                                        "'nasbench201'"):
        SpaceGCNPredictor(space="nasbench201").fit(archs, y)
    with pytest.raises(ValueError, match="'graph' parameter of SpaceGCNPredictor must be a str "
                                         "among .*'implicit'.* Got 'dense' instead"):
        SpaceGCNPredictor(space, graph="dense").fit(archs, y)
    with pytest.raises(ValueError, match="'dropout' parameter .* \\[0.0, 1.0\\). Got 1.5"):
        SpaceGCNPredictor(space, dropout=1.5).fit(archs, y)
    with pytest.raises(ValueError, match="'lr' parameter of SpaceGCNPredictor"):
        SpaceGCNPredictor(space, lr=-1.0).fit(archs, y)
    with pytest.raises(ValueError, match="'hidden_channels' parameter of SpaceGCNPredictor must "
                                         "be an int in the range \\[1, inf\\). Got 0"):
        SpaceGCNPredictor(space, hidden_channels=0).fit(archs, y)
    with pytest.raises(ValueError, match="'max_memory_gb' parameter of SpaceGCNPredictor .* "
                                         "Got 0.0"):
        SpaceGCNPredictor(space, max_memory_gb=0.0).fit(archs, y)
    with pytest.raises(ValueError, match="'device' parameter of SpaceGCNPredictor must name a "
                                         "torch device"):
        SpaceGCNPredictor(space, device="gpu7").fit(archs, y)
    with pytest.raises(TypeError, match="takes from 1 to 2 positional arguments"):
        SpaceGCNPredictor(space, 16)  # hyperparameters are keyword-only
    with pytest.raises(ValueError, match="same length. Got 5 architectures and 4 targets"):
        SpaceGCNPredictor(space).fit(archs, y[:4])
    with pytest.raises(ValueError, match="at least 2 distinct labelled architectures. Got 1"):
        SpaceGCNPredictor(space).fit([archs[0]] * 3, [1.0, 2.0, 3.0])
    sub = space.subspace([0, 1], archs[0])
    outside = next(a for a in space.sample(50, rng=1) if a not in sub)
    with pytest.raises(ValueError, match="outside the subspace"):
        SpaceGCNPredictor(sub).fit(sub.sample(3, rng=0) + [outside], np.arange(4.0))
    with pytest.raises(ValueError, match="must all name one registered space"):
        SpaceGCNPredictor().fit([ChoiceArch("toy", (0,)), ChoiceArch("other", (1,))], [0, 1])
    for graph in ("implicit", "materialized"):
        with pytest.raises(ValueError, match="shape \\(4, 4\\) at layer 0"):
            SpaceGCNPredictor(space, similarity=[np.zeros((2, 2))] * 4,
                              graph=graph).fit(archs, y)
    big = toy((6,) * 9)
    with pytest.raises(MemoryError, match="10,077,696-node space .* more than the "
                                          "'max_memory_gb' budget of 0.50 GiB"):
        SpaceGCNPredictor(big, max_memory_gb=0.5).fit(big.sample(5, rng=0), y)
    model = SpaceGCNPredictor(sub, epochs=2).fit(sub.sample(3, rng=0), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="outside the subspace"):
        model.predict([outside])


@pytest.mark.parametrize("name", ["space_gcn", "correct_smooth"])
def test_transductive_predictors_take_arch_strings(name):
    from archgraph.predictors import get_predictor

    space = get_search_space("macro")
    archs = space.sample(30, rng=0)
    strings = [space.to_str(a) for a in archs]
    y = np.array([space.flops(a) for a in archs]) / 1e6
    kwargs = {"epochs": 5} if name == "space_gcn" else {}
    by_object = get_predictor(name, space=space, random_state=0, **kwargs).fit(archs, y)
    by_string = get_predictor(name, space=space, random_state=0, **kwargs).fit(strings, y)
    np.testing.assert_array_equal(by_string.predict(strings), by_object.predict(archs))

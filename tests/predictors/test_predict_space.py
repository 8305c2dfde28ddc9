"""Whole-space prediction streamed from choice matrices (``predict_space``,
``LookupTable.build``) against the per-architecture path, and the memory checks made before
whole-space allocations."""
import subprocess
import sys

import numpy as np
import pytest

from archgraph.lookup import LookupTable
from archgraph.predictors import (
    NeuralClassifier,
    NeuralPredictor,
    RandomForestPredictor,
    RidgePredictor,
    SpaceGCNPredictor,
    TwoStagePredictor,
)
from archgraph.spaces import get_search_space
from archgraph.utils.memory import available_memory_gb


@pytest.fixture(scope="module")
def fairnas():
    return get_search_space("fairnas")


@pytest.fixture(scope="module")
def labelled(fairnas):
    archs = fairnas.sample(40, rng=0)
    return archs, np.array([fairnas.flops(a) for a in archs]) / 1e6


def _predictors(space, y):
    return [NeuralPredictor(space, epochs=3, random_state=0), RidgePredictor(space),
            RandomForestPredictor(space, n_estimators=5, random_state=0),
            TwoStagePredictor(space, classifier=NeuralClassifier(epochs=3),
                              regressor=RidgePredictor(), threshold=float(np.median(y)),
                              random_state=0)]


@pytest.mark.parametrize("index", range(4))
def test_predict_space_equals_per_arch_path(fairnas, labelled, index):
    model = _predictors(fairnas, labelled[1])[index].fit(*labelled)
    sub = fairnas.subspace([0, 5, 9], fairnas.sample(1, rng=3)[0])  # 216 archs, base fixed
    streamed = model.predict_space(sub, chunk_size=50)  # 5 chunks, the last one partial
    reference = model.predict(list(sub.enumerate()))
    # both paths run the same float32 network / float64 model on identical inputs; the
    # chunking changes the batch composition only, which matmul-based layers do not mix
    np.testing.assert_allclose(streamed, reference, rtol=1e-6, atol=1e-6)
    assert streamed.shape == (len(sub),)


def test_predict_space_of_supercell_subspace(fairnas, labelled):
    model = RidgePredictor(fairnas).fit(*labelled)
    base = fairnas.sample(1, rng=1)[0]
    sub = fairnas.subspace([2, 3], base).with_supercell([4, 5], fairnas.sample(3, rng=2))
    np.testing.assert_array_equal(model.predict_space(sub),
                                  model.predict(list(sub.enumerate())))


def test_space_gcn_predict_space_and_build():
    space = get_search_space("macro")
    archs = space.sample(60, rng=0)
    y = np.array([space.flops(a) for a in archs]) / 1e6
    model = SpaceGCNPredictor(space, epochs=5, random_state=0).fit(archs, y)
    np.testing.assert_array_equal(model.predict_space(), model.predictions_)
    sub = space.subspace([1, 4], archs[0])
    np.testing.assert_array_equal(model.predict_space(sub), model.predict(list(sub.enumerate())))
    table = LookupTable.build(model)
    assert len(table) == len(space)
    np.testing.assert_array_equal(table.frame["accuracy"].to_numpy(), model.predictions_)


def test_lookup_build_equals_from_predictions(fairnas, labelled):
    model = RidgePredictor(fairnas).fit(*labelled)
    sub = fairnas.subspace(range(3), fairnas.default_arch())
    built = LookupTable.build(model, sub, chunk_size=7)
    reference = LookupTable.from_predictions(sub, None, model.predict(list(sub.enumerate())))
    assert built.frame.equals(reference.frame)


def test_predict_space_errors(fairnas, labelled):
    model = RidgePredictor(fairnas).fit(*labelled)
    with pytest.raises(TypeError, match="'space' argument of RidgePredictor.predict_space"):
        model.predict_space(get_search_space("nasbench101"))
    with pytest.raises(ValueError, match="predictor's space 'fairnas' or a subspace"):
        model.predict_space(get_search_space("proxylessnas"))
    with pytest.raises(ValueError, match="'chunk_size' parameter"):
        model.predict_space(fairnas.subspace([0], fairnas.default_arch()), chunk_size=0)
    with pytest.raises(MemoryError, match="predict_space over 609,359,740,010,496"):
        model.predict_space()  # the whole 6^19 space: refused before allocating
    with pytest.raises(MemoryError, match="nothing was allocated"):
        LookupTable.build(model, fairnas.subspace(range(9), fairnas.default_arch()),
                          max_memory_gb=0.1)
    with pytest.raises(TypeError, match="'predictor' argument of LookupTable.build"):
        LookupTable.build(object(), fairnas)


def test_whole_space_allocations_refused_before_allocating(fairnas):
    with pytest.raises(MemoryError, match=r"costs\('flops'\) over every architecture"):
        fairnas.costs("flops")
    with pytest.raises(MemoryError, match="all_choices over every architecture"):
        fairnas.all_choices()
    sub = fairnas.subspace(range(10), fairnas.default_arch())  # 6^10 rows
    with pytest.raises(ValueError, match=r"one value per architecture \(60466176\)"):
        LookupTable.from_predictions(sub, None, np.zeros(3))  # length checked first
    with pytest.raises(MemoryError, match="from_predictions over 60,466,176"):
        LookupTable.from_predictions(sub, None, np.zeros(len(sub), dtype=np.float32),
                                     max_memory_gb=0.5)


def test_memory_budget_honours_rlimit_as():
    """Under ``ulimit -v`` the budget is what the address-space limit still allows, far below
    the machine's free memory."""
    if available_memory_gb() < 8:
        pytest.skip("the check needs a machine with more free memory than the limit set")
    code = ("import resource; from archgraph.utils.memory import available_memory_gb;"
            "resource.setrlimit(resource.RLIMIT_AS, (6 * 2 ** 30, resource.RLIM_INFINITY));"
            "print(available_memory_gb())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert 0 < float(out) < 6

"""Receptive-field tables give the neural predictor network's outputs with each node state
computed once per distinct setting of the layers that reach it."""
import numpy as np
import pytest
import torch

from archgraph.nn.models import ReceptiveFieldTables
from archgraph.predictors import NeuralPredictor
from archgraph.predictors.neural import predict_choices_dense
from archgraph.spaces import get_search_space

# Both paths multiply the same float32 weights with the same inputs; only the order of the
# sums over a node's 2-3 neighbours and of the mean pool differs, a few ulps of outputs of
# order 1 (standardized units), far below 1e-5.
RTOL = ATOL = 1e-5


def _fitted(space, num_layers=3, seed=0):
    archs = space.sample(30, rng=seed)
    y = np.array([space.flops(a) for a in archs]) / 1e6 + np.arange(30) % 3
    return NeuralPredictor(space, num_layers=num_layers, hidden_channels=16,
                           fc_channels=(8,), epochs=5, random_state=seed).fit(archs, y)


def _subspaces(space):
    base = space.sample(1, rng=7)[0]
    yield space.subspace([0, 1, 2], base)  # the first layers, next to the input node
    yield space.subspace([5, 6, 8, 12], base)  # free layers with gaps between them
    yield space.subspace([17, 18], base)  # the last layers, next to the output node
    yield space.subspace([3], base).with_supercell([9, 10], space.sample(4, rng=1))


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_tables_equal_dense_inference(num_layers):
    space = get_search_space("fairnas")
    model = _fitted(space, num_layers)
    template = model.batcher_.template
    for sub in _subspaces(space):
        tables = ReceptiveFieldTables(model.net_.eval(), template, space.num_options,
                                      sub.base.choices, sub.free_layers)
        root = sub.parent_choices(sub.all_choices())
        dense = predict_choices_dense(model.net_, template, root, torch.device("cpu"))
        np.testing.assert_allclose(tables(root).numpy(), dense, rtol=RTOL, atol=ATOL)
        assert tables.num_rows == ReceptiveFieldTables.rows_needed(
            template, space.num_options, sub.free_layers, num_layers)


def test_tables_over_a_whole_root_space():
    space = get_search_space("macro")  # 3^8 architectures, every layer free
    model = _fitted(space)
    choices = space.all_choices().astype(np.int64)
    tables = ReceptiveFieldTables(model.net_.eval(), model.batcher_.template,
                                  space.num_options, np.zeros(space.num_layers, int),
                                  range(space.num_layers))
    dense = predict_choices_dense(model.net_, model.batcher_.template, choices,
                                  torch.device("cpu"))
    np.testing.assert_allclose(tables(choices).numpy(), dense, rtol=RTOL, atol=ATOL)


def test_tables_tabulate_far_fewer_rows_than_the_dense_path():
    space = get_search_space("fairnas")
    model = _fitted(space)
    sub = space.subspace(range(7), space.default_arch())
    rows = ReceptiveFieldTables.rows_needed(model.batcher_.template, space.num_options,
                                            sub.free_layers, 3)
    nodes = model.batcher_.template[0].size(0)
    # windows of at most 5 free layers (6^5 rows) at the middle nodes, instead of every
    # architecture at every node of every layer
    assert rows < len(sub) * nodes * 3 / 20
    assert model._receptive_field_tables(sub) is not None


def test_predict_space_uses_tables_and_matches_per_arch_path():
    space = get_search_space("fairnas")
    model = _fitted(space)
    sub = space.subspace([4, 5, 6, 7], space.sample(1, rng=2)[0])
    assert model._receptive_field_tables(sub) is not None
    np.testing.assert_allclose(model.predict_space(sub, chunk_size=300),
                               model.predict(list(sub.enumerate())), rtol=RTOL, atol=ATOL)
    assert model._space_tables is None  # dropped after the call

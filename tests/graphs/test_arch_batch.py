import pytest
import torch
from torch_geometric.data import Batch

from archgraph.graphs.arch_batch import ArchGraphBatcher
from archgraph.spaces import get_search_space


@pytest.mark.parametrize("name", ["macro", "fairnas", "nasbench201", "nasbench101"])
def test_batch_equals_per_arch_graphs(name):
    space = get_search_space(name)
    archs = space.sample(20, rng=0)
    x, edge_index, batch = ArchGraphBatcher(space).batch(archs)
    want = Batch.from_data_list(space.to_graphs(archs))
    assert torch.equal(x, want.x)
    assert torch.equal(edge_index, want.edge_index)
    assert torch.equal(batch, want.batch)


def test_template_only_for_shared_topology():
    assert ArchGraphBatcher(get_search_space("fairnas")).template is not None
    assert ArchGraphBatcher(get_search_space("nasbench201")).template is None  # none edges pruned
    assert ArchGraphBatcher(get_search_space("nasbench101")).template is None


def test_dense_features():
    space = get_search_space("fairnas")
    archs = space.sample(5, rng=0)
    batcher = ArchGraphBatcher(space)
    x = batcher.dense_features(archs)  # [5, nodes, F]
    assert torch.equal(x.reshape(-1, x.size(-1)), batcher.batch(archs)[0])
    nb201 = get_search_space("nasbench201")
    with pytest.raises(ValueError, match="'nasbench201' space has no shared topology: its "
                                         "graphs must be batched with batch\\(\\)"):
        ArchGraphBatcher(nb201).dense_features(nb201.sample(1, rng=0))


def test_subspace_archs():
    space = get_search_space("macro")
    sub = space.subspace([0, 3, 5], space.sample(1, rng=1)[0])
    archs = list(sub.enumerate())
    x, edge_index, batch = ArchGraphBatcher(sub).batch(archs)
    want = Batch.from_data_list(sub.to_graphs(archs))
    assert torch.equal(x, want.x) and torch.equal(edge_index, want.edge_index)

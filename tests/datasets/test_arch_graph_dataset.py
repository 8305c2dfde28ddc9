import pandas as pd
import pytest
import torch
from torch_geometric.loader import DataLoader

from archgraph.datasets.arch_graph_dataset import ArchGraphDataset
from archgraph.datasets.predictor_dataset import build_predictor_dataset
from archgraph.evaluators import TableEvaluator
from archgraph.spaces import get_search_space
from archgraph.spaces.arch_graph import validate_arch_graph


@pytest.fixture
def table_path(tmp_path):
    space = get_search_space("nasbench201")
    choices = space.all_choices()
    table = pd.DataFrame({"arch": [space.to_str(a) for a in space.decode(choices)],
                          "acc": choices.sum(1).astype(float)})
    path = tmp_path / "nb201.parquet"
    build_predictor_dataset(space, TableEvaluator(space, table, "arch", "acc"), 12, path,
                            progress=False)
    return path


def test_reads_a_predictor_table(table_path, tmp_path):
    space = get_search_space("nasbench201")
    ds = ArchGraphDataset(tmp_path / "root", space, table_path)
    table = pd.read_parquet(table_path)
    assert len(ds) == 12
    for data, (arch, acc) in zip(ds, table[["arch", "accuracy"]].itertuples(index=False)):
        validate_arch_graph(data, space.num_ops)
        ref = space.to_graph(space.from_str(arch), acc)
        assert torch.equal(data.x, ref.x) and torch.equal(data.edge_index, ref.edge_index)
        assert data.y.item() == pytest.approx(acc)
    batch = next(iter(DataLoader(ds, batch_size=5)))
    assert batch.y.shape == (5,)
    again = ArchGraphDataset(tmp_path / "root", space, table_path)  # from the cache
    assert torch.equal(again._data.x, ds._data.x)


@pytest.mark.data
def test_reads_shipped_benchmark(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHGRAPH_DATA", str(shared_data))
    ds = ArchGraphDataset(tmp_path, get_search_space("macro"), "macro")
    assert len(ds) == 6561 and ds.target == "mean_acc"
    assert ds[0].y.item() == pytest.approx(45.3633)


def test_bad_inputs(table_path, tmp_path):
    space = get_search_space("nasbench201")
    with pytest.raises(ValueError, match="'target' parameter of ArchGraphDataset must be one "
                                         "of .*Did you mean 'accuracy'"):
        ArchGraphDataset(tmp_path / "r1", space, table_path, target="acuracy")
    with pytest.raises(FileNotFoundError, match="names no file and no benchmark"):
        ArchGraphDataset(tmp_path / "r2", space, tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="An architecture string of the 'macro' space is 8 "
                                         "digits"):
        ArchGraphDataset(tmp_path / "r3", get_search_space("macro"), table_path)


class _Payload:
    """Unpickling this writes a marker file (what a hostile cache would do)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_cache_is_not_unpickled(table_path, tmp_path):
    import pickle

    space = get_search_space("nasbench201")
    ds = ArchGraphDataset(tmp_path / "root", space, table_path)
    cache = ds.processed_paths[0]
    marker = tmp_path / "pwned"
    with open(cache, "wb") as fh:
        pickle.dump((_Payload(marker), {}), fh)
    torch.save((_Payload(marker), {}), cache)  # also the torch zip format
    with pytest.raises(ValueError, match="Processed cache .* is corrupted"):
        ds.load(cache)
    again = ArchGraphDataset(tmp_path / "root", space, table_path)  # rebuilt, not unpickled
    assert not marker.exists()
    assert len(again) == 12 and torch.equal(again._data.x, ds._data.x)
    assert not marker.exists()

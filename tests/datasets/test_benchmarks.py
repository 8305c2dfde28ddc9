import numpy as np
import pytest

from archgraph.datasets import load_macro, load_nasbench101, load_nasbench201
from archgraph.spaces import get_search_space


def test_missing_dir_names_the_place(tmp_path):
    for loader in (load_nasbench201, load_nasbench101, load_macro):
        with pytest.raises(FileNotFoundError, match=f"{tmp_path}.* does not exist. Pass "
                                                    "data_dir \\(or set ARCHGRAPH_DATA\\)"):
            loader(tmp_path)


def test_no_data_found_mentions_archgraph_data(monkeypatch):
    import archgraph.datasets.benchmarks as benchmarks
    monkeypatch.setattr(benchmarks, "shared_data_dir", lambda: None)
    monkeypatch.delenv("ARCHGRAPH_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="not found: looked in \\$ARCHGRAPH_DATA "
                                                "\\(unset\\) and in ../shared/data"):
        load_macro()


@pytest.mark.data
def test_nasbench201(shared_data):
    frame = load_nasbench201(shared_data)
    assert len(frame) == 15625
    assert (frame["index"].to_numpy() == np.arange(15625)).all()
    assert frame["cifar10_test_200"].max() == pytest.approx(94.373, abs=1e-3)
    space = get_search_space("nasbench201")
    arch = space.from_str(frame["arch"].iloc[1])
    assert space.to_str(arch) == frame["arch"].iloc[1]


@pytest.mark.data
def test_nasbench201_joins(shared_data):
    frame = load_nasbench201(shared_data, latency=True, cost_dataset="cifar10")
    assert len(frame) == 15625
    lat = [c for c in frame.columns if c.startswith("latency_")]
    assert len(lat) == 11 and frame[lat].notna().all().all()
    assert frame["flops_m"].notna().sum() == 725
    with pytest.raises(ValueError, match="'cost_dataset' .* 'cifar10', 'cifar100', "
                                         "'ImageNet16-120'. Got 'imagenet'"):
        load_nasbench201(shared_data, cost_dataset="imagenet")


@pytest.mark.data
def test_nasbench101(shared_data):
    frame = load_nasbench101(shared_data)
    assert len(frame) == 1000
    assert {"arch", "hash", "valid_acc_108", "trainable_parameters"} <= set(frame.columns)
    assert frame["valid_acc_108"].between(0, 1).all()
    assert frame["arch"].nunique() == 1000
    space = get_search_space("nasbench101")
    assert [space.hash(c) for c in frame["arch"]] == frame["hash"].tolist()


@pytest.mark.data
def test_macro_keeps_strings(shared_data):
    frame = load_macro(shared_data)
    assert len(frame) == 6561
    assert frame["arch"].iloc[0] == "00000000"
    assert frame["arch"].str.len().eq(8).all()
    assert frame.loc[0, "flops"] == 7713280 and frame.loc[0, "params"] == 387882
    space = get_search_space("macro")
    np.testing.assert_array_equal(
        space.indices([space.from_str(s) for s in frame["arch"]]), np.arange(6561))

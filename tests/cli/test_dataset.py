import pandas as pd
import pytest
import torch
from torch.utils.data import TensorDataset

from archgraph.cli import main
from archgraph.cli.dataset import parse_options
from archgraph.datasets.predictor_dataset import read_table
from archgraph.evaluators import list_evaluators
from archgraph.spaces import get_search_space


@pytest.fixture
def checkpoint(tmp_path):
    """A macro supernet at digits size, trained one epoch on 64 digits images."""
    from supernet import SupernetConfig, build_supernet
    from supernet.data import load_digits
    from supernet.samplers import UniformSampler
    from supernet.train import train

    torch.set_num_threads(1)
    space = get_search_space("macro")
    net = build_supernet(space, SupernetConfig(width_mult=0.125, input_resolution=8, in_channels=1,
                                         stem_stride=1), random_state=0)
    x, y = load_digits("train").tensors
    path = tmp_path / "supernet.pt"
    train(net, TensorDataset(x[:64], y[:64]), 1, sampler=UniformSampler(space, 0),
          batch_size=32, checkpoint=path, progress=False)
    return path


def test_plugins_are_installed():
    assert {"supernet", "standalone", "table"} <= set(list_evaluators())


def test_build_with_standalone_training(tmp_path):
    out = tmp_path / "t.csv"
    argv = ["dataset", "build", "--space", "digits5", "--evaluator", "standalone", "--n", "2",
            "--out", str(out), "--option", "epochs=1", "--quiet"]
    assert main(argv) == 0
    table = read_table(out)
    assert len(table) == 2 and table["accuracy"].between(0, 100).all()
    assert '"evaluator": "standalone"' in table["evaluator"][0]


def test_build_with_supernet(checkpoint, tmp_path, capsys):
    out = tmp_path / "t.parquet"
    argv = ["dataset", "build", "--space", "macro", "--evaluator", "supernet", "--n", "3",
            "--out", str(out), "--option", f"checkpoint={checkpoint}",
            "--option", "recal_batches=1", "--quiet"]
    assert main(argv) == 0
    table = pd.read_parquet(out)
    assert len(table) == 3 and table["accuracy"].between(0, 100).all()
    assert '"recal_batches": 1' in table["evaluator"][0]
    assert "3 architectures of 'macro'" in capsys.readouterr().out
    assert main(argv) == 0  # resumes: nothing left to do
    pd.testing.assert_frame_equal(pd.read_parquet(out), table)


@pytest.mark.data
def test_build_with_table(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHGRAPH_DATA", str(shared_data))
    out = tmp_path / "t.csv"
    assert main(["dataset", "build", "--space", "nasbench201", "--evaluator", "table",
                 "--n", "5", "--out", str(out), "--quiet"]) == 0
    assert len(read_table(out)) == 5


def test_bad_inputs(checkpoint, tmp_path, capsys):
    base = ["dataset", "build", "--space", "macro", "--n", "2", "--out", str(tmp_path / "t.csv")]
    assert main(base + ["--evaluator", "supernett"]) == 2
    assert "Did you mean 'supernet'" in capsys.readouterr().err
    assert main(base + ["--evaluator", "supernet", "--option", "checkpoint"]) == 2
    assert "'--option' argument must be KEY=VALUE" in capsys.readouterr().err
    assert main(base + ["--evaluator", "supernet", "--option", f"checkpoint={checkpoint}",
                        "--option", "epochs=3"]) == 2
    assert "Bad '--option' for the 'supernet' evaluator" in capsys.readouterr().err
    assert main(["dataset", "build", "--space", "nasbench201", "--n", "2", "--out",
                 str(tmp_path / "u.csv"), "--evaluator", "supernet",
                 "--option", f"checkpoint={checkpoint}"]) == 2
    assert "must hold a supernet of the 'nasbench201' space" in capsys.readouterr().err
    state = torch.load(checkpoint, weights_only=True)
    state["model"]["classifier.weight"] = torch.zeros(2, 2)
    tampered = tmp_path / "tampered.pt"
    torch.save(state, tampered)
    assert main(base + ["--evaluator", "supernet", "--option", f"checkpoint={tampered}"]) == 2
    err = capsys.readouterr().err
    assert f"Checkpoint {str(tampered)!r} is corrupted" in err and "Traceback" not in err
    assert parse_options(["a=1", "b=x", "c=true", "d="]) == {"a": 1, "b": "x", "c": True,
                                                             "d": None}

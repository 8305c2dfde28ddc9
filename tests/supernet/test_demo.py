"""The end-to-end demo runs on the shipped data and writes its outputs."""
import pandas as pd
import pytest

from archgraph.lookup import LookupTable
from supernet import demo


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path, capsys):
    assert demo.main(["--out", str(tmp_path), "--epochs", "1", "--labels", "12",
                      "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "[5/5]" in out and "Kendall tau" in out
    dataset = pd.read_parquet(tmp_path / "predictor_dataset.parquet")
    assert len(dataset) == 12 and dataset["accuracy"].between(0, 100).all()
    table = LookupTable.load(tmp_path / "lookup_table.parquet")
    assert len(table) == 243
    assert (tmp_path / "supernet.pt").is_file() and (tmp_path / "demo.png").is_file()


def test_demo_rejects_bad_label_count(tmp_path):
    with pytest.raises(ValueError, match="'labels' parameter of the demo must be an int in"):
        demo.main(["--out", str(tmp_path), "--labels", "1000"])

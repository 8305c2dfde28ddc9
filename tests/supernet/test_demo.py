"""The end-to-end demo (``examples/digits_demo.py``) runs on the shipped data and writes its
outputs."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from archgraph.lookup import LookupTable

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "digits_demo.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("digits_demo", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_demo_runs_end_to_end(demo, tmp_path, capsys):
    assert demo.main(["--out", str(tmp_path), "--epochs", "1", "--labels", "12",
                      "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "[5/5]" in out and "Kendall tau" in out
    dataset = pd.read_parquet(tmp_path / "predictor_dataset.parquet")
    assert len(dataset) == 12 and dataset["accuracy"].between(0, 100).all()
    table = LookupTable.load(tmp_path / "lookup_table.parquet")
    assert len(table) == 243
    assert (tmp_path / "supernet.pt").is_file() and (tmp_path / "demo.png").is_file()


def test_demo_rejects_bad_label_count(demo, tmp_path):
    with pytest.raises(ValueError, match="'labels' parameter of the demo must be an int in"):
        demo.main(["--out", str(tmp_path), "--labels", "1000"])


def test_demo_runs_as_a_script_from_any_folder(tmp_path):
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)  # this checkout's packages, whatever is installed
    run = subprocess.run([sys.executable, str(SCRIPT), "--help"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("usage: python examples/digits_demo.py")

"""The quickstart notebook runs top to bottom (its code cells, in order, in a scratch folder)."""
import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


@pytest.mark.slow
@pytest.mark.data
def test_quickstart_notebook_runs(shared_data, tmp_path, monkeypatch):
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, str(NOTEBOOK), "exec"), namespace)
    assert (tmp_path / "nb201_lookup.parquet").is_file()
    assert len(namespace["best"]) == 5
    assert (namespace["best"]["flops"] <= namespace["budget"]).all()

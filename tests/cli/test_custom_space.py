"""Spaces named by module path on the command line (``--space mypkg.spaces:mine``), and the
search commands run in-process on the small NAS-Bench-Macro table."""
import json
import sys

import numpy as np
import pandas as pd
import pytest

from archgraph.cli import main
from archgraph.cli.common import parse_count, parse_ms, resolve_space
from archgraph.spaces import ProductSpace


def test_units():
    assert parse_count("400M", "--max-flops") == 400e6
    assert parse_count("3.5M", "--max-params") == 3.5e6
    assert parse_count("2G", "f") == 2e9 and parse_count("600K", "f") == 6e5
    assert parse_count("1e8", "f") == 1e8 and parse_count("60", "f") == 60
    assert parse_ms("80ms", "l") == 80 and parse_ms("0.08s", "l") == 80
    assert parse_ms("500us", "l") == 0.5
    with pytest.raises(ValueError, match="'--max-flops' argument must be a number with an "
                                         "optional K/M/G/T suffix"):
        parse_count("400 MB", "--max-flops")


def test_space_by_module_path(tmp_path, monkeypatch, capsys):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "spaces.py").write_text(
        "from archgraph.spaces import ProductSpace\n"
        "def mine():\n"
        "    return ProductSpace('mine', [['a', 'b', 'c']] * 4,\n"
        "                        costs={'flops': (0.0, [[1e6, 2e6, 3e6]] * 4)})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    space = resolve_space("mypkg.spaces:mine")
    assert isinstance(space, ProductSpace) and space.name == "mine"
    archs = list(space.enumerate())
    y = np.array([sum(a.choices) + 50.0 for a in archs])
    pd.DataFrame({"arch": [space.to_str(a) for a in archs], "space": "mine",
                  "accuracy": y}).to_csv("d.csv", index=False)
    assert main(["predictor", "fit", "--data", "d.csv", "--space", "mypkg.spaces:mine",
                 "--model", "ridge", "--out", "r.safetensors", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_train"] == 81
    assert main(["lookup", "build", "r.safetensors", "--space", "mypkg.spaces:mine",
                 "--out", "t.csv", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["lookup", "query", "t.csv", "--max-flops", "5M", "--top-k", "1",
                 "--space", "mypkg.spaces:mine", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)
    # within 5M FLOPs the choices sum to at most 1, so the truth is 51; ridge (alpha=1) on
    # 81 rows shrinks the per-option effects by a few percent
    assert top[0]["flops"] <= 5e6 and top[0]["accuracy"] == pytest.approx(51, abs=0.5)
    assert sum(int(c) for c in top[0]["arch"]) == 1
    assert main(["predictor", "fit", "--data", "d.csv", "--space", "mypkg.nothere:x",
                 "--model", "ridge", "--out", "r.safetensors"]) == 2
    assert "names the module 'mypkg.nothere', which cannot be imported" in \
        capsys.readouterr().err
    sys.modules.pop("mypkg.spaces", None)
    sys.modules.pop("mypkg", None)


@pytest.mark.data
def test_search_commands(shared_data, monkeypatch, capsys):
    monkeypatch.setenv("ARCHGRAPH_DATA", str(shared_data))
    common = ["--space", "macro", "--evaluator", "table", "--quiet", "--json"]
    assert main(["search", "evolution", *common, "--budget", "40", "--max-flops", "100M"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["evaluations"] == 40 and 0 < out["accuracy"] <= 100
    assert main(["search", "predictor", *common, "--model", "ridge", "--n-train", "30",
                 "--k-top", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["evaluations"] == 35 and len(out["arch"]) == 8
    assert main(["search", "iterative", *common, "--rounds", "2", "--m-samples", "30",
                 "--k-eval", "10", "--param", "epochs=30"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert 1 <= len(out["rounds"]) <= 2

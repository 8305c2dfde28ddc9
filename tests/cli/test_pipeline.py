"""The three jobs from the command line, end to end as a user runs them (subprocesses of
``python -m archgraph.cli``, the ``archgraph`` entry point's module), on NAS-Bench-201 with a
noisy table evaluator; and each failure message, one line with exit status 2."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from archgraph.cli import INTERRUPTED, main

pytestmark = pytest.mark.data


def _env(data_dir) -> dict:
    """This environment (so the child imports the same archgraph), PYTHONPATH made absolute
    (the child runs in another folder), the benchmark tables of ``data_dir``."""
    path = os.pathsep.join(os.path.abspath(p) for p in
                           os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    return {**os.environ, "PYTHONPATH": path, "ARCHGRAPH_DATA": str(data_dir),
            "OMP_NUM_THREADS": "1"}


def _run(args, data_dir, cwd, check=True):
    env = _env(data_dir)
    proc = subprocess.run([sys.executable, "-m", "archgraph.cli", *map(str, args)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def pipeline(shared_data, tmp_path_factory):
    """dataset build (noisy table) -> predictor fit space_gcn -> lookup build."""
    d = tmp_path_factory.mktemp("cli")
    table = ["--space", "nasbench201", "--evaluator", "table", "--quiet"]
    _run(["dataset", "build", *table, "--option", "noise_std=2", "--option", "random_state=0",
          "--n", 150, "--out", "train.parquet"], shared_data, d)
    _run(["dataset", "build", *table, "--n", 200, "--seed", 1, "--out", "heldout.csv"],
         shared_data, d)
    fit = _run(["predictor", "fit", "--data", "train.parquet", "--model", "space_gcn",
                "--out", "gcn.safetensors", "--param", "epochs=100", "--json"], shared_data, d)
    build = _run(["lookup", "build", "gcn.safetensors", "--out", "lut.parquet", "--json",
                  "--quiet"], shared_data, d)
    return d, shared_data, json.loads(fit.stdout), json.loads(build.stdout)


def test_fit_and_build(pipeline):
    d, _, fit, build = pipeline
    assert fit["predictor"] == "space_gcn" and fit["n_train"] == 150
    assert build["rows"] == 15625 and {"flops", "params", "accuracy"} <= set(build["columns"])
    assert (d / "gcn.safetensors").stat().st_mode & 0o044  # normal permissions, not 0600


def test_evaluate_ranks_the_heldout_table(pipeline):
    d, data, _, _ = pipeline
    out = json.loads(_run(["predictor", "evaluate", "gcn.safetensors", "--data", "heldout.csv",
                           "--json"], data, d).stdout)
    assert out["n"] == 200
    # a ranking unrelated to the truth has tau ~ 0 +- 0.05 on 200 rows; 150 noisy labels
    # (std 2 points) give the space GCN far more than that
    assert out["kendall_tau"] > 0.3 and out["spearman_rho"] > 0.4
    assert 0 <= out["precision_at_k"] <= 1


def test_query_under_a_flops_budget_and_pareto(pipeline):
    d, data, _, _ = pipeline
    rows = json.loads(_run(["lookup", "query", "lut.parquet", "--max-flops", "60M",
                            "--max-params", "0.5M", "--top-k", 5, "--json"], data, d).stdout)
    assert len(rows) == 5
    acc = [r["accuracy"] for r in rows]
    assert acc == sorted(acc, reverse=True)
    assert all(r["flops"] <= 60e6 and r["params"] <= 0.5e6 for r in rows)
    assert all(r["arch"].startswith("|") for r in rows)  # the space rebuilt from the file
    human = _run(["lookup", "query", "lut.parquet", "--max-flops", "60M", "--top-k", 3],
                 data, d).stdout
    assert "top 3 of 15,625 architectures within max flops 60M" in human
    front = pd.DataFrame(json.loads(_run(["lookup", "pareto", "lut.parquet", "--cost", "flops",
                                          "--json"], data, d).stdout))
    assert np.all(np.diff(front["flops"]) > 0) and np.all(np.diff(front["accuracy"]) > 0)
    soft = json.loads(_run(["lookup", "pareto", "lut.parquet", "--soft", 3, "--json"],
                           data, d).stdout)
    assert len(soft) >= len(front)


def test_failure_messages(pipeline, capsys, monkeypatch):
    d, data, _, _ = pipeline
    monkeypatch.chdir(d)
    monkeypatch.setenv("ARCHGRAPH_DATA", str(data))

    def fails(argv, pattern):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert pattern in err, err

    q = ["lookup", "query", "lut.parquet"]
    fails(q + ["--max-flops=-5M"], "'--max-flops' argument must be a finite number >= 0")
    fails(q + ["--max-flops", "lots"], "with an optional K/M/G/T suffix")
    fails(q + ["--max-latency", "8 parsecs"], "must be a duration such as 80ms")
    fails(q + ["--min-accuracy", "0.9"], "is in percent (0-100], e.g. 93")
    fails(q + ["--max-latency", "80ms"], "cost column 'latency', which this table lacks")
    assert main(q + ["--max-flops", "60"]) == 0  # 60 FLOPs: empty, and says why
    err = capsys.readouterr().err
    assert "satisfies max_flops=60: its 'flops' column ranges over [7.78" in err
    fails(["predictor", "fit", "--data", "train.parquet", "--model", "space_gnc", "--out",
           "x.safetensors"], "Did you mean 'space_gcn'")
    fails(["predictor", "fit", "--data", "train.parquet", "--model", "ridge", "--out",
           "x.safetensors", "--param", "alpah=1"], "['alpah'], which are not parameters of")
    fails(["predictor", "fit", "--data", "train.parquet", "--model", "ridge", "--out",
           "x.safetensors", "--param", "alpha=-1"], "'alpha' parameter of RidgePredictor")
    fails(["predictor", "fit", "--data", "missing.parquet", "--model", "ridge", "--out", "x"],
          "No predictor-dataset table at")
    raw = (d / "gcn.safetensors").read_bytes()
    (d / "cut.safetensors").write_bytes(raw[:len(raw) // 2])
    fails(["predictor", "evaluate", "cut.safetensors", "--data", "heldout.csv"],
          "Predictor file 'cut.safetensors' is unreadable")
    fails(["lookup", "build", "heldout.csv", "--out", "y.parquet"],
          "Predictor file 'heldout.csv' is unreadable")
    (d / "cut.parquet").write_bytes((d / "lut.parquet").read_bytes()[:5000])
    fails(q[:2] + ["cut.parquet"], "Lookup table 'cut.parquet' is unreadable")
    fails(["lookup", "build", "gcn.safetensors", "--out", "z.parquet", "--layers", "0,1"],
          "needs '--base ARCH'")


def test_bad_flag_is_an_argparse_error(pipeline):
    d, data, _, _ = pipeline
    proc = _run(["lookup", "query", "lut.parquet", "--max-flopz", "1M"], data, d, check=False)
    assert proc.returncode == 2 and "unrecognized arguments" in proc.stderr
    for sub in (["predictor", "fit"], ["lookup", "query"], ["search", "iterative"], ["demo"]):
        text = _run([*sub, "--help"], data, d).stdout
        assert "(default:" in text and "(default: None)" not in text, sub


def test_ctrl_c_says_how_to_resume(shared_data, tmp_path):
    # a build that blocks in its first evaluation (the 'slow' evaluator of the fault driver
    # waits for a gate file that never appears and says so in a file once it waits, every
    # import done), interrupted only then: no sleep whose length depends on the machine
    env = _env(shared_data)
    waiting = tmp_path / "waiting"
    driver = str(Path(__file__).parents[1] / "fault_driver.py")
    proc = subprocess.Popen([sys.executable, driver, "--slow", "0", "--gate",
                             str(tmp_path / "never"), "--waiting", str(waiting), "dataset",
                             "build", "--space", "macro", "--evaluator", "slow", "--n", "20",
                             "--out", str(tmp_path / "t.parquet"), "--quiet"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
                            # as in a terminal: a job started in the background by a shell
                            # (e.g. a CI runner) inherits SIGINT ignored, and Python then
                            # installs no KeyboardInterrupt handler
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 300
        while not waiting.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.strip() == INTERRUPTED


def test_lookup_build_with_a_latency_table(shared_data, tmp_path):
    """``lookup build --latency LUT.yaml`` adds the space's additive latency (the sum of the
    table's block entries) as a column that ``lookup query --max-latency`` bounds."""
    from archgraph.lookup import LookupTable
    from archgraph.spaces import get_search_space, load_latency_lut

    lut = shared_data / "proxylessnas" / "pixel1_latency_lut.yaml"
    _run(["dataset", "build", "--space", "proxylessnas", "--evaluator", "synthetic", "--n", 40,
          "--out", "d.csv", "--quiet"], shared_data, tmp_path)
    _run(["predictor", "fit", "--data", "d.csv", "--model", "ridge", "--out", "r.safetensors"],
         shared_data, tmp_path)
    space = get_search_space("proxylessnas")
    base = space.to_str(space.default_arch())
    _run(["lookup", "build", "r.safetensors", "--out", "t.csv", "--layers", "0,1,2",
          "--base", base, "--latency", lut, "--quiet"], shared_data, tmp_path)
    table = LookupTable.load(tmp_path / "t.csv")  # its subspace rebuilt from the file
    frame = table.frame
    archs = table.space.decode(frame[list(table.space.layer_names)].to_numpy())
    expected = get_search_space("proxylessnas").add_latency(load_latency_lut(lut)).cost(
        "latency", archs)
    np.testing.assert_allclose(frame["latency"], expected, rtol=1e-9)
    budget = float(np.median(expected))
    out = _run(["lookup", "query", "t.csv", "--max-latency", f"{budget}ms", "--top-k", 50,
                "--json"], shared_data, tmp_path).stdout
    rows = json.loads(out)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    assert rows and all(r["latency"] <= budget for r in rows)
    bad = _run(["lookup", "build", "r.safetensors", "--out", "u.csv", "--latency",
                tmp_path / "missing.yaml"], shared_data, tmp_path, check=False)
    assert bad.returncode == 2 and "missing.yaml" in bad.stderr

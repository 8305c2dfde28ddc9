import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from archgraph.cli import main as archgraph_main
from supernet.checkpoint import load_checkpoint
from supernet.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--epochs", "1", "--width-mult", "0.25", "--batch-size", "128", "--quiet"]


def test_trains_a_checkpoint_that_dataset_build_reads(tmp_path, capsys):
    ck = tmp_path / "sn.pt"
    assert main(TINY + ["--checkpoint", str(ck), "--sampler", "fair", "--lr", "0.1"]) == 0
    assert "digits5 supernet, epoch 1/1" in capsys.readouterr().out
    fp = load_checkpoint(ck)["fingerprint"]
    assert fp["space"] == "digits5" and fp["lr"] == 0.1 and "StrictFair" in fp["sampler"]
    out = tmp_path / "t.parquet"
    assert archgraph_main(["dataset", "build", "--space", "digits5", "--evaluator", "supernet",
                           "--n", "2", "--out", str(out), "--option", f"checkpoint={ck}",
                           "--option", "recal_batches=1", "--quiet"]) == 0
    assert len(pd.read_parquet(out)) == 2
    # the same command resumes (nothing left to train); other settings are refused
    assert main(TINY + ["--checkpoint", str(ck), "--sampler", "fair", "--lr", "0.1"]) == 0
    assert main(TINY + ["--checkpoint", str(ck), "--sampler", "fair"]) == 2
    assert "different training setup" in capsys.readouterr().err


def test_inter_choice_weights(tmp_path):
    ck = tmp_path / "sn.pt"
    args = ["--bias-weights", "2", "--bias", "shared", "--split-weights-epoch", "0"]
    assert main(TINY + ["--checkpoint", str(ck)] + args) == 0
    state = load_checkpoint(ck)
    assert {k: state["fingerprint"]["config"][k] for k in (
        "bias_weights", "bias", "split_weights_epoch")} == dict(
        bias_weights=2, bias="shared", split_weights_epoch=0)
    assert int(state["model"]["split_done"]) == 1


@pytest.mark.parametrize("args, message", [
    (["--space", "digit"], r"'--space' parameter of python -m supernet .* Did you mean "
                           r"'digits5'"),
    (["--epochs", "0"], r"'epochs' parameter of train must be an int in \[1, inf\]"),
    (["--stop-after", "3"], r"'stop_after' parameter of train must be an int in \[1, 1\]"),
    (["--width-mult", "-1"], r"'width_mult' parameter of SupernetConfig must be a float"),
    (["--lr", "0"], r"'lr' parameter of train must be a float in \(0, inf\)"),
    (["--label-smoothing", "1"], r"'label_smoothing' parameter of train"),
    (["--space", "nasbench101"], r"'space' parameter of build_supernet must be a chain space"),
    (["--bias-weights", "4"], r"'bias_weights' parameter of SupernetConfig must be an int in "
                              r"\[0, 3\]"),
    (["--bias", "shared"], r"'bias' parameter of SupernetConfig applies with bias weights only"),
    (["--split-weights-epoch", "-1"], r"'split_weights_epoch' parameter of SupernetConfig"),
    (["--space", "proxylessnas", "--sampler", "fair"],
     r"StrictFairSampler needs the same number of options in every layer"),
])
def test_bad_arguments(tmp_path, capsys, args, message):
    ck = tmp_path / "sn.pt"
    assert main(TINY + ["--checkpoint", str(ck)] + args) == 2
    assert not ck.exists()
    err = capsys.readouterr().err
    assert err.startswith("python -m supernet: error:")
    assert re.search(message, err), err


@pytest.mark.parametrize("args, message", [
    (["--sampler", "fast"], "invalid choice: 'fast'"),
    (["--epochs", "two"], "invalid int value: 'two'"),
    ([], "the following arguments are required: --checkpoint"),
])
def test_argparse_errors(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_under_torchrun(tmp_path):
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    if torchrun is None:
        pytest.skip("torchrun is not installed beside the Python interpreter")
    ck = tmp_path / "sn.pt"
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([torchrun, "--standalone", "--nproc_per_node=2", "-m", "supernet",
                          "--epochs", "1", "--width-mult", "0.25", "--batch-size", "64",
                          "--quiet", "--checkpoint", str(ck)],
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("digits5 supernet, epoch 1/1") == 1  # rank 0 only
    # 2 processes x 64 is one process x 128: the single-process command resumes the checkpoint
    assert load_checkpoint(ck)["fingerprint"]["batch_size"] == 128
    assert main(TINY + ["--checkpoint", str(ck)]) == 0

"""The ground-truth v2 build script in its quick mode (the full build is never run here)."""
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "build_digits5v2_groundtruth.py"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_digits5v2_groundtruth", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_build_resumes_without_redoing_units(tmp_path, build):
    build.main(["--quick", "--work", str(tmp_path)])
    work = tmp_path / "quick"
    table = pd.read_csv(work / "digits5v2_groundtruth.csv", dtype={"arch": str})
    meta = json.loads((work / "digits5v2_groundtruth.json").read_text())
    assert len(table) == 4 and meta["num_measured"] == 4
    assert table["accuracy"].between(0, 100).all()
    # the table prints 4 decimals
    assert (table["accuracy"] - table[["acc_seed0", "acc_seed1"]].mean(axis=1)).abs().max() < 1e-3
    lines = (work / "worker0.jsonl").read_text().splitlines()
    assert len(lines) == 8  # 4 architectures x 2 seeds
    # an interrupted run: the last unit is lost mid-write; the rerun redoes only that one
    (work / "worker0.jsonl").write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
    build.main(["--quick", "--work", str(tmp_path)])
    redone = (work / "worker0.jsonl").read_text().splitlines()
    assert len([line for line in redone if line.endswith("}")]) == 8
    again = pd.read_csv(work / "digits5v2_groundtruth.csv", dtype={"arch": str})
    # the redone unit repeats its seeds on one thread: the same accuracies to the printed digits
    pd.testing.assert_frame_equal(table, again)


def test_refuses_records_without_fields(tmp_path, build):
    (tmp_path / "worker0.jsonl").write_text('{"arch": 1}\n')
    with pytest.raises(ValueError, match="lacks fields"):
        build.done_units(tmp_path)


@pytest.mark.parametrize("record", [
    '{"arch": 1, "seed": 0, "acc": 101.0, "loss": 0.5, "seconds": 1.0}',
    '{"arch": 1, "seed": 0, "acc": NaN, "loss": 0.5, "seconds": 1.0}',
    '{"arch": "1", "seed": 0, "acc": 50.0, "loss": 0.5, "seconds": 1.0}',
    '{"arch": 1, "seed": 0, "acc": 50.0, "loss": -1, "seconds": 1.0}',
])
def test_refuses_records_that_are_not_measurements(tmp_path, build, record):
    (tmp_path / "worker0.jsonl").write_text(record + "\n")
    with pytest.raises(ValueError, match="is not a measurement"):
        build.done_units(tmp_path)


def test_second_build_of_a_work_folder_is_refused(tmp_path, build):
    from archgraph.utils.locks import OutputLockedError, output_lock

    with output_lock(tmp_path / "quick"):  # a build of this folder is running
        with pytest.raises(OutputLockedError, match=r"Ground-truth work folder '.*quick' is "
                                                    r"locked by another writer .*--work"):
            build.main(["--quick", "--work", str(tmp_path)])
    assert not list((tmp_path / "quick").glob("worker*.jsonl"))  # nothing was measured

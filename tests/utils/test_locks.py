import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from archgraph.utils.locks import OutputLockedError, lock_holder, lock_paths, output_lock

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from archgraph.utils.locks import output_lock
    with output_lock(sys.argv[1]):
        Path(sys.argv[2]).write_text("held")
        time.sleep(120)
""")


@pytest.fixture
def held(tmp_path):
    """Another process holding the lock of ``tmp_path / 'out.parquet'``."""
    out, ready = tmp_path / "out.parquet", tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out), str(ready)],
                            env=os.environ.copy())
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "holder did not start"
        time.sleep(0.05)
    yield out, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_second_writer_is_refused_naming_path_and_holder(held):
    out, proc = held
    with pytest.raises(OutputLockedError) as info:
        with output_lock(out, 0, "predictor-dataset table", "wait for it"):
            pytest.fail("the lock was taken twice")
    msg = str(info.value)
    assert "\n" not in msg and str(out) in msg and f"pid {proc.pid}" in msg
    assert msg.startswith("Predictor-dataset table") and msg.endswith("wait for it.")
    assert info.value.path == out and f"pid {proc.pid}" in info.value.holder


def test_waiting_gives_up_after_the_timeout(held):
    out, _ = held
    t0 = time.monotonic()
    with pytest.raises(OutputLockedError, match=r"after waiting 0.3 s"):
        with output_lock(out, 0.3):
            pass
    assert time.monotonic() - t0 >= 0.3


def test_a_killed_holder_frees_the_path(held):
    out, proc = held
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with output_lock(out, 5) as path:  # the kernel dropped the flock of the dead process
        assert path == out
        assert f"pid {os.getpid()}" in lock_holder(out)


def test_lock_files_and_holder(tmp_path):
    out = tmp_path / "sub" / "t.csv"
    lock, owner = lock_paths(out)
    assert lock.name == ".t.csv.lock" and owner.name == ".t.csv.lock.owner"
    assert lock_holder(out) == "unknown"
    with output_lock(out):
        assert lock.exists() and not out.exists()  # the folder is made, the output is not
    with output_lock(out):  # released: taken again at once
        pass
    owner.write_text("garbage")
    assert lock_holder(out) == "unknown"


def test_bad_timeout(tmp_path):
    with pytest.raises(TypeError, match=r"'timeout' parameter of output_lock must be a float "
                                        r"in \[0, inf\] or None. Got '1'"):
        with output_lock(tmp_path / "t.csv", "1"):
            pass
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError, match="'timeout' parameter of output_lock"):
            with output_lock(tmp_path / "t.csv", bad):
                pass

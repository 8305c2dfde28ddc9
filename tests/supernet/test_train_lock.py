"""One training run per checkpoint: a second run of the same path is refused (status 75, the
holder named) or waits with --wait."""
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from archgraph.utils.locks import OutputLockedError, output_lock
from supernet import build_supernet
from supernet.checkpoint import load_checkpoint
from supernet.cli import EXIT_LOCKED, main
from supernet.samplers import UniformSampler
from supernet.train import train

TINY = ["--epochs", "1", "--width-mult", "0.25", "--batch-size", "128", "--quiet"]
HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from archgraph.utils.locks import output_lock
    with output_lock(sys.argv[1]):
        Path(sys.argv[2]).write_text("held")
        while not Path(sys.argv[3]).exists():
            time.sleep(0.02)
""")


@pytest.fixture
def held(tmp_path):
    """Another process holding the lock of ``tmp_path / 'ck.pt'``; touch ``release`` to end
    it."""
    ck, ready, release = tmp_path / "ck.pt", tmp_path / "ready", tmp_path / "release"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(ck), str(ready), str(release)],
                            env=os.environ.copy())
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    yield ck, proc, release
    release.touch()
    proc.wait(timeout=60)


def test_second_run_is_refused(held, capsys):
    ck, proc, _ = held
    assert main(TINY + ["--checkpoint", str(ck)]) == EXIT_LOCKED
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(ck) in err and f"pid {proc.pid}" in err
    assert "--wait" in err and not ck.exists()
    assert main(TINY + ["--checkpoint", str(ck), "--wait", "--wait-timeout", "0.3"]) == 75
    assert "after waiting 0.3 s" in capsys.readouterr().err


def test_waiting_run_starts_when_the_holder_ends(held, capsys):
    ck, _, release = held
    threading.Timer(1.0, release.touch).start()
    t0 = time.monotonic()
    assert main(TINY + ["--checkpoint", str(ck), "--wait"]) == 0
    assert time.monotonic() - t0 >= 1.0
    assert [h["epoch"] for h in load_checkpoint(ck)["history"]] == [1]


def test_train_holds_the_lock_while_it_runs(tiny_space, tiny_data, tmp_path):
    ck = tmp_path / "ck.pt"
    seen = []

    class Probe(UniformSampler):  # samples paths; tries the checkpoint's lock on the way
        def sample(self):
            if not seen:
                try:
                    with output_lock(ck):  # a second writer, by its own file descriptor
                        seen.append("free")
                except OutputLockedError as exc:
                    seen.append(str(exc))
            return super().sample()

    train(build_supernet(tiny_space, random_state=0), tiny_data, 1,
          sampler=Probe(tiny_space, 0), checkpoint=ck, progress=False)
    assert "is locked by another writer" in seen[0] and f"pid {os.getpid()}" in seen[0]
    with output_lock(ck):  # released at the end
        pass


def test_bad_wait_arguments(tmp_path, capsys, tiny_space, tiny_data):
    assert main(TINY + ["--checkpoint", str(tmp_path / "ck.pt"), "--wait-timeout", "3"]) == 2
    assert "'--wait-timeout' argument needs --wait" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'lock_timeout' parameter of train must be a float "
                                         r"in \[0, inf\] or None"):
        train(build_supernet(tiny_space, random_state=0), tiny_data, 1, lock_timeout=-1,
              checkpoint=tmp_path / "ck.pt", progress=False)

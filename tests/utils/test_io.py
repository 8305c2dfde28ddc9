import pytest

from archgraph.utils.io import atomic_path, atomic_write


def test_atomic_write_replaces_on_success_and_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "sub" / "t.txt"
    with atomic_write(path, "w") as fh:
        fh.write("one")
    assert path.read_text() == "one"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(path, "w") as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert path.read_text() == "one" and [p.name for p in path.parent.iterdir()] == ["t.txt"]


def test_atomic_path_names_a_temporary_file_beside_the_target(tmp_path):
    path = tmp_path / "t.bin"
    with atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp != path
        tmp.write_bytes(b"x")
        assert not path.exists()
    assert path.read_bytes() == b"x" and sorted(p.name for p in tmp_path.iterdir()) == ["t.bin"]
    with pytest.raises(KeyError):
        with atomic_path(path) as tmp:
            tmp.write_bytes(b"y")
            raise KeyError("k")
    assert path.read_bytes() == b"x" and sorted(p.name for p in tmp_path.iterdir()) == ["t.bin"]


def test_output_files_respect_the_umask(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "a.txt", "w") as fh:
            fh.write("x")
        with atomic_path(tmp_path / "b.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o644


def test_stale_tmp_files_of_killed_writers_are_removed(tmp_path):
    import socket
    import subprocess

    from archgraph.utils.io import clean_stale_tmp

    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs
    host = socket.gethostname()
    stale = tmp_path / f".t.txt.{host}-{dead.pid}.abc.tmp"
    live = tmp_path / f".t.txt.{host}-{os_getpid()}.def.tmp"  # this process: kept
    other = tmp_path / ".u.txt.x-1.ghi.tmp"  # another target: kept
    for p in (stale, live, other):
        p.write_text("half")
    with atomic_write(tmp_path / "t.txt", "w") as fh:
        fh.write("done")
    assert not stale.exists() and live.exists() and other.exists()
    assert clean_stale_tmp(tmp_path / "t.txt") == []


def os_getpid():
    import os

    return os.getpid()

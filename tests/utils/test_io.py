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

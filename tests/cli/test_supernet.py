"""``archgraph supernet train`` runs ``python -m supernet`` in a child process (archgraph never
imports supernet), passing every argument through and returning its exit status."""
import os

from archgraph.cli import main


def test_help_and_exit_status_pass_through(capfd, monkeypatch):
    path = os.pathsep.join(os.path.abspath(p) for p in
                           os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    assert main(["supernet", "train", "--help"]) == 0
    out = capfd.readouterr().out
    assert out.startswith("usage: python -m supernet") and "--checkpoint" in out
    assert main(["supernet", "train", "--epochs", "1"]) == 2  # its own argparse error
    assert "the following arguments are required: --checkpoint" in capfd.readouterr().err

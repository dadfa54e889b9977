"""Atomic writes: whole files or none, with ordinary permissions, for every writer."""

import os
import stat

import pytest
from typer.testing import CliRunner

from custseg import sample_customers
from custseg.atomic import atomic_write
from custseg.cli import app


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")

    def boom(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_every_output_gets_ordinary_permissions(tmp_path):
    """run and predict outputs are 0o666 minus the umask, like any file a tool writes."""
    old = os.umask(0o022)
    try:
        data = tmp_path / "c.csv"
        sample_customers(300, seed=1).to_csv(data, index=False)
        out = tmp_path / "out"
        runner = CliRunner()
        done = runner.invoke(app, ["run", str(data), "-o", str(out), "--quiet"])
        assert done.exit_code == 0, done.output
        pred = tmp_path / "pred.csv"
        done = runner.invoke(
            app, ["predict", str(out / "model.skops"), str(data), "-o", str(pred), "--quiet"]
        )
        assert done.exit_code == 0, done.output
        written = [*out.iterdir(), pred, *tmp_path.glob("*drift*.json")]
        assert len(written) >= 6
        assert {p.name: _mode(p) for p in written} == {p.name: 0o644 for p in written}
        assert not list(tmp_path.rglob("*.tmp"))
    finally:
        os.umask(old)

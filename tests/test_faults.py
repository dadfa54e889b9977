"""Faults in the environment: killed runs and full disks lose nothing and say what happened."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from custseg import sample_customers, segment
from custseg.exceptions import DiskFullError, SourceError
from custseg.outputs import export
from custseg.outputs.export import STAGING_PREFIX, write_outputs


@pytest.fixture(scope="module")
def seg():
    return segment(sample_customers(300, seed=2), k=4, k_range="3..4")


def _staging(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{STAGING_PREFIX}*"))


def test_staging_left_by_killed_runs_is_removed_by_the_next_run(tmp_path):
    """Ten real `custseg run` processes killed with SIGKILL mid-write; the next run cleans up."""
    csv = tmp_path / "customers.csv"
    sample_customers(60_000, seed=3).to_csv(csv, index=False)
    out = tmp_path / "out"
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "custseg", "run", str(csv), "--out", str(out), "--force"]
    command += ["--k", "4", "--k-range", "4", "-q"]
    killed = 0
    for attempt in range(10):
        proc = subprocess.Popen(command, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _staging(out) and proc.poll() is None:
            time.sleep(0.02)  # wait until it is writing its outputs
        time.sleep(0.05 * (attempt % 3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
    assert killed >= 5 and _staging(out)  # the kills left staging folders behind
    done = subprocess.run(command[:-1], env=env, capture_output=True, text=True)  # not quiet
    assert done.returncode == 0, done.stderr
    assert _staging(out) == []
    assert "unfinished output folder" in done.stdout
    assert {p.name for p in out.iterdir()} == {*export.OUTPUTS, export.RULES_SQL, export.MANIFEST}


def test_a_live_runs_staging_folder_is_kept(tmp_path, seg):
    out = tmp_path / "out"
    with export.staging(out) as live:
        (live / "partial.csv").write_text("x")
        notes: list[str] = []
        with export.staging(out, notes) as mine:
            assert live.exists() and mine != live
        assert notes == []
    assert _staging(out) == []


def test_full_disk_names_the_folder_and_keeps_the_previous_outputs(tmp_path, seg, monkeypatch):
    """An injected ENOSPC while the report is written (no small filesystem needed)."""
    out = tmp_path / "out"
    write_outputs(seg, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "render_report", full)
    with pytest.raises(DiskFullError, match=rf"Not enough disk space in '{out}'.*--out"):
        write_outputs(seg, out, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _staging(out) == []


def test_full_disk_from_the_cli_exits_2_without_traceback(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from custseg.cli import app

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "render_report", full)
    result = CliRunner().invoke(app, ["run", "--out", str(tmp_path / "o"), "-q", "--k", "3"])
    assert result.exit_code == 2
    assert "Not enough disk space" in result.output and "Traceback" not in result.output


def test_the_manifest_tells_a_whole_set_from_a_mixed_one(tmp_path, seg):
    out = tmp_path / "out"
    write_outputs(seg, out)
    assert export.check_manifest(out)  # whole: the run id
    assert export.check_manifest(out, [export.MODEL_FILENAME])
    # A kill between two moves: a newer summary.json beside the older files.
    (out / "summary.json").write_text("{}", encoding="utf-8")
    assert export.check_manifest(out, [export.MODEL_FILENAME])  # the model itself is whole
    with pytest.raises(SourceError, match=r"not the set one run wrote: 'summary.json'"):
        export.check_manifest(out)
    assert export.check_manifest(tmp_path) is None  # no manifest: outputs of an older custseg

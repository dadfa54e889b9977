"""Every bad or awkward input ends in a clear error (exit 2) or correct handling; never a
traceback, and the input file is never modified."""

import hashlib

import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg.cli import app

from .corpus import CASES, more_segments_than_rows

runner = CliRunner()
COMMANDS = {
    "run": lambda path, out: ["run", str(path), "--out", str(out), "-q", "--k-range", "2..4"],
    "explore": lambda path, out: ["explore", str(path)],
    "choose-k": lambda path, out: ["choose-k", str(path), "-q", "--k-range", "2..4"],
}


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case, command, tmp_path):
    path = case.build(tmp_path)
    before = _sha(path)
    result = runner.invoke(app, COMMANDS[command](path, tmp_path / "out"))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert _sha(path) == before
    # explore describes the table; it has no features or k to object to.
    loads_fine = (
        command == "explore"
        and case.expect is not None
        and not any(word in case.expect for word in ("empty", "header", "binary", "damaged"))
    )
    if case.expect is None or loads_fine:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2, result.output
        assert case.expect in result.output
    if command == "run" and result.exit_code != 0:
        assert not (tmp_path / "out" / "segments.csv").exists()


def test_more_segments_than_rows(tmp_path):
    path = more_segments_than_rows(tmp_path)
    result = runner.invoke(app, ["run", str(path), "--k", "50", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "fewer than the 50 segments" in result.output


def test_formula_cells_are_neutralised_unless_raw(tmp_path):
    path = next(c for c in CASES if c.name == "formula-like text cells").build(tmp_path)
    for raw, prefix in ((False, "'"), (True, "")):
        out = tmp_path / f"out{raw}"
        args = ["run", str(path), "--out", str(out), "-q", "--k", "3"] + (["--raw-csv"] * raw)
        assert runner.invoke(app, args).exit_code == 0
        notes = pd.read_csv(out / "segments.csv", dtype=str)["Note"]
        assert notes.iloc[0] == prefix + '=HYPERLINK("http://x")'
        assert notes.iloc[1] == prefix + "+1+2"
        assert notes.iloc[3] == prefix + "@SUM(A1)"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    from custseg import sample_customers, segment

    return segment(sample_customers(), k=3).save(tmp_path_factory.mktemp("m") / "model.skops")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_to_predict_and_rfm(case, tmp_path, model_path):
    """predict and rfm: a clear error (exit 2) or correct handling, never a traceback."""
    path = case.build(tmp_path)
    before = _sha(path)
    for args in (
        ["predict", str(model_path), str(path), "-o", str(tmp_path / "p.csv")],
        ["rfm", str(path), "--out", str(tmp_path / "rfm"), "-q", "--k", "2"],
    ):
        result = runner.invoke(app, args)
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 2), (args[0], result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        if result.exit_code == 2:
            assert result.output.strip().startswith("error:") or "error:" in result.output
    assert _sha(path) == before


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_to_the_dashboard_loader(case, tmp_path):
    """The dashboard's upload path: the library's error (shown with st.error) or a table."""
    from custseg.app.state import load_upload
    from custseg.exceptions import CustsegError

    path = case.build(tmp_path)
    try:
        loaded = load_upload(path.name, path.read_bytes())
    except CustsegError as exc:
        assert str(exc) and str(tmp_path) not in str(exc)  # names the upload, not a temp path
        return
    assert len(loaded.table.frame) > 0

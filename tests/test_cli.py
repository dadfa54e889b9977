import hashlib
import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from custseg.cli import app

runner = CliRunner()
OUTPUTS = {
    "segments.csv",
    "summary.json",
    "model.skops",
    "report.html",
    "rules.sql",
    "manifest.json",
}


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_on_sample_data_writes_all_outputs(tmp_path):
    result = invoke("run", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "out").iterdir()} == OUTPUTS
    assert "segments of 200 customers" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["k"] == 5 and summary["n_rows"] == 200


def test_run_mall_income_spending(mall_copy, tmp_path):
    before = _sha(mall_copy)
    out = tmp_path / "o"
    result = invoke(
        "run", mall_copy, "--features", "Annual Income (k$)", "-f", "spending", "--out", out, "-q"
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ""
    summary = json.loads((out / "summary.json").read_text())
    assert summary["features"] == ["Annual Income (k$)", "Spending Score (1-100)"]
    assert summary["k"] == summary["k_recommended"] == 5
    assert _sha(mall_copy) == before  # the input is never modified
    written = pd.read_csv(out / "segments.csv", dtype=str)
    assert list(written.columns[-2:]) == ["segment", "segment_name"] and len(written) == 200
    original = pd.read_csv(mall_copy, dtype=str)
    pd.testing.assert_frame_equal(written[original.columns], original)


def test_existing_outputs_need_force(tmp_path):
    out = tmp_path / "out"
    assert invoke("run", "--out", out, "-q", "--k", "3").exit_code == 0
    first = _sha(out / "segments.csv")
    result = invoke("run", "--out", out, "-q")
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert _sha(out / "segments.csv") == first
    assert invoke("run", "--out", out, "-q", "--force").exit_code == 0
    assert _sha(out / "segments.csv") != first


def test_failed_run_leaves_previous_outputs_and_no_partial_files(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert invoke("run", "--out", out, "-q", "--k", "3").exit_code == 0
    before = {p.name: _sha(p) for p in out.iterdir()}

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("custseg.outputs.export.render_report", explode)
    result = invoke("run", "--out", out, "-q", "--force")
    assert result.exit_code == 1 and "disk full" in result.output
    assert {p.name: _sha(p) for p in out.iterdir()} == before  # no temp folder left either


@pytest.mark.parametrize(
    "args,message",
    [
        (["--features", "Incme"], "Did you mean"),
        (["--features", "CustomerID"], "customer id"),
        (["--k", "0"], "--k must be at least 2"),
        (["--k", "1"], "--k must be at least 2 (a segmentation needs at least 2 segments)"),
        (["--k", "500"], "fewer than the 500 segments"),
        (["--scale", "weird"], "--scale must be one of"),
        (["--missing", "zero"], "--missing must be"),
        (["--k-range", "1..3"], "at least 2"),
        (["--engine", "gpu"], "--engine must be one of"),
    ],
)
def test_bad_options_exit_2_with_a_clear_line(tmp_path, args, message):
    result = invoke("run", "--out", tmp_path / "o", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "o" / "segments.csv").exists()


def test_bad_option_is_reported_before_the_data_is_read(tmp_path):
    result = invoke("run", tmp_path / "nope.csv", "--out", tmp_path / "o", "--k", "0")
    assert result.exit_code == 2
    assert "--k must be at least 2" in result.output and "nope.csv" not in result.output


def test_commands_keep_their_names_and_order():
    group = typer.main.get_command(app)
    names = ["run", "explore", "choose-k", "app", "predict", "rfm", "serve", "compare"]
    assert group.list_commands(typer.Context(group)) == names


def test_bad_file_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,Age\n1,20\n2,forty\n3,30\n")
    result = invoke("run", bad, "--out", tmp_path / "o")
    assert result.exit_code == 2 and "'forty' on line 3" in result.output
    result = invoke("run", tmp_path / "nope.csv", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "No such file" in result.output


def test_png_export(tmp_path):
    result = invoke("run", "--out", tmp_path / "o", "--png", tmp_path / "png", "-q")
    assert result.exit_code == 0, result.output
    pngs = list((tmp_path / "png").glob("*.png"))
    assert len(pngs) >= 4 and all(p.stat().st_size > 1000 for p in pngs)


def test_explore(mall_path):
    result = invoke("explore", mall_path)
    assert result.exit_code == 0, result.output
    for word in ("200 rows", "income", "spending", "gender", "id"):
        assert word in result.output


def test_explore_html_overview(mall_path, tmp_path):
    page = tmp_path / "overview.html"
    result = invoke("explore", mall_path, "--html", page)
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert "Customer table overview" in text and "Spending Score (1-100)" in text
    before = page.stat().st_mtime_ns
    result = invoke("explore", mall_path, "--html", page)  # no overwrite without --force
    assert result.exit_code == 2 and "--force" in result.output
    assert page.stat().st_mtime_ns == before
    assert invoke("explore", mall_path, "--html", page, "--force").exit_code == 0


def test_choose_k(mall_path):
    result = invoke("choose-k", mall_path, "-f", "income,spending", "-q")
    assert result.exit_code == 0, result.output
    assert "Recommended: k=5" in result.output
    assert "Davies-Bouldin" in result.output


def test_wholesale_end_to_end(wholesale_path, tmp_path):
    result = invoke("run", wholesale_path, "--log", "auto", "--out", tmp_path / "o", "-q")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["n_rows"] == 440 and "Channel" not in summary["features"]

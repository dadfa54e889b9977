"""The CLI's first impressions: --version, help that shows flags as flags, plain "wrote" lines,
plurals, and RFM's input options (#18 item 10)."""

import re

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from custseg import __version__
from custseg.cli import app
from custseg.exceptions import DataError
from custseg.rfm import segment_rfm
from custseg.text import plural
from tests.test_rfm import synthetic_customers

runner = CliRunner()
COMMANDS = sorted(typer.main.get_command(app).commands)


def help_text(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"custseg {__version__}"


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_flags_look_like_flags_in_help(command):
    text = help_text(*([command] if command else []))
    click_command = typer.main.get_command(app)
    if command:
        click_command = click_command.commands[command]
    names = [n for p in click_command.params if getattr(p, "is_flag", False) for n in p.opts]
    for name in [*names, "--help"]:
        line = next(line for line in text.splitlines() if re.search(rf"{name}\b", line))
        # the name is followed by its help, with no value placeholder (<bool>, BOOLEAN)
        assert not re.search(r"<bool>|BOOLEAN", line), line
    assert "<bool>" not in text and "BOOLEAN" not in text
    assert not re.search(r"\w \.(\s|$)", text)  # a help text lost a [bracketed] part to markup


def test_help_names_the_default_drift_report():
    assert "default:" in help_text("predict").split("--drift", 1)[1].split("\n")[0]


def test_wrote_lines_say_what_each_file_is(tmp_path, monkeypatch):
    from custseg.cli import common

    monkeypatch.setattr(common.out, "width", 300)  # one line per file, whatever the terminal
    result = runner.invoke(
        app, ["run", "--out", str(tmp_path / "o"), "--k", "3"], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0, result.output
    wrote = [line for line in result.output.splitlines() if "wrote" in line]
    assert len(wrote) == 6  # segments, summary, model, report, rules.sql, manifest
    assert not any(re.search(r"\(\w+\.(csv|json|html|sql|skops)\)", w) for w in wrote)
    assert any("segments.csv" in w and "each customer" in w for w in wrote)


@pytest.mark.parametrize(
    ("n", "word", "text"),
    [(0, "row", "0 rows"), (1, "row", "1 row"), (2, "row", "2 rows"), (1234, "row", "1,234 rows")],
)
def test_plural(n, word, text):
    assert plural(n, word) == text


def test_one_bad_value_is_named_in_the_singular(tmp_path):
    frame = synthetic_customers()
    frame["amount"] = frame["amount"].round(2).astype(str)
    frame.loc[3, "amount"] = "twelve"
    with pytest.raises(DataError, match="has 1 value that is not a number"):
        segment_rfm(frame, amount="amount", k=2, k_range=[2], n_init=1)


def test_rfm_reads_a_sheet_and_writes_png_and_raw_csv(tmp_path):
    xlsx = tmp_path / "tx.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        cover = pd.DataFrame({"note": ["not the transactions"]})
        cover.to_excel(writer, sheet_name="cover", index=False)
        synthetic_customers().to_excel(writer, sheet_name="orders", index=False)
    out, png = tmp_path / "out", tmp_path / "png"
    args = ["rfm", str(xlsx), "--sheet", "orders", "--out", str(out), "--png", str(png)]
    result = runner.invoke(app, [*args, "--raw-csv", "--k", "3", "--k-range", "3", "--n-init", "1"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out / "rfm_features.csv")["customer"].nunique() == 260
    assert list(png.glob("*.png"))
    missing = runner.invoke(app, ["rfm", str(xlsx), "--sheet", "returns", "--out", str(png)])
    assert missing.exit_code == 2 and "'returns' is not in" in missing.output

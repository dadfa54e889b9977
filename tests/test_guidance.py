"""Feature guidance: verdicts on planted columns, --features auto, and where people see it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import segment
from custseg.cli import app
from custseg.exceptions import OptionError
from custseg.pipeline.guidance import advise

runner = CliRunner()


def planted(seed: int = 0, n: int = 900) -> pd.DataFrame:
    """Three informative columns, two noise columns, a duplicate, a flag, an id and a constant."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    centres = np.array([[-3, 0, 3], [3, -3, 0], [0, 3, -3]])[group]
    info = centres + rng.normal(0, 1, (n, 3))
    return pd.DataFrame(
        {
            "visits": info[:, 0] * 4 + 20,
            "basket_value": info[:, 1] * 10 + 60,
            "tenure_days": info[:, 2] * 30 + 400,
            "noise_uniform": rng.uniform(0, 100, n),
            "noise_normal": rng.normal(50, 10, n),
            "visits_copy": info[:, 0] * 4 + 20 + rng.normal(0, 0.2, n),
            "opted_in": rng.integers(0, 2, n),
            "row_number": np.arange(1, n + 1),
            "store": np.full(n, 7.0),
        }
    )


def test_verdicts_on_planted_columns():
    frame = planted()
    verdicts = {a.column: a.verdict for a in advise(frame)}
    assert {verdicts[c] for c in ("visits", "basket_value", "tenure_days")} == {"use"} or (
        verdicts["visits"] == "duplicate" and verdicts["visits_copy"] == "use"
    )
    assert verdicts["noise_uniform"] == verdicts["noise_normal"] == "noise"
    assert "duplicate" in (verdicts["visits"], verdicts["visits_copy"])
    assert verdicts["opted_in"] == "flag"
    assert verdicts["row_number"] == "id-like"
    assert verdicts["store"] == "constant"


def test_money_in_whole_numbers_is_not_id_like():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"spend": rng.integers(0, 100_000, 500), "other": rng.normal(0, 1, 500)})
    assert {a.column: a.verdict for a in advise(frame)}["spend"] != "id-like"


def test_features_auto_keeps_the_columns_that_help():
    frame = planted()
    seg = segment(frame, features="auto", k=3)
    assert {"basket_value", "tenure_days"} <= set(seg.features)
    assert not {"noise_uniform", "noise_normal", "opted_in", "row_number"} & set(seg.features)
    assert any(n.startswith("features chosen by guidance") for n in seg.notes)
    advice = json.loads(json.dumps(seg.summary()))["features_advice"]
    assert {a["column"] for a in advice} >= {"noise_uniform", "visits"}
    assert all(a["verdict"] and a["reason"] and a["label"] for a in advice)


def test_the_default_run_warns_about_noise_but_keeps_every_column():
    frame = planted().drop(columns=["row_number", "store", "opted_in"])
    seg = segment(frame, k=3)
    assert "noise_uniform" in seg.features
    assert any("noise uniform (noise)" in n and n.startswith("warning") for n in seg.notes)


def test_features_auto_is_an_option_value():
    with pytest.raises(OptionError, match="features"):
        segment(planted(), features=3)


def test_explore_shows_the_guidance(tmp_path):
    path = tmp_path / "customers.csv"
    planted().to_csv(path, index=False)
    result = runner.invoke(app, ["explore", str(path), "--html", str(tmp_path / "o.html")])
    assert result.exit_code == 0, result.output
    assert "feature guidance" in result.output and "noise" in result.output
    page = (tmp_path / "o.html").read_text(encoding="utf-8")
    assert "Which columns help" in page and "noise uniform" in page

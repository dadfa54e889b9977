"""``custseg predict`` through Typer's CliRunner, and the drift report behind it."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import load_model, segment
from custseg.cli import app
from custseg.scoring.drift import psi, status

runner = CliRunner()


def invoke(*args, env=None):
    result = runner.invoke(app, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def mall_model(tmp_path_factory):
    from tests.conftest import shared_file

    mall = shared_file("mall_customers.csv")
    seg = segment(mall, seed=0)
    return seg, seg.save(tmp_path_factory.mktemp("model") / "model.skops")


def test_predict_mall_reproduces_training_and_keeps_rows(mall_model, mall_path, tmp_path):
    seg, model = mall_model
    out = tmp_path / "res" / "predictions.csv"
    result = invoke("predict", model, mall_path, "-o", out)
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    original = pd.read_csv(mall_path, dtype=str, keep_default_na=False)
    assert list(written.columns) == [*original.columns, "segment", "segment_name", "distance"]
    pd.testing.assert_frame_equal(written[original.columns], original)  # rows untouched
    np.testing.assert_array_equal(written["segment"].astype(int), seg.labels)
    np.testing.assert_allclose(written["distance"].astype(float), seg.distances, rtol=1e-12)
    drift = json.loads((tmp_path / "res" / "predictions.drift.json").read_text())
    assert drift["moved"] == [] and drift["n_rows"] == 200
    assert {f["feature"]: f["status"] for f in drift["features"]} == dict.fromkeys(
        seg.features, "stable"
    )
    assert "ignored columns the model does not use: 'CustomerID', 'Gender'" in result.output
    assert "Nothing moved" in result.output
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "predictions.csv",
        "predictions.drift.json",
    ]


def test_predict_sample_data_round_trip(sample, tmp_path):
    seg = segment(sample)
    model = load_model(seg.save(tmp_path / "model.skops"))
    result = model.predict(sample)
    np.testing.assert_array_equal(result.assignments["segment"], seg.labels)
    assert result.drift.moved == []


def test_shifted_customers_are_reported_as_moved(mall_model, mall_path, tmp_path):
    _, model = mall_model
    shifted = pd.read_csv(mall_path)
    shifted["Age"] = shifted["Age"] + 25
    data = tmp_path / "older.csv"
    shifted.to_csv(data, index=False)
    result = invoke("predict", model, data, "-o", tmp_path / "p.csv", "--fail-on-drift")
    assert result.exit_code == 3, result.output
    drift = json.loads((tmp_path / "p.drift.json").read_text())
    states = {f["feature"]: f["status"] for f in drift["features"]}
    assert states["Age"] == "moved"
    assert states["Annual Income (k$)"] == states["Spending Score (1-100)"] == "stable"
    assert "Age" in drift["moved"] and "Moved since training" in result.output
    age = next(f for f in drift["features"] if f["feature"] == "Age")
    assert age["psi"] >= 0.2 and age["p_value"] < 0.05
    assert drift["thresholds"]["psi_moved"] == 0.2


def test_small_batch_is_inconclusive_not_moved(mall_model, mall_path):
    _, model = mall_model
    few = pd.read_csv(mall_path).sample(12, random_state=3)
    drift = load_model(model).predict(few).drift
    assert all(f.status in ("stable", "inconclusive") for f in drift.features)
    assert drift.moved == []


def test_psi_and_status_rules():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4 * np.log(0.9 / 0.5) + 0.4 * np.log(5))
    assert status(0.05, 0.001) == "stable"
    assert status(0.15, 0.001) == "watch"
    assert status(0.25, 0.001) == "moved"
    assert status(0.25, 0.3) == "inconclusive"


def test_missing_feature_is_a_clear_error(mall_model, mall_path, tmp_path):
    _, model = mall_model
    data = tmp_path / "no_age.csv"
    pd.read_csv(mall_path).drop(columns=["Age"]).to_csv(data, index=False)
    result = invoke("predict", model, data, "-o", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert "lacks the model's feature column(s) ['Age']" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_non_numeric_values_name_column_and_line(mall_model, mall_path, tmp_path):
    _, model = mall_model
    frame = pd.read_csv(mall_path).astype({"Age": object})
    frame.loc[4, "Age"] = "forty"
    data = tmp_path / "bad.csv"
    frame.to_csv(data, index=False)
    result = invoke("predict", model, data, "-o", tmp_path / "p.csv")
    assert result.exit_code == 2
    assert "Column 'Age' has 1 non-numeric value (e.g. 'forty' on line 6)" in result.output


def test_renamed_columns_are_recognised_and_missing_values_imputed(mall_model, mall_path, tmp_path):
    seg, model = mall_model
    frame = pd.read_csv(mall_path).rename(
        columns={"Annual Income (k$)": "annual_income_k", "Spending Score (1-100)": "Spending"}
    )
    frame.loc[0, "Age"] = np.nan
    data = tmp_path / "renamed.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "p.csv"
    result = invoke("predict", model, data, "-o", out)
    assert result.exit_code == 0, result.output
    assert "used column 'annual_income_k' for feature 'Annual Income (k$)'" in result.output
    assert "used column 'Spending' for feature 'Spending Score (1-100)'" in result.output
    assert "imputed 1 missing value in 'Age'" in result.output
    written = pd.read_csv(out)
    np.testing.assert_array_equal(written["segment"][1:], seg.labels[1:])
    assert pd.isna(written.loc[0, "Age"])  # the input stays as it was


def test_outputs_are_not_overwritten_without_force(mall_model, mall_path, tmp_path):
    _, model = mall_model
    out = tmp_path / "p.csv"
    assert invoke("predict", model, mall_path, "-o", out, "-q").exit_code == 0
    before = out.read_bytes()
    result = invoke("predict", model, mall_path, "-o", out)
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_bytes() == before
    result = invoke("predict", model, mall_path, "-o", out, "--force", "-q")
    assert result.exit_code == 0 and result.output.strip() == ""


def test_bad_model_file_is_exit_2(mall_path, tmp_path):
    bad = tmp_path / "model.skops"
    bad.write_text("not a model")
    result = invoke("predict", bad, mall_path, "-o", tmp_path / "p.csv")
    assert result.exit_code == 2 and "not a custseg model file" in result.output
    result = invoke("predict", tmp_path / "absent.skops", mall_path, "-o", tmp_path / "p.csv")
    assert result.exit_code == 2 and "No model file" in result.output


def test_existing_segment_column_is_kept_and_formulas_neutralised(mall_model, mall_path, tmp_path):
    _, model = mall_model
    frame = pd.read_csv(mall_path)
    frame["segment"] = "old"
    frame["note"] = "=HYPERLINK(1)"
    data = tmp_path / "again.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "p.csv"
    result = invoke("predict", model, data, "-o", out, "--drift", tmp_path / "d" / "drift.json")
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert (written["segment"] == "old").all() and "segment_custseg" in written
    assert (written["note"] == "'=HYPERLINK(1)").all()
    assert "wrote 'segment_custseg' instead" in result.output
    assert (tmp_path / "d" / "drift.json").exists()


def test_unknown_data_file_is_exit_2(mall_model, tmp_path):
    _, model = mall_model
    result = invoke("predict", model, tmp_path / "absent.csv", "-o", tmp_path / "p.csv")
    assert result.exit_code == 2 and "No such file" in result.output


def test_second_day_gets_its_own_drift_report(mall_model, mall_path, tmp_path):
    _, model = mall_model
    for day in ("day1_pred.csv", "day2_pred.csv"):
        result = invoke("predict", model, mall_path, "-o", tmp_path / day)
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "day1_pred.csv",
        "day1_pred.drift.json",
        "day2_pred.csv",
        "day2_pred.drift.json",
    ]


def test_mistyped_input_is_named_before_existing_outputs(mall_model, tmp_path):
    _, model = mall_model
    (tmp_path / "p.csv").write_text("old")
    (tmp_path / "p.drift.json").write_text("old")
    result = invoke("predict", model, tmp_path / "day2.cvs", "-o", tmp_path / "p.csv")
    assert result.exit_code == 2 and "No such file" in result.output
    assert "already exists" not in result.output
    assert (tmp_path / "p.csv").read_text() == "old"


def test_one_hot_model_predicts_with_unseen_categories(tmp_path, mall_path):
    frame = pd.read_csv(mall_path)
    seg = segment(frame, k=4, k_range="3..4", one_hot="Gender", seed=0)
    model = load_model(seg.save(tmp_path / "model.skops"))
    new = frame.head(20).copy()
    new.loc[0, "Gender"] = "Other"
    new.loc[1, "Gender"] = np.nan
    result = model.predict(new)
    assert any("not seen in training ('Other')" in n for n in result.notes)
    np.testing.assert_array_equal(result.assignments["segment"][2:], seg.labels[2:20])
    gender = next(f for f in result.drift.features if f.feature == "Gender")
    assert gender.kind == "categorical" and gender.bins[-1] == "(not seen in training)"

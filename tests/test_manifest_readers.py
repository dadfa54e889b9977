"""Readers of a run's outputs refuse a set left mixed by an interrupted run (manifest.json)."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from custseg import load_model, sample_customers, segment
from custseg.cli import app
from custseg.exceptions import SourceError
from custseg.outputs.export import MODEL_FILENAME, write_outputs


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Two whole runs, then a third folder: run A's set with run B's model moved in, as a kill
    between two moves of B's publishing would leave it."""
    root = tmp_path_factory.mktemp("runs")
    data = sample_customers(300, seed=2)
    a = write_outputs(segment(data, k=3, k_range="3"), root / "a")
    b = write_outputs(segment(data, k=4, k_range="4"), root / "b")
    shutil.copytree(root / "a", root / "mixed")
    shutil.copy2(b[MODEL_FILENAME], root / "mixed" / MODEL_FILENAME)
    data.to_csv(root / "new.csv", index=False)
    return root, a


def test_load_model_refuses_a_model_its_manifest_does_not_list(mixed):
    root, _ = mixed
    assert load_model(root / "a" / MODEL_FILENAME).k == 3  # a whole set loads
    with pytest.raises(SourceError, match=r"not the set one run wrote: 'model.skops'"):
        load_model(root / "mixed" / MODEL_FILENAME)
    # A model copied on its own, away from any manifest, is the user's: it loads.
    alone = root / "alone"
    alone.mkdir(exist_ok=True)
    shutil.copy2(root / "mixed" / MODEL_FILENAME, alone / MODEL_FILENAME)
    assert load_model(alone / MODEL_FILENAME).k == 4


def test_predict_refuses_a_mixed_set_with_exit_2(mixed, tmp_path):
    root, _ = mixed
    args = ["predict", str(root / "mixed" / MODEL_FILENAME), str(root / "new.csv")]
    result = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 2, result.output
    assert "not the set one run wrote" in result.output and "Traceback" not in result.output
    assert "Re-run custseg" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_dashboard_refuses_a_mixed_segments_csv(mixed, tmp_path):
    pytest.importorskip("streamlit", reason="the dashboard needs the 'app' extra")
    from custseg.app import state

    root, _ = mixed
    shutil.copy2(root / "a" / "segments.csv", root / "mixed" / "segments.csv")
    assert len(state.load_path("a/segments.csv", root).table.frame) == 300
    (root / "mixed" / "segments.csv").write_text("customer_id,x\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"The outputs in 'mixed' are not the set") as info:
        state.load_path("mixed/segments.csv", root)
    assert str(root) not in str(info.value)  # the server's own paths stay hidden

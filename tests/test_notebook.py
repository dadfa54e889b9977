"""The example notebooks are executed so they never rot, and use only the public API."""

from __future__ import annotations

import ast
import os
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT, SHARED, shared_file

EXAMPLES = ROOT / "examples"
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))
PLOTLY = "application/vnd.plotly.v1+json"
PRIVATE = ("custseg.report", "custseg.outputs", "custseg.engines")

# notebook -> (shared file it reads, what its outputs show with the shared file, files it writes)
EXPECT = {
    "mall_customers.ipynb": ("mall_customers.csv", ["(200, 5)", "k=5"], ["mall_report.html"]),
    "rfm_cdnow.ipynb": ("CDNOW_master.txt", ["23,570 customers"], ["cdnow_report.html"]),
    "scoring_and_drift.ipynb": ("mall_customers.csv", ["moved: [", "'Age'"], ["mall_model.skops"]),
}


def code_of(name: str) -> list[str]:
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def test_every_notebook_is_checked():
    assert sorted(EXPECT) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_uses_only_the_public_api(name):
    for source in code_of(name):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
                names = [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                modules = names = [a.name for a in node.names]
            elif isinstance(node, ast.Attribute):
                modules, names = [], [node.attr]
            else:
                continue
            for module in modules:
                assert not module.startswith(PRIVATE), f"{name} imports {module}"
            for part in [*names, *(m for mod in modules for m in mod.split("."))]:
                assert not part.startswith("_"), f"{name} uses the private name {part}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, tmp_path, monkeypatch):
    data_file, shown, written = EXPECT[name]
    with_shared = (SHARED / data_file).exists() or os.environ.get("CUSTSEG_REQUIRE_SHARED") == "1"
    if with_shared:
        shared_file(data_file)  # fails under CUSTSEG_REQUIRE_SHARED=1 when it is missing
    work = tmp_path / "examples"
    work.mkdir()
    shutil.copy(EXAMPLES / name, work)
    monkeypatch.setenv("CUSTSEG_SHARED", str(SHARED.parent if with_shared else tmp_path / "none"))
    monkeypatch.setenv("PLOTLY_RENDERER", "plotly_mimetype")  # figure data only, no plotly.js
    nb = nbformat.read(work / name, as_version=4)
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": work}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    text = "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    assert not [o for o in outputs if o.output_type == "error"]
    assert "Traceback" not in text
    charts = [o for o in outputs if PLOTLY in o.get("data", {})]
    assert charts, f"{name} draws no chart"
    assert all(o["data"][PLOTLY]["data"] for o in charts), "a chart without data"
    for path in written:
        assert (work / path).stat().st_size > 1000
    if with_shared:
        for expected in shown:
            assert expected in text, f"{name}: {expected!r} not in its outputs"

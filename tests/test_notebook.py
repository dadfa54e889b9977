"""The example notebook is executed so it never rots."""

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .conftest import ROOT, SHARED


def test_example_notebook_runs(tmp_path, monkeypatch):
    nb_path = ROOT / "examples" / "mall_customers.ipynb"
    work = tmp_path / "examples"
    work.mkdir()
    shutil.copy(nb_path, work)
    monkeypatch.setenv("CUSTSEG_SHARED", str(SHARED.parent))
    nb = nbformat.read(work / nb_path.name, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": work}}
    ).execute()
    assert (work / "mall_report.html").stat().st_size > 100_000
    outputs = "".join(
        str(o.get("text", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.outputs
    )
    assert "Traceback" not in outputs
    assert "k=5" in outputs
    if Path(SHARED / "mall_customers.csv").exists():
        assert "(200, 5)" in outputs

"""MkDocs hook: the example notebooks, executed at build time, become the Examples pages.

``examples/*.ipynb`` are kept without outputs. Each is run here the way the test suite runs it
(a scratch folder, the shared data beside it when there is one) so its page always shows what
the current code prints and draws. A cell that fails stops the build.

Charts are drawn by the plotly.js that the installed plotly package ships, copied into the site:
the page works offline and loads nothing from the internet.
"""

from __future__ import annotations

import logging
import os
import posixpath
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import plotly
import plotly.io as pio
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
DATA = ("mall_customers.csv", "CDNOW_master.txt")  # shared files the notebooks read
PLOTLY_JS = "assets/javascripts/plotly.min.js"
PLOTLY_MIME = "application/vnd.plotly.v1+json"

log = logging.getLogger("mkdocs.hooks.notebook")
_scratch: Path | None = None


def _shared() -> Path:
    # The same rule as tests/conftest.py: CUSTSEG_SHARED, else ../shared beside the repository.
    return Path(os.environ.get("CUSTSEG_SHARED", ROOT.parent / "shared"))


def _execute(notebook: Path, scratch: Path) -> nbformat.NotebookNode:
    work = scratch / "custseg" / "examples"
    if not work.exists():
        work.mkdir(parents=True)
        (scratch / "shared" / "data").mkdir(parents=True)
        for name in DATA:  # found by a notebook as ../../shared, the path a reader's checkout has
            if (_shared() / "data" / name).exists():
                shutil.copy(_shared() / "data" / name, scratch / "shared" / "data")
    nb = nbformat.read(notebook, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "CUSTSEG_SHARED"}
    env["PLOTLY_RENDERER"] = "plotly_mimetype"  # figure data only; drawn below from the site
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute(env=env)
    return nb


def _draw_charts(nb: nbformat.NotebookNode, plotly_src: str) -> None:
    first = True
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            figure = output.get("data", {}).get(PLOTLY_MIME)
            if figure is None:
                continue
            div = pio.to_html(
                {"data": figure.get("data", []), "layout": figure.get("layout", {})},
                config=figure.get("config"),
                include_plotlyjs=False,
                include_mathjax=False,
                full_html=False,
                default_width="100%",
                validate=False,
            )
            if first:
                div = f'<script src="{plotly_src}"></script>\n{div}'
                first = False
            output["data"] = {"text/html": div}


@event_priority(50)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files, config):
    global _scratch
    _scratch = Path(tempfile.mkdtemp(prefix="custseg-docs-"))
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    files.append(File.generated(config, PLOTLY_JS, abs_src_path=str(plotly_js)))
    for notebook in NOTEBOOKS:
        # A plain File rooted in the scratch folder (not File.generated): mkdocs-jupyter reads
        # the notebook through the file's src_dir, which generated files lack.
        page = File(
            f"examples/{notebook.name}",
            src_dir=str(_scratch / "site"),
            dest_dir=config.site_dir,
            use_directory_urls=config.use_directory_urls,
        )
        executed = Path(page.abs_src_path)
        executed.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        nb = _execute(notebook, _scratch)
        log.info("Executed %s in %.1f s", notebook.name, time.perf_counter() - started)
        _draw_charts(nb, posixpath.relpath(PLOTLY_JS, posixpath.dirname(page.dest_uri)))
        nbformat.write(nb, executed)
        files.append(page)
    return files


def on_post_build(config):
    _cleanup()


def on_build_error(error):
    _cleanup()


def _cleanup() -> None:
    global _scratch
    if _scratch is not None:
        shutil.rmtree(_scratch, ignore_errors=True)
        _scratch = None

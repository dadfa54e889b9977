"""The documentation site builds with ``mkdocs build --strict``, and what it promises is in it.

The command-line reference must be generated from the Typer app, not copied by hand: its page
holds only a marker, and every command and option of the app, with its help text, must appear in
the built page. Needs the ``docs`` extra: a missing one skips on a user's machine, fails under CI.
"""

from __future__ import annotations

import html
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from .conftest import ROOT, need

CLI_PAGE = ROOT / "docs" / "reference" / "cli.md"
MARKER = "<!-- custseg-cli-reference -->"

# Public name -> the API page that documents it (anchor ids are the names).
API_PAGES = {
    "custseg.segment": "segment",
    "custseg.Segmentation": "segment",
    "custseg.SegmentOptions": "segment",
    "custseg.load": "load",
    "custseg.Table": "load",
    "custseg.choose_k": "choose-k",
    "custseg.KChoice": "choose-k",
    "custseg.Segmenter": "segmenter",
    "custseg.load_model": "scoring",
    "custseg.SegmentModel": "scoring",
    "custseg.rfm.segment_rfm": "rfm",
    "custseg.rfm.rfm_features": "rfm",
    "custseg.rfm.read_transactions": "rfm",
    "custseg.api.create_app": "rest-api",
    "custseg.spark.segment_spark": "spark",
}


def text_of(page: Path) -> str:
    """The visible text of a built page, entities decoded and whitespace collapsed."""
    body = re.sub(r"<script.*?</script>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once for this module with ``--strict`` (any warning fails the build)."""
    installed = importlib.util.find_spec("mkdocs") is not None
    need("the docs extra (pip install -e '.[docs]')", installed)
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stdout}\n{build.stderr}"
    return out


def all_options() -> dict[str, list[str]]:
    """Command -> the flags of its options, read from the app ``custseg`` runs."""
    from custseg.cli import app

    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    return {
        name: [
            flag
            for param in group.get_command(ctx, name).params
            if param.param_type_name == "option"
            for flag in [*param.opts, *param.secondary_opts]
        ]
        for name in group.list_commands(ctx)
    }


def test_cli_page_is_generated_not_copied():
    source = CLI_PAGE.read_text(encoding="utf-8")
    assert MARKER in source
    flags = {flag for flags in all_options().values() for flag in flags} - {"--help"}
    copied = sorted(flag for flag in flags if re.search(rf"{flag}\b", source))
    assert not copied, f"options written into cli.md by hand: {copied}"
    assert "docs/hooks/cli_reference.py" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


def test_cli_reference_lists_every_command_and_option(site):
    from custseg.cli import app

    page = text_of(site / "reference" / "cli.html")
    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    names = group.list_commands(ctx)
    assert {"run", "explore", "choose-k", "app", "predict", "rfm", "serve"} <= set(names)
    for name in names:
        command = group.get_command(ctx, name)
        assert f"custseg {name}" in page, name
        assert words(command.help.splitlines()[0]) in page, name
        for param in command.params:
            for flag in [*param.opts, *param.secondary_opts]:
                if param.param_type_name == "option":
                    assert flag in page, f"custseg {name} {flag}"
            if getattr(param, "help", None):
                assert words(param.help) in page, f"custseg {name} {param.name}: help text"


def test_api_reference_has_every_public_name_with_its_parameters(site):
    for name, slug in API_PAGES.items():
        page = site / "reference" / f"{slug}.html"
        assert f'id="{name}"' in page.read_text(encoding="utf-8"), f"{name} has no entry"
    # The signature and the parameters of the whole-run functions are shown.
    import custseg
    from custseg.rfm import segment_rfm

    for obj, slug in [(custseg.segment, "segment"), (custseg.load, "load"), (segment_rfm, "rfm")]:
        page = text_of(site / "reference" / f"{slug}.html")
        for parameter in inspect.signature(obj).parameters:
            assert parameter in page, f"{obj.__name__}({parameter}) is not on the {slug} page"


def test_pages_from_the_repository_are_included(site):
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    first_heading = next(line for line in results.splitlines() if line.startswith("## "))
    assert words(first_heading[3:]) in text_of(site / "benchmarks.html")
    assert "Layers" in text_of(site / "architecture.html")


def test_notebook_page_shows_executed_output(site):
    page = site / "examples" / "mall_customers.html"
    text = text_of(page)
    assert "k=5" in text and "Traceback" not in text
    assert "plotly-graph-div" in page.read_text(encoding="utf-8")


def test_site_loads_nothing_from_the_internet(site):
    tag = r"<(?:script|link|img|iframe)\b[^>]*"
    remote = re.compile(tag + r"(?:src|href)=[\"']?(?:https?:)?//", re.I)
    for page in site.rglob("*.html"):
        found = remote.search(page.read_text(encoding="utf-8"))
        assert found is None, f"{page.relative_to(site)} loads {found.group(0)!r}"

"""The dashboard in a real browser: ``custseg app`` in a subprocess, driven by headless Chromium.

Needs Debian's ``chromium`` (browsers cannot be downloaded at run time) and playwright-python;
a missing one skips on a user's machine and fails under CI. The screenshot is saved to
``test-artifacts/dashboard.png``; with ``CUSTSEG_UPDATE_SCREENSHOT=1`` it is also copied to
``docs/dashboard.png`` for the README.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from .conftest import ROOT, need

CHROMIUM = Path(os.environ.get("CUSTSEG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACT = ROOT / "test-artifacts" / "dashboard.png"
README_IMAGE = ROOT / "docs" / "dashboard.png"
START_TIMEOUT = 60  # s, for the server to answer its health check
RUN_TIMEOUT = 90_000  # ms, for the first segmentation to appear


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def custseg_executable() -> str:
    local = Path(sys.executable).with_name("custseg")
    found = str(local) if local.exists() else shutil.which("custseg")
    assert found, "the custseg console script is not installed (pip install -e .)"
    return found


def wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"custseg app exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"custseg app did not answer within {START_TIMEOUT}s:\n{log.read_text()}")


@pytest.fixture
def chromium() -> Path:
    """Chromium and playwright-python, or a skip (a failure under CI)."""
    need(f"Chromium at {CHROMIUM}", CHROMIUM.exists())
    need("playwright-python", importlib.util.find_spec("playwright") is not None)
    return CHROMIUM


@pytest.fixture
def server(tmp_path):
    """``custseg app`` on a free loopback port, stopped (its whole process group) afterwards."""
    port = free_port()
    log = tmp_path / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [custseg_executable(), "app", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def test_dashboard_segments_the_sample_in_chromium(chromium, server):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 2150})
            page.goto(server)

            # The sample customers are the default source: the run starts when the page opens.
            page.get_by_role("radiogroup").first.get_by_text("Sample customers").click()
            headline = page.get_by_text("segments of 200 customers")
            expect(headline).to_be_visible(timeout=RUN_TIMEOUT)
            k = int(headline.inner_text().split()[0])
            cards = page.locator("[class*='st-key-card-']")
            expect(cards).to_have_count(k)
            assert "Promotions" in cards.first.inner_text()
            expect(page.get_by_text("Recommended k=")).to_be_visible()
            assert page.locator("[data-testid='stException']").count() == 0
            assert page.locator("[data-testid='stAlertContentError']").count() == 0

            # The charts are drawn by plotly in the page.
            expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)

            page.wait_for_timeout(1000)  # let the charts finish their transitions
            page.get_by_role("heading", name="Customer segments").scroll_into_view_if_needed()
            ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACT))

            # A download is built on click, by the running server.
            with page.expect_download() as download:
                page.get_by_role("button", name="Download segments.csv").click()
            csv = pd.read_csv(download.value.path())
            assert list(csv.columns[-2:]) == ["segment", "segment_name"] and len(csv) == 200
        finally:
            browser.close()
    assert ARTIFACT.stat().st_size > 10_000
    if os.environ.get("CUSTSEG_UPDATE_SCREENSHOT") == "1":
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ARTIFACT, README_IMAGE)

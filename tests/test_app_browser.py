"""The dashboard in a real browser: ``custseg app`` in a subprocess, driven by headless Chromium.

Needs Debian's ``chromium`` (browsers cannot be downloaded at run time) and playwright-python;
a missing one skips on a user's machine and fails under CI. The screenshots are saved to
``test-artifacts/dashboard.png`` and ``dashboard-sign-in.png``; with
``CUSTSEG_UPDATE_SCREENSHOT=1`` the first is also copied to ``docs/dashboard.png`` for the README.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from custseg import sample_customers
from custseg.app.access import TOKEN_ENV

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
SIGN_IN_ARTIFACT = ROOT / "test-artifacts" / "dashboard-sign-in.png"
TOKEN = "correct-horse-battery-staple"
SECRET = "hunter2"
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


@contextmanager
def running_app(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``custseg app ARGS`` on a free loopback port, stopped (its whole process group) after."""
    port = free_port()
    log = tmp_path / "app.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [custseg_executable(), "app", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
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


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The dashboard as a user starts it on their own machine: no token, no data folder."""
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with running_app(tmp_path) as url:
        yield url


@pytest.fixture
def team_server(tmp_path):
    """The dashboard set up for a team: a token, a data folder (with a secrets file and a link
    out of it) and a 1 MB upload limit."""
    root = tmp_path / "data"
    (root / "nested").mkdir(parents=True)
    sample_customers(200).to_csv(root / "customers.csv", index=False)
    sample_customers(90, seed=6).to_csv(root / "nested" / "more.csv", index=False)
    for secret in (".env", "secrets.env"):
        (root / secret).write_text(f"DB_PASSWORD={SECRET}\n")
    sample_customers(60, seed=7).to_csv(tmp_path / "outside.csv", index=False)
    (root / "escape.csv").symlink_to(tmp_path / "outside.csv")
    args = ("--data-dir", str(root), "--max-upload-mb", "1")
    with running_app(tmp_path, *args, env={TOKEN_ENV: TOKEN}) as url:
        yield url, tmp_path


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


def signed_out(page) -> None:
    """Only the sign-in form: no data, no sample, no source or path field."""
    from playwright.sync_api import expect

    expect(page.get_by_label("Access token")).to_be_visible()
    body = page.inner_text("body")
    for text in ("Sample customers", "Upload a file", "Path on the server", "segments of"):
        assert text not in body, text
    for testid in ("stSidebar", "stDataFrame", "stFileUploader", "stSelectbox", "stRadio"):
        assert page.locator(f"[data-testid='{testid}']").count() == 0, testid


def test_team_dashboard_signs_in_and_confines_paths_in_chromium(chromium, team_server):
    from playwright.sync_api import expect, sync_playwright

    url, folder = team_server
    big = folder / "big.csv"
    sample_customers(60000, seed=5).to_csv(big, index=False)
    assert big.stat().st_size > 1024 * 1024
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.get_by_label("Access token").wait_for(timeout=RUN_TIMEOUT)
            page.wait_for_timeout(1000)  # anything else the first run draws would be there now
            signed_out(page)
            SIGN_IN_ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SIGN_IN_ARTIFACT))

            # A wrong token: an error, and still nothing else.
            page.get_by_label("Access token").fill("not-the-token-at-all")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("That is not the access token")).to_be_visible()
            signed_out(page)

            # The right token opens the page.
            page.get_by_label("Access token").fill(TOKEN)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text("segments of 200 customers")).to_be_visible(timeout=RUN_TIMEOUT)
            sidebar = page.get_by_test_id("stSidebar")

            # The picker lists the tables in the data folder, not the secrets or the link out.
            sidebar.get_by_text("Path on the server").click(timeout=RUN_TIMEOUT)
            picker = sidebar.get_by_test_id("stSelectbox").first
            picker.click(timeout=RUN_TIMEOUT)
            options = page.get_by_role("option")
            expect(options).to_have_count(3)
            assert options.all_inner_texts() == [
                "customers.csv",
                "nested/more.csv",
                "Type a path ...",
            ]
            page.get_by_role("option", name="nested/more.csv").click()
            expect(page.get_by_text("segments of 90 customers")).to_be_visible(timeout=RUN_TIMEOUT)

            # Typed paths that leave the folder, or name a secrets file, are refused.
            for typed, message in [
                ("../outside.csv", "goes up a folder with '..'"),
                (str(folder / "outside.csv"), "is outside the data folder"),
                ("escape.csv", "is a link to a file outside the data folder"),
                (".env", "is hidden"),
                ("secrets.env", "is not a table"),
            ]:
                picker.click()
                page.get_by_role("option", name="Type a path ...").click()
                box = sidebar.get_by_label("Path inside the data folder")
                box.fill(typed)
                box.press("Enter")
                error = page.get_by_test_id("stAlertContentError")
                expect(error).to_contain_text(message, timeout=RUN_TIMEOUT)
                expect(page.get_by_text("segments of 90 customers")).to_be_visible()
            assert SECRET not in page.inner_text("body")

            # An upload over the limit is marked, explained, and not read.
            sidebar.get_by_text("Upload a file").click()
            sidebar.locator("input[type='file']").set_input_files(str(big))
            chip = sidebar.get_by_test_id("stFileChip")
            expect(chip).to_have_attribute("aria-invalid", "true", timeout=RUN_TIMEOUT)
            # (the page may show other alerts too, e.g. advice on the features)
            too_big = page.get_by_role("alert").filter(has_text="File must be")
            expect(too_big).to_have_text("Error: File must be 1.0MB or smaller.")
            expect(sidebar.get_by_text("Files up to 1 MB each")).to_be_visible()
            expect(page.get_by_text("segments of 90 customers")).to_be_visible()
            assert page.locator("[data-testid='stException']").count() == 0
        finally:
            browser.close()

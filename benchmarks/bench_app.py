"""Dashboard speed on 100k customers: how long a k change takes to re-render.

Two measurements of the same thing:

* ``apptest``: Streamlit's AppTest runs the page script in this process; the time of
  ``at.run()`` after moving the k slider is the server-side re-render (every widget, card,
  chart and table of the page).
* ``browser`` (``--browser``): ``custseg app`` in a subprocess and headless Chromium; the time
  from pressing the arrow key on the k slider until the page shows the new k and Streamlit is
  idle again, i.e. what a user waits for, charts drawn.

Usage::

    python benchmarks/bench_app.py [--rows 100000] [--browser]

The k search itself (once per data and features) is timed too, but is not what the 2 s budget
is about: moving the slider must reuse it.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BUDGET = 2.0  # seconds for a k change
# In the page: the headline and the cards show k, the 2D chart's legend has k segments (plus its
# "segment centre" entry), and Streamlit's "running" indicator is gone. Checked every frame.
SETTLED = """([k, rows]) => {
  const head = [...document.querySelectorAll("h3")]
    .some(h => h.innerText.trim() === `${k} segments of ${rows} customers`);
  const cards = document.querySelectorAll("[class*='st-key-card-']").length === k;
  const plot = document.querySelector(".js-plotly-plot");
  const legend = plot && plot.querySelectorAll(".legend .traces").length === k + 1;
  const idle = !document.querySelector("[data-testid='stStatusWidget']");
  return head && cards && legend && idle;
}"""
KS = (3, 4, 6, 8, 7, 2, 9, 10)


def make_data(rows: int, folder: Path) -> Path:
    from custseg import sample_customers

    path = folder / f"customers_{rows}.parquet"
    sample_customers(rows, seed=1).to_parquet(path, index=False)
    return path


def bench_apptest(path: Path) -> dict:
    from streamlit.testing.v1 import AppTest

    from custseg.app import APP_FILE
    from custseg.app.access import DATA_DIR_ENV

    os.environ[DATA_DIR_ENV] = str(path.parent)  # what custseg app --data-dir sets
    at = AppTest.from_file(str(APP_FILE), default_timeout=1800)
    at.run()
    at.radio(key="source").set_value("Path on the server").run()
    at.selectbox(key="server_pick").set_value(path.name)
    start = time.perf_counter()
    at.run()
    search = time.perf_counter() - start
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    at.radio(key="k_mode").set_value("Choose").run()
    fresh, again = [], []
    for k in KS:
        at.slider[0].set_value(k)
        start = time.perf_counter()
        at.run()
        fresh.append(time.perf_counter() - start)
        assert at.session_state["last_good"].seg.k == k and not at.exception
    for k in KS[:3]:  # back to a k already shown
        at.slider[0].set_value(k)
        start = time.perf_counter()
        at.run()
        again.append(time.perf_counter() - start)
    return {"search": search, "fresh": fresh, "again": again}


def bench_browser(path: Path, rows: int) -> dict:
    import socket

    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("custseg")
    server = subprocess.Popen(
        [str(exe), "app", "--port", str(port), "--data-dir", str(path.parent)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )  # fmt: skip
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url)
            expect(page.get_by_text("segments of 200 customers")).to_be_visible(timeout=120_000)
            page.get_by_text("Path on the server").click()
            page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.click()
            start = time.perf_counter()
            page.get_by_role("option", name=path.name).click()
            headline = page.get_by_text(f"segments of {rows:,} customers")
            expect(headline).to_be_visible(timeout=1_800_000)
            search = time.perf_counter() - start
            status = page.locator("[data-testid='stStatusWidget']")
            expect(status).to_have_count(0, timeout=60_000)  # the first render is complete
            page.get_by_text("Choose", exact=True).click()
            slider = page.get_by_role("slider")
            expect(slider).to_be_visible(timeout=60_000)
            expect(status).to_have_count(0, timeout=60_000)
            fresh, again = [], []
            # From the recommended 5: 4, 3, 2, then 10, 9, 8, 7, 6 (new k), then 7 and 2 (seen).
            steps = [*["ArrowLeft"] * 3, "End", *["ArrowLeft"] * 4, "ArrowRight", "Home"]
            seen = {int(slider.input_value())}
            for key in steps:
                slider.focus()
                start = time.perf_counter()
                slider.press(key)
                k = int(slider.input_value())
                page.wait_for_function(SETTLED, arg=[k, f"{rows:,}"], polling="raf", timeout=60_000)
                (again if k in seen else fresh).append(time.perf_counter() - start)
                seen.add(k)
            browser.close()
        return {"search": search, "fresh": fresh, "again": again}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)


def show(name: str, result: dict) -> None:
    fresh = result["fresh"]
    print(f"{name}: k search {result['search']:.1f} s (first load of these features)")
    print(
        f"{name}: k change, new k: median {statistics.median(fresh):.2f} s, "
        f"max {max(fresh):.2f} s over {len(fresh)} changes ({', '.join(f'{t:.2f}' for t in fresh)})"
    )
    if result.get("again"):
        again = result["again"]
        print(f"{name}: k change, k seen before: max {max(again):.2f} s")
    verdict = "within" if max(fresh) < BUDGET else "OVER"
    print(f"{name}: {verdict} the {BUDGET:.0f} s budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--browser", action="store_true", help="also measure in Chromium")
    parser.add_argument("--no-apptest", action="store_true", help="skip the AppTest measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = make_data(args.rows, Path(folder))
        print(f"{args.rows:,} customers, features Age, Annual Income, Spending Score")
        if not args.no_apptest:
            show("apptest", bench_apptest(path))
        if args.browser:
            show("browser", bench_browser(path, args.rows))


if __name__ == "__main__":
    main()

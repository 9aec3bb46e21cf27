"""`hemicycle ui` as a real process, in headless Chromium: a page URL opened first on a fresh
server, the Explore map (screenshot), then SIGTERM stopping the Streamlit child too."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest

from conftest import SAMPLE, run_cli, write_jsonl
from test_browser import _free_port, _wait_healthy, browser  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _start_ui(tmp_path, port: int) -> subprocess.Popen:
    """`hemicycle ui` as a service manager would start it (not in a terminal)."""
    log = (tmp_path / f"ui-{port}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-c", "from ui.cli import main; main()", "ui", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())


def test_explore_page_in_a_browser_then_sigterm(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    records = [json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines()]
    corpus = write_jsonl(tmp_path / "in" / "third.jsonl",
                         [r for r in records[::3] if len(r["text"]) < 1500])
    run_cli("ingest", str(corpus), "--no-progress", check=True)
    port = _free_port()
    proc = _start_ui(tmp_path, port)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc)
        wait = WebDriverWait(browser, 180)
        # a page URL first, on a fresh server: the app's navigation and wide layout
        browser.get(f"http://127.0.0.1:{port}/corpus")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-testid='stMetric']")))
        nav = browser.find_element(By.CSS_SELECTOR, "[data-testid='stSidebarNav']")
        lines = nav.text.splitlines()  # a Material icon's text is its name (chat, bar_chart…)
        assert {"Chat", "Corpus", "Explore"} <= set(lines) and "app" not in lines
        icons = nav.find_elements(By.CSS_SELECTOR, "[data-testid='stIconMaterial']")
        assert len(icons) >= 3  # Material icons, not emoji (boxes without an emoji font)
        main = browser.find_element(By.CSS_SELECTOR, "[data-testid='stMainBlockContainer']")
        assert main.size["width"] > 1000  # wide layout (centered is 736 px)

        browser.get(f"http://127.0.0.1:{port}/explore")
        wait.until(ec.presence_of_element_located(
            (By.CSS_SELECTOR, "[data-testid='stPlotlyChart'] .scatterlayer .point")))
        points = browser.find_elements(
            By.CSS_SELECTOR, "[data-testid='stPlotlyChart'] .scatterlayer .point")
        chunks = json.loads(run_cli("stats", "--json", check=True).stdout)["chunks"]
        assert len(points) >= chunks  # every passage drawn (the positions view adds a few)
        time.sleep(1)  # let the cluster names settle
        shot = tmp_path / "explore.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000
        if os.environ.get("HEMICYCLE_SCREENSHOT_DIR"):  # e.g. docs/, for the README
            shutil.copy(shot, os.path.join(os.environ["HEMICYCLE_SCREENSHOT_DIR"], shot.name))

        # SIGTERM to `hemicycle ui` (a service manager, `kill`) stops its Streamlit child too
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "hemicycle ui started no Streamlit child"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, f"still serving after SIGTERM: {[p.pid for p in alive]}"
    finally:
        if proc.poll() is None:
            proc.kill()

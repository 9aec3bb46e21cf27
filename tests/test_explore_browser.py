"""`hemicycle ui` as a real process, in headless Chromium: a page URL opened first on a fresh
server, the Explore map (screenshot), a box selection dragged on it (the selection table lists
exactly the points inside the box), then SIGTERM stopping the Streamlit child too."""

from __future__ import annotations

import html
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


_FIGURE = """const gd = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
return {traces: gd._fullData.map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y),
                                   points: Array.from(t.customdata), hover: t.hovertext})),
        boxes: (gd.layout.selections || []).map(s => [s.x0, s.x1, s.y0, s.y1])};"""


def _box_select(browser) -> None:
    """Plotly's Box Select tool, then a mouse drag over the middle of the map."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    chart = browser.find_element(By.CSS_SELECTOR, "[data-testid='stPlotlyChart']")
    area = chart.find_element(By.CSS_SELECTOR, ".draglayer .nsewdrag")  # the plot area
    ActionChains(browser).move_to_element(area).perform()  # shows the mode bar
    chart.find_element(By.CSS_SELECTOR, ".modebar-btn[data-val='select']").click()
    w, h = area.rect["width"], area.rect["height"]
    ActionChains(browser).move_to_element_with_offset(area, -int(w * .3), -int(h * .3)) \
        .click_and_hold().move_by_offset(int(w * .2), int(h * .2)) \
        .move_by_offset(int(w * .2), int(h * .25)).release().perform()


def _inside(figure: dict) -> list[tuple[str, str, str]]:
    """(speaker, date, first words) of the map points inside the selection box, in map order
    (the figure's own coordinates and hover text)."""
    (x0, x1, y0, y1), = figure["boxes"]
    chosen = {}
    for trace in figure["traces"]:
        if trace["name"] in ("Query", "Retrieved"):
            continue
        for x, y, point, hover in zip(trace["x"], trace["y"], trace["points"], trace["hover"]):
            if min(x0, x1) <= x <= max(x0, x1) and min(y0, y1) <= y <= max(y0, y1):
                lines = [html.unescape(line) for line in hover.split("<br>")]
                speaker = lines[0].removeprefix("<b>").removesuffix("</b>").split(" (")[0]
                chosen[point] = (speaker, lines[1].split(" · ")[0], lines[2][:30])
    return [chosen[p] for p in sorted(chosen)]


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

        # a real box selection: plotly.js -> Streamlit's selection event -> the page's table
        _box_select(browser)
        heading = wait.until(lambda d: next((h for h in d.find_elements(By.TAG_NAME, "h3")
                                             if h.text.endswith(" selected")), None))
        expected = _inside(browser.execute_script(_FIGURE))
        assert expected and heading.text == f"{len(expected)} selected"
        table = wait.until(ec.presence_of_element_located(
            (By.CSS_SELECTOR, "[data-testid='stDataFrame'] table tbody")))
        rows = [[td.get_attribute("textContent") for td in tr.find_elements(By.TAG_NAME, "td")]
                for tr in table.find_elements(By.TAG_NAME, "tr")]
        # columns: speaker, group, date, debate, passage
        assert [(r[0], r[2], r[4][:30]) for r in rows] == expected

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

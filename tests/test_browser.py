"""End to end in a real browser: `hemicycle ui` on a free port, headless Debian Chromium.

Selenium drives the Debian ``chromium`` with the Debian ``chromedriver`` (no browser or driver
download: Selenium Manager is kept offline).  The test asks a question in the chat, waits for
an answer with ``[1]`` and a citation card, and saves a screenshot under the test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import run_cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync", "--window-size=1400,1800")

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hemicycle ui exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


@pytest.fixture
def served_app(tiny_corpus, tmp_path):
    run_cli("ingest", str(tiny_corpus), "--no-progress", check=True)
    port = _free_port()
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ui.cli import main; main()", "ui", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def browser(monkeypatch):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Debian chromium and chromium-driver are required (make browser)")
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not download anything
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_chat_in_a_real_browser(served_app, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served_app)
    wait = WebDriverWait(browser, 180)
    box = wait.until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")))
    box.send_keys("What did the Greens argue about the beef quota and deforestation?")
    box.send_keys(Keys.ENTER)

    def answered(driver):
        messages = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")
        return len(messages) >= 2 and "[1]" in messages[-1].text and \
            "Whole speech" in messages[-1].text

    wait.until(answered)
    reply = browser.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")[-1]
    text = reply.text
    assert "99,000 tonnes" in text  # the quoted sentence of the Greens speaker
    assert "[1] Jonas Weber (Greens/EFA)" in text  # the first source card
    assert "EU–Mercosur trade agreement" in text
    cards = reply.find_elements(By.CSS_SELECTOR, "[data-testid='stExpander']")
    assert cards, "no expandable source card"
    shot = tmp_path / "chat.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

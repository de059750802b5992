"""The dashboard served by ``streamlit run`` and driven in Debian's headless Chromium.

Each page is opened, checked for Streamlit's error box and its key elements, and
photographed. Screenshots go to a temporary folder, or to ``GATETWIN_SCREENSHOTS`` when set
(``GATETWIN_SCREENSHOTS=docs/img ./dev test tests/browser`` refreshes the README's images).

Chromium must be at /usr/bin/chromium (``.ci/run`` installs it). Without it the test fails
in CI (``CI=true``) and is skipped elsewhere, saying why.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.launch import dashboard_environment, streamlit_command
from tests.unit.dashboard.support import write_saved_runs

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
SCREENSHOTS_ENV = "GATETWIN_SCREENSHOTS"
START_TIMEOUT_S = 60.0
#: Pages by URL path, with a text each must show once drawn.
PAGES = {
    "overview": ("", "Trucks cleared per day"),
    "replay": ("replay", "Trucks at each place over the run"),
    "compare": ("compare", "Runs to compare"),
    "bottlenecks": ("bottlenecks", "Where the queue forms first"),
    "agencies": ("agencies", "What the outages did"),
    "run": ("run", "Open results"),
}


def _chromium() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium), as .ci/run does"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with code {server.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"streamlit did not answer on {url} within {START_TIMEOUT_S:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard server on a free loopback port with two saved runs open; stopped by its PID."""
    root = tmp_path_factory.mktemp("browser")
    folders = write_saved_runs(root / "saved")
    port = _free_port()
    environment = dashboard_environment([folders["baseline"], folders["outage"]], root / "dashboard-runs")
    environment["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] = "none"
    log = root / "streamlit.log"
    with log.open("wb") as output:
        server = subprocess.Popen(streamlit_command(port, "127.0.0.1", headless=True), env=environment,
                                  stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ[SCREENSHOTS_ENV]) if os.environ.get(SCREENSHOTS_ENV) else tmp_path_factory.mktemp("screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _settled(page: object) -> None:
    """Wait until Streamlit has finished running the page's script."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_load_state("networkidle")


def test_every_page_draws_without_an_error_in_a_real_browser(dashboard_url: str, screenshots: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            for name, (path, marker) in PAGES.items():
                page.goto(f"{dashboard_url}/{path}")
                page.get_by_text(marker).first.wait_for(timeout=60_000)
                _settled(page)
                assert page.locator('[data-testid="stException"]').count() == 0, f"{name}: an exception is shown"
                assert page.locator('[data-testid="stSidebar"]').get_by_text("Results shown").count() == 1, name
                if name != "run":
                    assert page.locator('[data-testid="stImage"]').count() >= 1, f"{name}: no figure"
                page.screenshot(path=str(screenshots / f"dashboard-{name}.png"), full_page=name in ("overview", "replay"))

            # The overview: seven headline KPIs, each with its interval.
            page.goto(dashboard_url)
            page.get_by_text("Trucks cleared per day").first.wait_for(timeout=60_000)
            _settled(page)
            assert page.locator('[data-testid="stMetric"]').count() == 7
            assert page.get_by_text("95 % CI ±").count() >= 1
        finally:
            browser.close()


def test_the_replay_slider_moves_the_clock_shown(dashboard_url: str) -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(f"{dashboard_url}/replay")
            page.get_by_text("Trucks at each place over the run").first.wait_for(timeout=60_000)
            _settled(page)
            slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
            before = slider.get_attribute("aria-valuetext")
            slider.focus()
            for _ in range(4):
                page.keyboard.press("ArrowRight")
            after = slider.get_attribute("aria-valuetext")
            assert before != after
            # The rerun draws the counts for the new moment (the caption names it).
            page.get_by_text(f"inside the gate at {after}.").first.wait_for(timeout=60_000)
            _settled(page)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()


def test_a_scenario_run_from_the_browser_opens_its_results(dashboard_url: str) -> None:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(f"{dashboard_url}/run")
            page.get_by_text("Open results").first.wait_for(timeout=60_000)
            _settled(page)
            hours = page.get_by_label("Simulated hours").first
            hours.fill("1")
            hours.press("Enter")
            _settled(page)
            page.get_by_role("button", name="Run", exact=True).first.click()
            sidebar = page.locator('[data-testid="stSidebar"]')
            sidebar.get_by_text("huu_nghi_2025 · seed 870 · 1 rep · 1 h").first.wait_for(timeout=90_000)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()

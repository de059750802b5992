"""The dashboard served by ``streamlit run`` and driven in Debian's headless Chromium.

Each page is opened, checked for Streamlit's error box and its key elements, and
photographed. Screenshots go to a temporary folder, or to the folder ``GATETWIN_SCREENSHOTS``
names, to look at what the tests saw: small runs of a few hours, not the README's pictures.
Those, docs/img/dashboard-*.png, come from full-day runs made by ``scripts/screenshots.py``
(``.venv/bin/python scripts/screenshots.py``); do not point ``GATETWIN_SCREENSHOTS`` at docs/img.

Chromium must be at /usr/bin/chromium (``.ci/run`` installs it). Without it (or without
Python's playwright) the tests fail in CI (``CI`` set, as ``.ci/run`` sets it) and are skipped
elsewhere, saying why.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dashboard.serving import free_port, stop_server, wait_healthy
from tests.unit.dashboard.support import (
    OTHER_SEED,
    write_other_seed_run,
    write_outage_run,
    write_recovery_folder,
    write_saved_runs,
)
from twin.cli import dashboard_invocation

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
SCREENSHOTS_ENV = "GATETWIN_SCREENSHOTS"
START_TIMEOUT_S = 60.0
#: Milliseconds to wait for anything the page draws.
DRAW_TIMEOUT_MS = 60_000
#: Pages by URL path, with a text each must show once drawn.
PAGES = {
    "overview": ("", "Trucks cleared per day"),
    "replay": ("replay", "Trucks at each place over the run"),
    "compare": ("compare", "Runs to compare"),
    "sizing": ("sizing", "Fields to vary, with the values to try"),
    "bottlenecks": ("bottlenecks", "Where the queue forms first"),
    "agencies": ("agencies", "What the outages did"),
    "run": ("run", "Open results"),
}
NAVIGATION = ["Overview", "Gate replay", "Compare layouts", "Size the gate", "Bottlenecks", "Agencies and devices", "Run or open"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    """Fail in CI, where the browser must be there; skip elsewhere, saying why."""
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module (checked before the dashboard is started)."""
    if not CHROMIUM.is_file():
        _unavailable(f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium), as .ci/run does")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Python's playwright is missing; install the dev extras (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    try:
        wait_healthy(url, server, log, START_TIMEOUT_S)
    except RuntimeError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def saved_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two saved runs of ``write_saved_runs``: without and with a scanner outage."""
    return write_saved_runs(tmp_path_factory.mktemp("browser-saved"))


@pytest.fixture(scope="module")
def dashboard_url(browser: Browser, saved_folders: dict[str, Path],
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard server on a free loopback port with two saved runs open; stopped by its PID."""
    root = tmp_path_factory.mktemp("browser")
    folders = saved_folders
    port = free_port()
    command, environment = dashboard_invocation([folders["baseline"], folders["outage"]], port, "127.0.0.1", True,
                                                root / "dashboard-runs")
    environment["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] = "none"
    log = root / "streamlit.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server, log)
        yield url
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def other_seed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved run not open at start: another seed, three replications."""
    return write_other_seed_run(tmp_path_factory.mktemp("browser-other") / "other_seed")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ[SCREENSHOTS_ENV]) if os.environ.get(SCREENSHOTS_ENV) else tmp_path_factory.mktemp("screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (a new Streamlit session) per test."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


def _open(page: Page, url: str, marker: str) -> None:
    """Go to ``url`` and wait until the page shows ``marker`` and Streamlit has finished its script."""
    page.goto(url)
    page.get_by_text(marker).first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)


def _settled(page: Page) -> None:
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=DRAW_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")


def _no_error_box(page: Page, where: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, f"{where}: an exception is shown"
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0, f"{where}: an error is shown"


def test_every_page_draws_without_an_error_in_a_real_browser(page: Page, dashboard_url: str, screenshots: Path) -> None:
    from playwright.sync_api import expect

    for name, (path, marker) in PAGES.items():
        _open(page, f"{dashboard_url}/{path}", marker)
        _no_error_box(page, name)
        sidebar = page.locator('[data-testid="stSidebar"]')
        # The navigation lists the pages by title (app.py's st.navigation, not a folder listing).
        expect(sidebar.locator('[data-testid="stSidebarNavLink"]')).to_contain_text(NAVIGATION)
        expect(sidebar.get_by_role("combobox", name="Results shown")).to_have_value(
            "huu_nghi_smart_gate · seed 870 · 2 rep · 5 h")
        # A planner's tool: no "Deploy" button in the toolbar.
        assert page.locator('[data-testid="stAppDeployButton"]').count() == 0, f"{name}: a Deploy button"
        if name not in ("run", "sizing"):  # pages of forms: no figure before something runs
            assert page.locator('[data-testid="stImage"]').count() >= 1, f"{name}: no figure"
        if name == "overview":
            assert page.locator('[data-testid="stMetric"]').count() == 7
            # Every headline's label and value fit their column, not cut off with an ellipsis.
            for metric in page.locator('[data-testid="stMetric"]').all():
                cut = metric.evaluate("m => Array.from(m.querySelectorAll('*'))"
                                      ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
                assert not cut, f"cut off: {cut}"
            assert page.get_by_text("95 % CI ±").count() >= 1
        if name == "compare":
            assert page.locator('[data-testid="stMetric"]').count() == 2  # wins per run
            expect(page.get_by_text("Change of each KPI against the baseline").first).to_be_visible()
        page.screenshot(path=str(screenshots / f"dashboard-{name}.png"))


def test_the_replay_slider_moves_the_clock_and_the_counts_shown(page: Page, dashboard_url: str) -> None:
    _open(page, f"{dashboard_url}/replay", "Trucks at each place over the run")
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    before = slider.get_attribute("aria-valuetext")
    picture = page.locator('[data-testid="stImage"] img').first.get_attribute("src")
    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    after = slider.get_attribute("aria-valuetext")
    assert before != after
    # The rerun draws the counts for the new moment (the caption names it) and a new schematic.
    page.get_by_text(f"inside the gate at {after}.").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    assert page.locator('[data-testid="stImage"] img').first.get_attribute("src") != picture
    _no_error_box(page, "replay")


def test_a_scenario_run_from_the_browser_opens_its_results(page: Page, dashboard_url: str) -> None:
    from playwright.sync_api import expect

    _open(page, f"{dashboard_url}/run", "Open results")
    hours = page.get_by_label("Simulated hours").first
    hours.fill("1")
    hours.press("Enter")
    _settled(page)
    page.get_by_role("button", name="Run", exact=True).first.click()
    # The run goes to the background; finished, it opens and becomes the one every page shows.
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("combobox", name="Results shown")).to_have_value(
        "huu_nghi_2025 · seed 870 · 1 rep · 1 h", timeout=DRAW_TIMEOUT_MS)
    expect(sidebar.get_by_text("from run in the dashboard, saved to")).to_be_visible()
    _settled(page)
    _no_error_box(page, "run")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
    page.get_by_text("Trucks cleared per day").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    expect(page.get_by_role("heading", name="huu_nghi_2025")).to_be_visible()
    _no_error_box(page, "overview after the run")


def test_a_sizing_run_from_the_browser_names_the_smallest_cell_meeting_the_targets(page: Page,
                                                                                      dashboard_url: str) -> None:
    from playwright.sync_api import expect

    _open(page, f"{dashboard_url}/sizing", "Fields to vary, with the values to try")
    for label, value in (("Fields to vary, with the values to try", "layout.entry_lanes=[1, 2]"),
                         ("Service targets (optional)", "time_at_gate_p95<=100000")):
        area = page.get_by_role("textbox", name=label)
        area.fill(value)
        area.press("Control+Enter")  # a text area's value is sent on Ctrl+Enter or when it loses focus
        _settled(page)
    for label, value in (("Simulated hours", "1"), ("Replications per cell", "2")):
        number = page.get_by_role("spinbutton", name=label)
        number.fill(value)
        number.press("Enter")
        _settled(page)
    expect(page.get_by_text("2 cells", exact=True)).to_be_visible()
    page.get_by_role("button", name="Run the sweep").click()
    # The cells run in the background; when the last has finished the verdict and the tables show.
    # (Markdown draws "<=" as "≤".)
    page.get_by_text("Smallest cells meeting time_at_gate_p95 ≤ 100000 with 95 % confidence: cell 1 (entry_lanes=1)."
                     ).first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    expect(page.get_by_role("heading", name="Each cell's KPIs")).to_be_visible()
    assert page.locator('[data-testid="stImage"]').count() >= 1, "no chart of the sweep"
    _no_error_box(page, "sizing")


def _choose(page: Page, combobox: Locator, option: str) -> None:
    """Pick ``option`` in a Streamlit selectbox and wait for the rerun it starts."""
    combobox.click()
    page.get_by_role("option", name=option, exact=True).click()
    _settled(page)


def _open_folder(page: Page, dashboard_url: str, folder_path: Path) -> None:
    """On the "Run or open" page, open the results folder ``folder_path``."""
    _open(page, f"{dashboard_url}/run", "Open results")
    page.get_by_role("tab", name="Open saved results").click()
    folder = page.get_by_role("textbox", name="Results folder")
    folder.fill(str(folder_path))
    folder.press("Enter")
    _settled(page)
    page.get_by_role("button", name="Open folder").click()


def test_the_replication_picker_shows_the_run_chosen_in_the_sidebar(page: Page, dashboard_url: str,
                                                                    other_seed_folder: Path) -> None:
    from playwright.sync_api import expect

    _open_folder(page, dashboard_url, other_seed_folder)
    sidebar = page.locator('[data-testid="stSidebar"]')
    runs = sidebar.get_by_role("combobox", name="Results shown")
    other = f"huu_nghi_smart_gate · seed {OTHER_SEED} · 3 rep · 1 h"
    expect(runs).to_have_value(other, timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    baseline = "huu_nghi_smart_gate · seed 870 · 2 rep · 5 h"
    _choose(page, runs, baseline)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Bottlenecks").click()
    page.get_by_text("Where the queue forms first").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    replication = page.get_by_role("combobox", name="Replication")
    expect(replication).to_have_value("replication 0 (seed 870)")
    _choose(page, replication, "replication 1 (seed 870)")
    expect(page.get_by_text("Hour by hour (replication 1, seed 870)")).to_be_visible()
    _choose(page, runs, other)
    # The picker offers the other run's replications now and shows one of them, the one the page
    # draws, not the label chosen for the baseline; a run newly shown starts at its first.
    page.get_by_text(f"seed {OTHER_SEED})").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    expect(replication).to_have_value(re.compile(rf"replication \d \(seed {OTHER_SEED}\)"))
    shown = replication.input_value().removeprefix("replication ").split(" ")[0]
    expect(page.get_by_text(f"Hour by hour (replication {shown}, seed {OTHER_SEED})")).to_be_visible()
    assert shown == "0"
    replication.click()
    expect(page.get_by_role("option")).to_have_text([f"replication {r} (seed {OTHER_SEED})" for r in range(3)])
    page.keyboard.press("Escape")
    _no_error_box(page, "bottlenecks after changing the run shown")


def test_three_runs_compared_keep_their_headings_whole(page: Page, dashboard_url: str, other_seed_folder: Path) -> None:
    from playwright.sync_api import expect

    _open_folder(page, dashboard_url, other_seed_folder)
    expect(page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Results shown")).to_have_value(
        f"huu_nghi_smart_gate · seed {OTHER_SEED} · 3 rep · 1 h", timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Compare layouts").click()
    page.get_by_text("Change of each KPI against the baseline").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    _no_error_box(page, "compare with three runs")
    metrics = page.locator('[data-testid="stMetric"]')
    assert metrics.count() == 3
    for metric in metrics.all():  # the wins of each run: heading and value whole, not cut with an ellipsis
        cut = metric.evaluate("m => Array.from(m.querySelectorAll('*'))"
                              ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
        assert not cut, f"cut off: {cut}"


def test_a_recovery_folder_opened_from_the_browser_shows_its_recovery_on_the_compare_page(
        page: Page, dashboard_url: str, saved_folders: dict[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    folder = write_recovery_folder(saved_folders["baseline"], saved_folders["outage"], tmp_path / "recovery")
    _open_folder(page, dashboard_url, folder)
    page.get_by_text("holds the recovery from the disruptions").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Compare layouts").click()
    page.get_by_text("Change of each KPI against the baseline").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    _no_error_box(page, "compare with a recovery folder")
    expect(page.get_by_role("heading", name="Recovery from the disruptions")).to_be_visible()
    expect(page.get_by_text("Trucks behind at a time").first).to_be_visible()
    expect(page.get_by_text(re.compile(r"replications? caught up by the end of the run")).first).to_be_visible()
    assert page.locator('[data-testid="stImage"]').count() == 2  # the trucks behind, the change of each KPI


def test_the_recovery_of_a_run_opened_from_the_browser_is_measured_from_its_overview(
        page: Page, dashboard_url: str, screenshots: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    _open_folder(page, dashboard_url, write_outage_run(tmp_path / "scanner_outage"))
    page.get_by_text("Opened scanner_outage").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
    button = page.get_by_role("button", name="Measure the recovery from its disruptions")
    button.wait_for(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    button.click()
    # The run without the outage goes to the background; finished, its recovery shows on the Overview.
    expect(page.get_by_text("Trucks behind at a time").first).to_be_visible(timeout=DRAW_TIMEOUT_MS)
    _settled(page)
    _no_error_box(page, "overview after measuring the recovery")
    expect(page.get_by_text(re.compile(r"replications? caught up by the end of the run")).first).to_be_visible()
    expect(page.get_by_role("button", name="Compare the two runs")).to_be_visible()
    expect(button).to_have_count(0)
    page.get_by_role("button", name="Compare the two runs").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "overview-recovery.png"))

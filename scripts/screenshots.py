"""Refresh the README's dashboard screenshots, docs/img/dashboard-*.png, from full-day runs.

What it does:

1. Runs three library scenarios for their full 24 simulated hours, 3 replications each, into
   ``out/readme/<scenario>`` (``gatetwin run SCENARIO --reps 3 --out out/readme/SCENARIO``):
   ``huu_nghi_2025`` (the baseline), ``scanner_outage`` (the same trucks with the scanner down
   09:00-13:00) and ``channelling_on`` (1,420 trucks a day, with the Mesa agents on the approach
   road, so the agents' panels show). Each takes about ten seconds. ``--reuse`` skips a run whose
   folder already holds a ``summary.json``.
2. Serves the dashboard on a free loopback port with those three folders open, using the same
   command line as ``gatetwin dashboard FOLDER... --port P --headless``
   (``twin.cli.dashboard_invocation``), so that the PID held here is Streamlit's own, and waits
   for ``/_stcore/health``.
3. Drives Debian's headless Chromium (``/usr/bin/chromium``) with Python's playwright at a
   1440 x 1000 viewport and saves one picture per page, checking first that the page shows no
   Streamlit exception or error box:

   - overview     huu_nghi_2025, whole page;
   - replay       channelling_on with the clock moved to ``--replay-at`` (16:00: the afternoon
                  peak, about 300 trucks on the road or inside), whole page;
   - compare      huu_nghi_2025 (baseline) against scanner_outage, whole page;
   - bottlenecks  channelling_on, whole page (the agents' series are at its foot);
   - agencies     scanner_outage (so "What the outages did" has the outage), whole page;
   - run          the "Run or open" page, as the viewport shows it;
   - sizing       "Size the gate" with the README's sizing of huu_nghi_2025 (1-3 lanes each way x
                  4-12 customs officers, 3 replications, P95 <= 180 min and >= 800 trucks a day),
                  run from the form (27 replications of a day: a minute or two), whole page.

4. Stops the server by its PID.

How to run it (from the repository root; it needs the dev extras and Chromium, as the browser
tests do; it is not part of the test suite)::

    .venv/bin/python scripts/screenshots.py                 # writes docs/img/dashboard-*.png
    .venv/bin/python scripts/screenshots.py --reuse         # keep runs already in out/readme
    .venv/bin/python scripts/screenshots.py --images /tmp/shots --replay-at 09:00

The pictures are as deterministic as the runs (same scenario and seed, same numbers); the
pixels may still differ a little between Chromium and font versions.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.serving import free_port, stop_server, wait_healthy  # noqa: E402
from twin.cli import dashboard_invocation  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1440, "height": 1000}
#: Tallest whole-page picture, in pixels (longer pages are cut here).
MAX_HEIGHT = 6000
START_TIMEOUT_S = 60.0
DRAW_TIMEOUT_MS = 60_000
REPLICATIONS = 3
BASELINE, OUTAGE, AGENTS = "huu_nghi_2025", "scanner_outage", "channelling_on"
SCENARIOS = (BASELINE, OUTAGE, AGENTS)
#: Page file name: URL path, a text the page shows once drawn, the scenario it shows, whole page.
PAGES = {
    "overview": ("", "Trucks cleared per day", BASELINE, True),
    "replay": ("replay", "Trucks at each place over the run", AGENTS, True),
    "compare": ("compare", "Runs to compare", BASELINE, True),
    "bottlenecks": ("bottlenecks", "Where the queue forms first", AGENTS, True),
    "agencies": ("agencies", "What the outages did", OUTAGE, True),
    "run": ("run", "Open results", BASELINE, False),
}


def log(message: str) -> None:
    print(f"screenshots: {message}", file=sys.stderr, flush=True)


def run_scenarios(results: Path, reuse: bool) -> dict[str, Path]:
    """Each scenario's results folder, run with ``gatetwin run`` unless reused."""
    gatetwin = Path(sys.executable).with_name("gatetwin")
    folders = {}
    for name in SCENARIOS:
        folder = results / name
        folders[name] = folder
        if reuse and (folder / "summary.json").is_file():
            log(f"reusing {folder}")
            continue
        log(f"running {name} ({REPLICATIONS} replications) into {folder}")
        subprocess.run([str(gatetwin), "run", name, "--reps", str(REPLICATIONS), "--out", str(folder), "--quiet"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return folders


def content_height(page: Page) -> int:
    """Height of the main column's content (Streamlit scrolls inside it, not the document)."""
    return int(page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        const block = document.querySelector('[data-testid="stMainBlockContainer"]');
        return Math.max(main ? main.scrollHeight : 0, block ? block.scrollHeight : 0);
    }"""))


def settled(page: Page) -> None:
    """Wait until Streamlit has finished its script, nothing is stale, and the page stops growing."""
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=DRAW_TIMEOUT_MS)
    page.wait_for_load_state("networkidle")
    deadline = time.monotonic() + DRAW_TIMEOUT_MS / 1000
    heights: list[int] = []
    while time.monotonic() < deadline:
        stale = page.locator('[data-stale="true"]').count()
        heights.append(content_height(page))
        if not stale and len(heights) >= 3 and len(set(heights[-3:])) == 1:
            return
        page.wait_for_timeout(500)
    raise RuntimeError("the page did not settle")


def check_no_error(page: Page, where: str) -> None:
    for selector, what in (('[data-testid="stException"]', "an exception"), ('[data-testid="stAlertContentError"]', "an error")):
        boxes = page.locator(selector)
        if boxes.count():
            raise RuntimeError(f"{where}: the page shows {what}: {boxes.first.inner_text()[:500]}")


def show_run(page: Page, scenario: str) -> None:
    """Choose the run of ``scenario`` in the sidebar's "Results shown"."""
    picker = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Results shown")
    if (picker.input_value() or "").startswith(f"{scenario} "):
        return
    picker.click()
    page.get_by_role("option").filter(has_text=f"{scenario} ·").first.click()
    settled(page)
    value = picker.input_value() or ""
    if not value.startswith(f"{scenario} "):
        raise RuntimeError(f"could not show {scenario} (the sidebar shows {value!r})")
    # The page's "Replication" box can keep the label it had for the run shown before (its
    # options are the new run's); choosing replication 0 again makes it name the run's seed.
    replication = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="Replication")
    if replication.count():
        replication.first.scroll_into_view_if_needed()
        replication.first.click()
        page.get_by_role("option").first.click()
        settled(page)
        page.locator('[data-testid="stMain"]').evaluate("main => main.scrollTo(0, 0)")
    blur(page)


def blur(page: Page) -> None:
    """Take the focus off the last widget used (its focus ring would show in the picture)."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.mouse.move(0, 0)
    page.wait_for_timeout(200)


def move_replay_clock(page: Page, clock: str) -> None:
    """Move the replay's time slider to ``clock`` (HH:MM of day 1, on its 15-minute grid) with the arrow keys."""
    target = f"day 1, {clock}"
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    for _ in range(200):
        now = slider.get_attribute("aria-valuetext") or ""
        if now == target:
            break
        slider.focus()
        page.keyboard.press("ArrowRight" if now < target else "ArrowLeft")
        page.wait_for_timeout(40)
    else:
        raise RuntimeError(f"the replay slider did not reach {target} (it shows {slider.get_attribute('aria-valuetext')})")
    page.get_by_text(f"inside the gate at {target}.").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    settled(page)
    blur(page)


def compare_two(page: Page, keep: tuple[str, str]) -> None:
    """Leave only the runs of ``keep`` (baseline first) in "Runs to compare"."""
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Runs to compare")
    tags = box.locator('.react-aria-ComboBox [data-tag]')

    def chosen() -> list[str]:
        return [tags.nth(i).get_attribute("aria-label") or "" for i in range(tags.count())]

    for _ in range(10):
        extra = [label for label in chosen() if not label.startswith(tuple(f"{name} " for name in keep))]
        if not extra:
            break
        box.get_by_role("button", name=f"Remove {extra[0]}", exact=True).click()
        settled(page)
    blur(page)
    names = chosen()
    if len(names) != 2 or not names[0].startswith(f"{keep[0]} ") or not names[1].startswith(f"{keep[1]} "):
        raise RuntimeError(f"'Runs to compare' holds {names}, not {keep}")


#: The README's sizing, as the "Size the gate" form takes it.
SIZING_VARY = "layout.entry_lanes=[1, 2, 3]\nagencies.customs.officers=[4, 8, 12]"
SIZING_TARGETS = "time_at_gate_p95<=180\nthroughput_per_day>=800"
SIZING_TIMEOUT_MS = 900_000


def size_gate(page: Page, url: str) -> None:
    """Run the README's sizing from the "Size the gate" form and wait for its verdict."""
    page.goto(f"{url}/sizing")
    page.get_by_text("Fields to vary, with the values to try").first.wait_for(timeout=DRAW_TIMEOUT_MS)
    settled(page)
    scenario = page.locator('[data-testid="stMain"]').get_by_role("combobox", name="Scenario")
    if (scenario.input_value() or "") != BASELINE:
        scenario.click()
        page.get_by_role("option", name=BASELINE, exact=True).click()
        settled(page)
    for label, value in (("Fields to vary, with the values to try", SIZING_VARY),
                         ("Service targets (optional)", SIZING_TARGETS)):
        area = page.get_by_role("textbox", name=label)
        area.fill(value)
        area.press("Control+Enter")
        settled(page)
    reps = page.get_by_role("spinbutton", name="Replications per cell")
    reps.fill(str(REPLICATIONS))
    reps.press("Enter")
    settled(page)
    page.get_by_role("button", name="Run the sweep").click()
    page.get_by_role("heading", name="Each cell's KPIs").wait_for(timeout=SIZING_TIMEOUT_MS)
    settled(page)
    page.locator('[data-testid="stMain"]').evaluate("main => main.scrollTo(0, 0)")
    blur(page)


def photograph(page: Page, path: Path, whole: bool) -> None:
    """Save the page; ``whole``: the main column's full height (Streamlit scrolls inside it, so the
    viewport is made as tall as the content for the picture)."""
    if whole:
        height = content_height(page)
        tall: ViewportSize = {"width": VIEWPORT["width"], "height": min(MAX_HEIGHT, max(VIEWPORT["height"], height))}
        page.set_viewport_size(tall)
        page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    log(f"wrote {path}")


def take(url: str, images: Path, replay_at: str) -> None:
    from playwright.sync_api import sync_playwright

    images.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            for name, (path, marker, scenario, whole) in PAGES.items():
                page.goto(f"{url}/{path}")
                page.get_by_text(marker).first.wait_for(timeout=DRAW_TIMEOUT_MS)
                settled(page)
                show_run(page, scenario)
                if name == "replay":
                    move_replay_clock(page, replay_at)
                if name == "compare":
                    compare_two(page, (BASELINE, OUTAGE))
                page.get_by_text(marker).first.wait_for(timeout=DRAW_TIMEOUT_MS)
                check_no_error(page, name)
                photograph(page, images / f"dashboard-{name}.png", whole)
            size_gate(page, url)
            check_no_error(page, "sizing")
            photograph(page, images / "dashboard-sizing.png", True)
            context.close()
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "out" / "readme", help="Folder for the runs (default: out/readme).")
    parser.add_argument("--images", type=Path, default=ROOT / "docs" / "img", help="Folder for the PNGs (default: docs/img).")
    parser.add_argument("--reuse", action="store_true", help="Keep a run whose folder already holds a summary.json.")
    parser.add_argument("--replay-at", default="16:00", help="Replay clock, HH:MM on the 15-minute grid (default: 16:00).")
    args = parser.parse_args(argv)
    if not CHROMIUM.is_file():
        log(f"{CHROMIUM} is missing; install Debian's chromium")
        return 2
    folders = run_scenarios(args.results.resolve(), args.reuse)
    port = free_port()
    command, environment = dashboard_invocation([folders[name] for name in SCENARIOS], port, "127.0.0.1", True,
                                                args.results.resolve() / "dashboard-runs")
    environment["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] = "none"
    environment["STREAMLIT_CLIENT_TOOLBAR_MODE"] = "viewer"
    server_log = args.results.resolve() / "streamlit.log"
    with server_log.open("wb") as output:
        server = subprocess.Popen(command, env=environment, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    log(f"dashboard PID {server.pid} on {url} (log: {server_log})")
    try:
        wait_healthy(url, server, server_log, START_TIMEOUT_S)
        take(url, args.images, args.replay_at)
    finally:
        stop_server(server)
        log(f"stopped PID {server.pid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

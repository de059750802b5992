"""Every dashboard page, driven through Streamlit's AppTest on small saved runs."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Selectbox

from dashboard.analysis import AGENT_HEADLINES, HEADLINES, format_number, headlines
from dashboard.replay import clock_label, passage_end
from scenarios import with_overrides
from tests.unit.dashboard.support import APP, OTHER_SEED, busy_smart_gate, with_scanner_outage
from scenarios.schema import Scenario
from twin.probes import YARD_OCCUPANCY
from twin.results import RunResult
from twin.run import RunOptions

PAGES = ["views/overview.py", "views/replay.py", "views/compare.py", "views/sizing.py", "views/bottlenecks.py",
         "views/agencies.py", "views/run.py"]
OpenApp = Callable[..., AppTest]


@pytest.fixture(autouse=True)
def no_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs started from the dashboard skip the PNG plots of their results folder (unused here, slow)."""
    monkeypatch.setattr("twin.results.write_plots", lambda run, out_dir: [])


def go(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def table_with(app: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page that has ``column``."""
    [frame] = [table.value for table in app.dataframe if column in table.value.columns]
    return frame


def replication_picker(app: AppTest) -> Selectbox:
    """The page's one "Replication" selectbox."""
    [picker] = [box for box in app.selectbox if box.label == "Replication"]
    return picker


def wait_for_runs(app: AppTest, timeout: float = 60.0) -> None:
    """Rerun the page, as the browser's polling does, until no run is pending."""
    deadline = time.monotonic() + timeout
    while app.session_state["gatetwin.pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
        app.run()
    assert not app.session_state["gatetwin.pending"], "runs still pending"
    assert not app.exception, [e.value for e in app.exception]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_with_nothing_loaded(page: str) -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, page)
    if page not in ("views/run.py", "views/sizing.py"):  # pages of forms: they need no results
        assert any("No results are open yet" in info.value for info in app.info) or page == "views/compare.py"
    assert app.title[0].value


def test_the_overview_shows_every_headline_kpi_with_its_interval(open_app: OpenApp, saved_runs: dict[str, Path],
                                                                  baseline_run: RunResult) -> None:
    app = open_app(saved_runs["baseline"])
    assert [metric.label for metric in app.metric] == [label for _, label in HEADLINES]
    expected = headlines(baseline_run.summary)
    assert [metric.value for metric in app.metric] == [item.value_text for item in expected]
    captions = [caption.value for caption in app.caption]
    for item in expected:
        # The run simulated 5 h: trucks cleared per day are scaled up from them, and say so.
        scaled = "; scaled to a day from 5 h" if item.kpi == "throughput_per_day" else ""
        assert item.interval_text + scaled in captions
    [metric] = [metric for metric in app.metric if metric.label == "Trucks cleared per day"]
    assert "Scaled to a day from 5 h." in metric.proto.help
    assert any("95 % CI ±" in text for text in captions)
    assert len(app.image) == 2  # truck times, levels over time
    # The caption of the levels names every panel drawn and says they are of replication 0.
    assert ("Over the run, one panel each: yard occupancy (trucks); trucks queued on the approach road (trucks); "
            "length of the queue on the approach road (km); trucks held in the staging areas (trucks). "
            "Replication 0 (seed 870) of 2; the others differ.") in captions
    assert app.sidebar.selectbox(key="gatetwin.shown_widget").value.startswith("huu_nghi_smart_gate")


def test_intervals_over_two_replications_come_with_a_warning_stop_at_zero_and_say_when_replications_agree(
        open_app: OpenApp, saved_runs: dict[str, Path], baseline_run: RunResult) -> None:
    kpis = baseline_run.summary["kpis"]
    app = open_app(saved_runs["baseline"])
    few = "The 95 % intervals rest on 2 replications, too few to plan on (3 or more are needed)"
    assert any(warning.value.startswith(few) for warning in app.warning)
    captions = [caption.value for caption in app.caption]
    # 3 ± 38.1 re-declarations would reach -35: the interval stops at 0, the mean stays 3.
    redeclarations = kpis["redeclarations"]
    assert redeclarations["mean"] - redeclarations["half_width"] < 0 < redeclarations["mean"]
    assert (f"95 % CI 0 to {format_number(redeclarations['high'])} (2 replications, too few to plan on)"
            in captions)
    every_kpi = table_with(app, "95 % CI").set_index("KPI")
    assert kpis["plates_typed"]["per_replication"] == [28.0, 28.0]
    assert every_kpi.loc["plates_typed", "95 % CI"] == "same in all 2 replications"
    assert not every_kpi["95 % CI"].str.contains(r"^-|to -|± 0$").any()
    go(app, "views/bottlenecks.py")
    assert any(warning.value.startswith(few) for warning in app.warning)
    go(app, "views/agencies.py")
    [delivered] = [metric for metric in app.metric if metric.label == "Containers delivered per day"]
    assert "same in all 2 replications" in delivered.proto.help


def test_intervals_over_three_replications_come_without_a_warning(open_app: OpenApp, other_seed_folder: Path) -> None:
    app = open_app(other_seed_folder)
    assert not any("too few" in warning.value for warning in app.warning)
    assert not any("too few" in caption.value for caption in app.caption)


def test_the_replay_counts_follow_the_time_slider(open_app: OpenApp, saved_runs: dict[str, Path],
                                                  baseline_run: RunResult) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/replay.py")
    replication = replication_picker(app).value
    trucks = baseline_run.replications[replication].trucks
    yard = baseline_run.replications[replication].series[YARD_OCCUPANCY]
    slider = app.select_slider(key="replay.minute")
    assert slider.options[0] == "day 1, 00:00" and slider.options[-1] == "day 1, 05:00"
    shown: dict[int, list[int]] = {}
    images: set[str] = set()
    for minute in (60, 195):
        app.select_slider(key="replay.minute").set_value(minute).run()
        counts = table_with(app, "trucks now").set_index("place")["trucks now"]
        shown[minute] = counts.tolist()
        images.add(app.image[0].proto.imgs[0].url)
        time_s = minute * 60.0
        # Checked against quantities the twin recorded by other means: trucks that arrived and
        # had not finished, and the yard occupancy probe (the yard plus its inspection bays).
        arrived = (trucks["arrival"].to_numpy() <= time_s) & (passage_end(trucks) > time_s)
        assert counts.sum() == int(arrived.sum())
        index = int(np.searchsorted(yard["time"], time_s, side="right")) - 1
        assert counts["Yard"] + counts["Inspection bays"] == yard["value"][index]
    assert shown[60] != shown[195]
    assert len(images) == 2


def test_play_moves_the_replay_forward_one_step_at_a_time(open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/replay.py")
    app.selectbox(key="replay.step").set_value("1 hour").run()
    app.select_slider(key="replay.minute").set_value(180).run()
    app.button(key="replay.play").click().run()
    assert app.session_state["replay.playing"]
    assert app.select_slider(key="replay.minute").value == 240
    assert app.button(key="replay.play").label == "Pause"
    app.run()  # one tick
    assert app.select_slider(key="replay.minute").value == 300
    app.run()  # the end of the run: playing stops there
    assert app.select_slider(key="replay.minute").value == 300
    assert not app.session_state["replay.playing"]
    assert app.button(key="replay.play").label == "Play"  # the button outside the fragment is drawn again


def test_play_at_the_end_of_the_run_starts_again_from_the_beginning(open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/replay.py")
    app.selectbox(key="replay.step").set_value("1 hour").run()
    app.select_slider(key="replay.minute").set_value(300).run()
    app.button(key="replay.play").click().run()
    assert app.session_state["replay.playing"]
    assert app.button(key="replay.play").label == "Pause"
    assert app.select_slider(key="replay.minute").value == 0
    app.run()  # one tick
    assert app.select_slider(key="replay.minute").value == 60
    assert app.session_state["replay.playing"]


def test_the_replay_peaks_are_the_most_trucks_at_any_moment_and_the_yard_says_what_it_leaves_out(
        open_app: OpenApp, saved_runs: dict[str, Path], baseline_run: RunResult) -> None:
    from dashboard.replay import PLACE_LABELS, PLACES, stays

    app = go(open_app(saved_runs["baseline"]), "views/replay.py")
    rep = baseline_run.replications[replication_picker(app).value]
    shown = table_with(app, "most in the run").set_index("place")["most in the run"]
    exact = stays(rep.trucks).peaks()
    assert shown.to_dict() == {PLACE_LABELS[place]: exact[place] for place in PLACES}
    assert "Driving on the approach road" in shown.index
    yard_max = rep.kpis["yard_occupancy_max"]
    if yard_max != exact["yard"]:
        assert any(f"also counts those in its inspection bays" in c.value and f"({yard_max:.0f} in this replication)"
                   in c.value for c in app.caption)


def test_compare_shows_each_run_the_differences_and_the_best(open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"], saved_runs["outage"]), "views/compare.py")
    selected = app.multiselect(key="compare.runs").value
    assert len(selected) == 2
    table = table_with(app, "KPI")
    assert list(table.columns) == ["KPI", f"{selected[1]} − baseline", "best", selected[0], selected[1], "unit", "better"]
    assert "throughput_per_day" in table["KPI"].tolist()
    assert not any(name.endswith("_utilisation") for name in table["KPI"])
    assert table[selected[0]].str.contains("±").any()
    assert [metric.label for metric in app.metric] == ["A (baseline): clearly best on", "B: clearly best on"]
    # The table names the runs by letter (A, the baseline; B), as its caption says.
    assert any(caption.value == f"**A**: {selected[0]} · **B**: {selected[1]}" for caption in app.caption)
    winners = table.loc[table["best"] != "-", "best"]
    assert set(winners.str.removesuffix(" (clear)")) <= {"A", "B", "tie"}
    clear = winners[winners.str.endswith(" (clear)")].str.removesuffix(" (clear)").value_counts()
    assert [metric.value for metric in app.metric] == [f"{clear.get(letter, 0)} KPI(s)" for letter in ("A", "B")]
    assert [caption.value.split(" · best mean on ")[0] for caption in app.caption
            if " · best mean on " in caption.value] == selected
    assert len(app.image) == 1
    every_kpi = len(table)
    app.toggle(key="compare.stations").set_value(True).run()
    assert len(table_with(app, "KPI")) > every_kpi
    app.toggle(key="compare.significant").set_value(True).run()
    if app.dataframe:
        clear = table_with(app, "KPI")[f"{selected[1]} − baseline"]
        assert clear.str.contains("better|worse|equal|different").all()
        assert len(clear) < every_kpi
    else:
        assert any("No KPI left" in info.value for info in app.info)


def test_swapping_the_baseline_flips_the_sign_of_the_differences(open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"], saved_runs["outage"]), "views/compare.py")
    first, second = app.multiselect(key="compare.runs").value
    before = table_with(app, "KPI").set_index("KPI")[f"{second} − baseline"]["time_at_gate_mean"]
    app.multiselect(key="compare.runs").set_value([second, first]).run()
    after = table_with(app, "KPI").set_index("KPI")[f"{first} − baseline"]["time_at_gate_mean"]
    assert before.split(" ")[0].lstrip("-") == after.split(" ")[0].lstrip("-")
    assert before.startswith("-") != after.startswith("-") or before.startswith("0")


def test_bottlenecks_name_where_the_queue_forms_first(open_app: OpenApp, saved_runs: dict[str, Path],
                                                      baseline_run: RunResult) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/bottlenecks.py")
    assert app.slider(key="bottlenecks.threshold").value == 5
    assert len(app.image) == 5  # three heat maps, the hourly flow, the queues
    waits = table_with(app, "where")
    assert set(waits.loc[waits["kind"] == "station", "where"]) == set(baseline_run.replications[0].stations)
    app.slider(key="bottlenecks.threshold").set_value(1).run()
    replication = replication_picker(app).value
    series = baseline_run.replications[replication].series
    # The earliest moment any waiting line (a station's queue, trucks held at staging, the
    # approach road) held a truck, found by scanning the series directly.
    firsts = {}
    for name, arrays in series.items():
        level = arrays["queue"] if "queue" in arrays else arrays["value"]
        if name not in (YARD_OCCUPANCY, "road_queue_km") and (level >= 1).any():
            firsts[name] = arrays["time"][np.argmax(level >= 1)]
    onsets = table_with(app, "first reached")
    assert onsets["first reached"].iloc[0] == clock_label(min(firsts.values()))
    assert app.success[0].value.startswith(f"With 1 or more trucks, the queue forms first at **{onsets['queue'].iloc[0]}**")
    app.slider(key="bottlenecks.threshold").set_value(50).run()
    assert any("No queue reached 50 trucks" in info.value for info in app.info)


def test_agencies_page_shows_workload_devices_and_the_agv_lane(open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["outage"]), "views/agencies.py")
    agencies = table_with(app, "agency")
    assert "customs" in agencies["agency"].tolist()
    devices = table_with(app, "faults")  # the device table (the outage table names devices too)
    assert "scanner-1" in devices["device"].tolist()
    assert devices.iloc[0]["device"] == "scanner-1" and devices.iloc[0]["hours down"] == pytest.approx(1.5)
    labels = [metric.label for metric in app.metric]
    assert labels[0] == "Containers delivered per day"
    assert {"Truck trips off the road per day", "Wait for a place on the stack"} <= set(labels)
    assert len(app.image) >= 2  # agency workload, device downtime


def test_opening_a_folder_that_is_not_results_says_which_and_why(tmp_path: Path) -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.text_input(key="run.folder").set_value(str(tmp_path)).run()
    app.button(key="run.open_folder").click().run()
    assert [error.value for error in app.error] == [
        f"{tmp_path}: not a gatetwin results folder (no summary.json); write one with 'gatetwin run --out'"]


def test_opening_a_saved_folder_shows_it_on_every_page(saved_runs: dict[str, Path]) -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.text_input(key="run.folder").set_value(str(saved_runs["outage"])).run()
    app.button(key="run.open_folder").click().run()
    assert not app.exception
    assert [s.value for s in app.success][0].startswith("Opened huu_nghi_smart_gate")
    go(app, "views/overview.py")
    assert len(app.metric) == len(HEADLINES)


def start_problems(app: AppTest) -> list[str]:
    """The sidebar's notices of results named at start that did not open."""
    return [error.value for error in app.sidebar.error if error.value.startswith("Not opened at start: ")]


@pytest.mark.parametrize("what", ["missing", "foreign"])
def test_results_named_at_start_that_cannot_be_read_are_reported_on_every_page_until_dismissed(
        open_app: OpenApp, tmp_path: Path, saved_runs: dict[str, Path], what: str) -> None:
    folder = tmp_path / what
    if what == "foreign":
        folder.mkdir()
        (folder / "notes.txt").write_text("not results\n", encoding="utf-8")
    app = open_app(folder, saved_runs["baseline"])
    problem = ("no such folder" if what == "missing" else
               "not a gatetwin results folder (no summary.json); write one with 'gatetwin run --out'")
    expected = [f"Not opened at start: {folder}: {problem}"]
    assert [error.value for error in app.error] == expected
    assert len(app.metric) == len(HEADLINES)
    for page in [*PAGES, PAGES[0]]:
        go(app, page)
        assert start_problems(app) == expected, page
    app.sidebar.button(key="gatetwin.dismiss_start_problems").click().run()
    for page in PAGES:
        go(app, page)
        assert start_problems(app) == [], page
        assert not app.error, page


def test_the_report_of_results_named_at_start_goes_once_the_user_picks_other_results(
        open_app: OpenApp, tmp_path: Path, saved_runs: dict[str, Path]) -> None:
    app = open_app(tmp_path / "missing", saved_runs["baseline"], saved_runs["outage"])
    go(app, "views/bottlenecks.py")
    assert start_problems(app) == [f"Not opened at start: {tmp_path / 'missing'}: no such folder"]
    picker = app.sidebar.selectbox(key="gatetwin.shown_widget")
    picker.set_value(picker.options[1]).run()
    assert start_problems(app) == []
    go(app, "views/overview.py")
    assert start_problems(app) == []


def test_the_report_of_results_named_at_start_goes_once_the_user_opens_other_results(
        open_app: OpenApp, tmp_path: Path, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(tmp_path / "missing"), "views/run.py")
    assert start_problems(app) == [f"Not opened at start: {tmp_path / 'missing'}: no such folder"]
    app.text_input(key="run.folder").set_value(str(saved_runs["outage"])).run()
    app.button(key="run.open_folder").click().run()
    go(app, "views/overview.py")
    assert start_problems(app) == []
    assert len(app.metric) == len(HEADLINES)


def test_a_library_scenario_runs_in_the_background_and_opens_when_done() -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.selectbox(key="run.library").set_value("huu_nghi_smart_gate").run()
    app.number_input(key="run.library.huu_nghi_smart_gate.hours").set_value(1.0).run()
    app.number_input(key="run.library.huu_nghi_smart_gate.seed").set_value(11).run()
    app.button(key="run.library.huu_nghi_smart_gate.run").click().run()
    assert any(info.value.startswith("Started huu_nghi_smart_gate") for info in app.info)
    assert app.session_state["gatetwin.pending"]
    wait_for_runs(app)
    shown = app.sidebar.selectbox(key="gatetwin.shown_widget").value
    assert shown == "huu_nghi_smart_gate · seed 11 · 1 rep · 1 h"
    go(app, "views/overview.py")
    assert app.metric[0].label == "Trucks cleared per day"
    assert app.sidebar.selectbox(key="gatetwin.shown_widget").value == shown
    assert "seed 11 · 1 replication(s) · 1 simulated hours" in app.caption[0].value


def test_a_library_scenario_runs_with_changes_as_a_variant_named_after_them() -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.selectbox(key="run.library").set_value("huu_nghi_smart_gate").run()
    app.number_input(key="run.library.huu_nghi_smart_gate.hours").set_value(1.0).run()
    app.text_area(key="run.library.huu_nghi_smart_gate.changes").input("layout.entry_lanes\nlayout.scales=[1").run()
    app.button(key="run.library.huu_nghi_smart_gate.run").click().run()
    assert [error.value for error in app.error] == [
        "huu_nghi_smart_gate (changes): layout.entry_lanes: give KEY=VALUE, e.g. layout.entry_lanes=3",
        "huu_nghi_smart_gate (changes): layout.scales: YAML syntax error: while parsing a flow sequence: did not "
        "find expected ',' or ']' (in '[1')",
    ]
    assert not any(info.value.startswith("Started") for info in app.info)  # nothing runs
    app.text_area(key="run.library.huu_nghi_smart_gate.changes").input(
        "# a third lane each way\nlayout.entry_lanes=3\n\nlayout.exit_lanes=3").run()
    app.button(key="run.library.huu_nghi_smart_gate.run").click().run()
    assert any(info.value.startswith("Started huu_nghi_smart_gate-entry_lanes-3-exit_lanes-3-") for info in app.info)
    wait_for_runs(app)
    shown = app.sidebar.selectbox(key="gatetwin.shown_widget").value
    assert re.fullmatch(r"huu_nghi_smart_gate-entry_lanes-3-exit_lanes-3-[0-9a-f]{6} · seed 870 · 1 rep · 1 h", shown)


def test_an_uploaded_file_with_mistakes_gets_one_line_per_problem() -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    broken = b"name: my_gate\ndescription: test\nsite: Huu Nghi\nlayout: {entry_lanes: -1, exit_lanes: 1}\n"
    app.file_uploader(key="run.upload").set_value(("my_gate.yaml", broken, "application/x-yaml")).run()
    errors = [error.value for error in app.error]
    assert errors[0].startswith("my_gate.yaml is not a valid scenario")
    assert "my_gate.yaml: layout.entry_lanes: must be >= 1 (got -1)" in errors
    assert "my_gate.yaml: demand: required field is missing" in errors
    assert all("\n" not in line for line in errors)
    not_text = b"\xff\xfe\x00bad"
    app.file_uploader(key="run.upload").set_value(("binary.yaml", not_text, "application/x-yaml")).run()
    assert any("binary.yaml: cannot read the file: not UTF-8 text" in error.value for error in app.error)


def test_an_uploaded_scenario_with_an_outage_shows_what_the_outage_did() -> None:
    scenario = with_scanner_outage(busy_smart_gate(hours=3.0, replications=1), start="02:00", hours=0.5)
    text = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False).encode("utf-8")
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.file_uploader(key="run.upload").set_value(("outage.yaml", text, "application/x-yaml")).run()
    assert [s.value for s in app.success] == [f"outage.yaml: a valid scenario, '{scenario.name}'."]
    app.button(key=f"run.upload.{scenario.name}.run").click().run()
    wait_for_runs(app)
    go(app, "views/agencies.py")
    outages = table_with(app, "backlog cleared after (h)")
    assert outages["device"].tolist() == ["scanner-1"]
    assert outages["cause"].tolist() == ["planned outage"]
    assert outages["down from"].tolist() == ["day 1, 02:00"]
    assert outages["hours down"].tolist() == [0.5]


def test_every_page_draws_a_run_whose_people_were_mesa_agents(open_app: OpenApp, agents_run_folder: Path) -> None:
    app = open_app(agents_run_folder)
    for page in PAGES:
        go(app, page)
        assert not app.error, [error.value for error in app.error]


def test_the_overview_shows_the_agents_kpis_with_their_intervals(open_app: OpenApp, agents_run_folder: Path,
                                                                 agents_run: RunResult) -> None:
    app = open_app(agents_run_folder)
    labels = [metric.label for metric in app.metric]
    assert labels == [label for _, label in HEADLINES] + [label for _, label in AGENT_HEADLINES]
    expected = headlines(agents_run.summary, AGENT_HEADLINES)
    assert [metric.value for metric in app.metric][len(HEADLINES):] == [item.value_text for item in expected]
    road_wait = agents_run.summary["kpis"]["road_wait_mean_min"]
    assert expected[2].mean == road_wait["mean"] and road_wait["n"] == 2
    captions = [caption.value for caption in app.caption]
    assert all(item.interval_text in captions for item in expected)


def test_an_overview_without_agents_shows_no_agent_section(open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = open_app(saved_runs["baseline"])
    assert not any("Mesa agents" in markdown.value for markdown in app.markdown)


def test_bottlenecks_draw_the_agents_series_and_what_the_police_did(open_app: OpenApp, agents_run_folder: Path,
                                                                    agents_run: RunResult) -> None:
    app = go(open_app(agents_run_folder), "views/bottlenecks.py")
    assert len(app.image) == 6  # the five figures of every run, and the agents' series
    assert any("Mesa agents" in markdown.value for markdown in app.markdown)
    activity = table_with(app, "what").set_index("what")["per replication"]
    ignored = [rep.extra["agents"]["police_orders_ignored"] for rep in agents_run.replications]
    assert activity["hold orders drivers ignored"] == pytest.approx(np.mean(ignored))
    first = app.image[-1].proto.imgs[0].url
    other = 1 - replication_picker(app).value
    replication_picker(app).set_value(other).run()
    assert app.image[-1].proto.imgs[0].url != first


def test_the_replay_shows_the_corridor_the_agents_counted_at_the_moment_chosen(open_app: OpenApp, agents_run_folder: Path,
                                                                               agents_run: RunResult) -> None:
    app = go(open_app(agents_run_folder), "views/replay.py")
    replication = replication_picker(app).value
    corridor = agents_run.replications[replication].extra["agents_corridor"]
    shown = {}
    for minute in (7 * 60, 9 * 60 + 30):
        app.select_slider(key="replay.minute").set_value(minute).run()
        counted = table_with(app, "where").set_index("where")["trucks"]
        row = corridor[corridor["time_h"] == minute / 60.0].iloc[0]
        assert counted["driving, 0-5 km from the checkpoint"] == row["trucks_km_0_5"]
        assert counted["waiting in staging areas"] == row["waiting_in_areas"]
        shown[minute] = counted.tolist()
        assert any(f"counted them at {clock_label(minute * 60.0)}" in caption.value for caption in app.caption)
    assert shown[7 * 60] != shown[9 * 60 + 30]


def test_the_run_chosen_in_the_sidebar_stays_chosen_on_every_page(open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = open_app(saved_runs["baseline"], saved_runs["outage"])
    picker = app.sidebar.selectbox(key="gatetwin.shown_widget")
    first, second = picker.options
    assert picker.value == first
    picker.set_value(second).run()
    assert str(saved_runs["outage"].resolve()) in app.caption[0].value
    for page in PAGES:
        go(app, page)
        assert app.sidebar.selectbox(key="gatetwin.shown_widget").value == second, page
        [caption] = [caption for caption in app.sidebar.caption if caption.value.startswith("from ")]
        assert caption.value == f"from …/{saved_runs['outage'].parent.name}/outage", page
        assert caption.proto.help == f"from {saved_runs['outage'].resolve()}", page


def _start_a_smart_gate_run(hours: float) -> AppTest:
    """The dashboard, with a run of ``huu_nghi_smart_gate`` for ``hours`` started on the Run page."""
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.selectbox(key="run.library").set_value("huu_nghi_smart_gate").run()
    app.number_input(key="run.library.huu_nghi_smart_gate.hours").set_value(hours).run()
    app.button(key="run.library.huu_nghi_smart_gate.run").click().run()
    return app


def test_a_long_run_shows_its_progress_survives_page_changes_and_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.run import run_scenario

    release = threading.Event()
    calls: list[str] = []

    def held_run(scenario: Scenario, options: RunOptions, progress: Callable[[int, float], None]) -> RunResult:
        calls.append(scenario.name)
        progress(0, 0.5)
        release.wait(60)
        return run_scenario(scenario, options, progress=progress)

    monkeypatch.setattr("dashboard.jobs.run_scenario", held_run)
    app = _start_a_smart_gate_run(hours=1.0)
    deadline = time.monotonic() + 30
    while not any(p.proto.text.endswith(": 50%") for p in app.sidebar.get("progress")) and time.monotonic() < deadline:
        time.sleep(0.1)
        app.run()
    [bar] = app.sidebar.get("progress")
    assert bar.proto.text == "huu_nghi_smart_gate (seed 870, 1 replication(s), 1 h): 50%"
    # Widget reruns and page changes meanwhile neither stop nor restart the run.
    for page in ("views/overview.py", "views/replay.py", "views/compare.py", "views/run.py"):
        go(app, page)
        assert [p.proto.text for p in app.sidebar.get("progress")] == [bar.proto.text], page
    app.selectbox(key="run.library").set_value("huu_nghi_2025").run()
    assert app.session_state["gatetwin.pending"]
    release.set()
    wait_for_runs(app)
    assert app.sidebar.selectbox(key="gatetwin.shown_widget").value == "huu_nghi_smart_gate · seed 870 · 1 rep · 1 h"
    assert not app.sidebar.get("progress")
    # The same run asked for again comes from the cache at once.
    app.selectbox(key="run.library").set_value("huu_nghi_smart_gate").run()
    app.number_input(key="run.library.huu_nghi_smart_gate.hours").set_value(1.0).run()
    app.button(key="run.library.huu_nghi_smart_gate.run").click().run()
    wait_for_runs(app, timeout=5.0)
    assert calls == ["huu_nghi_smart_gate"]


@pytest.mark.parametrize("page", ["views/bottlenecks.py", "views/replay.py"])
def test_the_replication_picker_shows_the_replications_of_the_run_now_shown(
        open_app: OpenApp, saved_runs: dict[str, Path], other_seed_folder: Path, page: str) -> None:
    app = go(open_app(saved_runs["baseline"], other_seed_folder), page)
    picker = replication_picker(app)
    assert picker.options == ["replication 0 (seed 870)", "replication 1 (seed 870)"]
    picker.set_value(1).run()
    before = replication_picker(app)
    assert before.value == 1
    runs = app.sidebar.selectbox(key="gatetwin.shown_widget")
    runs.set_value(runs.options[1]).run()
    assert not app.exception, [e.value for e in app.exception]
    after = replication_picker(app)
    assert after.options == [f"replication {r} (seed {OTHER_SEED})" for r in range(3)]
    # A picker of its own for this run: the browser draws it afresh, so the label it shows is
    # one of this run's, not the one chosen before.
    assert after.id != before.id
    assert after.value == 0
    if page == "views/bottlenecks.py":
        assert any(f"(replication 0, seed {OTHER_SEED})" in markdown.value for markdown in app.markdown)


def test_stations_with_unlimited_room_show_their_utilisation_as_unlimited(open_app: OpenApp, saved_runs: dict[str, Path],
                                                                          baseline_run: RunResult) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/bottlenecks.py")
    waits = table_with(app, "where")
    stations = waits[waits["kind"] == "station"].set_index("where")
    utilisation = baseline_run.summary["kpis"]
    unlimited = [name for name in stations.index if math.isnan(utilisation[f"{name}_utilisation"]["mean"])]
    limited = [name for name in stations.index if name not in unlimited]
    assert unlimited and limited
    assert (stations.loc[unlimited, "utilisation"] == "unlimited").all()
    assert (stations.loc[unlimited, "utilisation 95 % CI"] == "unlimited").all()
    for name in limited:
        entry = utilisation[f"{name}_utilisation"]
        assert stations.loc[name, "utilisation"] == f"{entry['mean']:.2f}"
        assert 0.0 <= entry["low"] <= entry["mean"] <= entry["high"] <= 1.0
        if entry["half_width"] == 0:
            expected = "same in all 2 replications"
        elif (entry["low"], entry["high"]) != (entry["mean"] - entry["half_width"], entry["mean"] + entry["half_width"]):
            expected = f"{entry['low']:.2f} to {entry['high']:.2f}"  # cut at 0 or 1
        else:
            expected = f"± {entry['half_width']:.2f}"
        assert stations.loc[name, "utilisation 95 % CI"] == expected
    assert "None" not in stations.astype(str).to_numpy()


def test_a_run_of_one_replication_says_so_where_a_limited_station_has_no_interval(
        open_app: OpenApp, single_replication_folder: Path) -> None:
    app = go(open_app(single_replication_folder), "views/bottlenecks.py")
    waits = table_with(app, "where")
    stations = waits[waits["kind"] == "station"]
    limited = stations[stations["utilisation"] != "unlimited"]
    assert len(limited) and len(limited) < len(stations)
    assert (limited["utilisation 95 % CI"] == "no CI (1 replication)").all()
    assert (stations.loc[stations["utilisation"] == "unlimited", "utilisation 95 % CI"] == "unlimited").all()
    timed = waits[waits["mean wait (min)"] != "—"]  # agencies given no task have no wait to show
    assert len(timed) and (timed["mean wait 95 % CI"] == "no CI (1 replication)").all()


def test_the_bottleneck_headline_is_the_longest_wait_at_a_station_or_for_officers(
        open_app: OpenApp, saved_runs: dict[str, Path], baseline_run: RunResult) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/bottlenecks.py")
    waits = table_with(app, "where")
    kpis = baseline_run.summary["kpis"]
    officers = {name.removeprefix("officers_").removesuffix("_mean_wait").replace("_", " ") + " officers":
                entry["mean"] for name, entry in kpis.items()
                if name.startswith("officers_") and name.endswith("_mean_wait")}
    stations = {name: kpis[f"{name}_mean_wait"]["mean"] for name in baseline_run.replications[0].stations}
    assert officers and set(waits.loc[waits["kind"] == "officers", "where"]) == set(officers)
    everywhere = {**stations, **officers}
    longest = max(everywhere, key=lambda name: everywhere[name])
    assert waits["where"].iloc[0] == longest
    [headline] = [m.value for m in app.markdown if m.value.startswith("Longest mean wait:")]
    expected = (f"**{longest}**, {everywhere[longest]:.1f} min for a task to get an officer" if longest in officers
                else f"**{longest}** (station), {everywhere[longest]:.1f} min in its queue")
    assert headline.startswith(f"Longest mean wait: {expected}.")


def test_compare_says_replications_were_paired_only_when_they_were(open_app: OpenApp, saved_runs: dict[str, Path],
                                                                   other_seed_folder: Path) -> None:
    app = go(open_app(saved_runs["baseline"], saved_runs["outage"], other_seed_folder), "views/compare.py")
    baseline, outage, other = app.multiselect(key="compare.runs").options
    app.multiselect(key="compare.runs").set_value([baseline, outage]).run()
    [caption] = [c.value for c in app.caption if c.value.startswith("Baseline:")]
    assert "paired by replication" in caption and "Welch" not in caption
    arrived = table_with(app, "KPI").set_index("KPI").loc["trucks_arrived", f"{outage} − baseline"]
    # The same trucks in both runs, replication by replication: no "± 0", which reads as certainty.
    assert arrived == "0 (same in every replication)"
    app.multiselect(key="compare.runs").set_value([baseline, other]).run()
    [caption] = [c.value for c in app.caption if c.value.startswith("Baseline:")]
    assert "share no replication" in caption and "Welch" in caption


def test_compare_leaves_out_a_run_with_no_finished_replication_and_says_why(
        open_app: OpenApp, saved_runs: dict[str, Path], failed_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"], failed_runs["none"], saved_runs["outage"]), "views/compare.py")
    crashed = [label for label in app.session_state["gatetwin.runs"] if "0 rep" in label]
    assert len(crashed) == 1
    selector = app.multiselect(key="compare.runs")
    assert crashed[0] not in selector.options
    assert len(selector.value) == 2 and crashed[0] not in selector.value
    assert any(info.value.startswith("Left out of the comparison, with no finished replication: ")
               and crashed[0] in info.value and "ZeroDivisionError" in info.value for info in app.info)
    assert table_with(app, "KPI").shape[0] > 0


def test_compare_warns_of_different_hours_and_failed_replications_and_gives_no_interval_for_one(
        open_app: OpenApp, saved_runs: dict[str, Path], failed_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"], failed_runs["partial"]), "views/compare.py")
    baseline, partial = app.multiselect(key="compare.runs").value
    warnings = [warning.value for warning in app.warning]
    assert f"The runs simulate different hours ({baseline}: 5 h, {partial}: 1 h): counts, totals and peaks are not " \
           "like for like." in warnings
    assert any(w.startswith(f"{partial}: only 1 of its 2 replications finished (replication 1 failed: ZeroDivisionError")
               for w in warnings)
    differences = table_with(app, "KPI").set_index("KPI")[f"{partial} − baseline"]
    assert differences["time_at_gate_mean"].endswith(" no interval")
    assert not differences.str.contains("no clear difference").any()


def test_run_and_compare_shows_every_run_it_started_as_they_finish(
        open_app: OpenApp, saved_runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.run import run_scenario

    second_may_finish = threading.Event()

    def one_at_a_time(scenario: Scenario, options: RunOptions, progress: Callable[[int, float], None]) -> RunResult:
        if scenario.name == "huu_nghi_2025":
            second_may_finish.wait(60)
        return run_scenario(scenario, options, progress=progress)

    monkeypatch.setattr("dashboard.jobs.run_scenario", one_at_a_time)
    app = go(open_app(saved_runs["baseline"]), "views/compare.py")
    app.multiselect(key="compare.launch").set_value(["huu_nghi_smart_gate", "huu_nghi_2025"]).run()
    app.number_input(key="compare.hours").set_value(0.5).run()
    app.number_input(key="compare.reps").set_value(2).run()
    app.button(key="compare.start").click().run()
    deadline = time.monotonic() + 60
    while len(app.session_state["gatetwin.pending"]) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
        app.run()
    assert len(app.session_state["gatetwin.pending"]) == 1, "the first run did not finish alone"
    first = "huu_nghi_smart_gate · seed 870 · 2 rep · 0.5 h"
    assert first in app.multiselect(key="compare.runs").options
    second_may_finish.set()
    wait_for_runs(app)
    second = "huu_nghi_2025 · seed 870 · 2 rep · 0.5 h"
    assert app.multiselect(key="compare.runs").value == [first, second]
    assert list(table_with(app, "KPI").columns[1:2]) == [f"{second} − baseline"]


def test_run_and_compare_takes_variants_of_library_scenarios_and_names_their_runs_after_the_changes(
        open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/compare.py")
    app.multiselect(key="compare.launch").set_value(["huu_nghi_smart_gate"]).run()
    app.text_area(key="compare.variants").input(
        "huu_nghi_smart_gate+layout.entry_lanes=0\n/etc/passwd+layout.scales=2").run()
    app.number_input(key="compare.hours").set_value(0.5).run()
    app.number_input(key="compare.reps").set_value(2).run()
    app.button(key="compare.start").click().run()
    errors = [error.value for error in app.error]
    assert errors[0] == "huu_nghi_smart_gate (changes): layout.entry_lanes: must be >= 1 (got 0)"
    assert errors[1].startswith("/etc/passwd+layout.scales=2: '/etc/passwd' is not a library scenario; available: ")
    app.text_area(key="compare.variants").input("huu_nghi_smart_gate+layout.entry_lanes=3").run()
    app.button(key="compare.start").click().run()
    wait_for_runs(app)
    baseline, variant = app.multiselect(key="compare.runs").value
    assert baseline == "huu_nghi_smart_gate · seed 870 · 2 rep · 0.5 h"
    assert re.fullmatch(r"huu_nghi_smart_gate-entry_lanes-3-[0-9a-f]{6} · seed 870 · 2 rep · 0.5 h", variant)


def test_the_overview_describes_the_scenario_with_the_runs_own_hours_replications_and_seed(
        open_app: OpenApp, library_run_folder: Path) -> None:
    app = open_app(library_run_folder)
    [described] = [code.value for code in app.code]
    assert described.startswith("huu_nghi_smart_gate")
    assert "Run: 1 h (warm-up 0 h), 2 replication(s), seed 5" in described


def test_the_overview_caption_says_the_figures_exclude_the_warm_up_when_the_run_had_one(
        open_app: OpenApp, warmup_run_folder: Path, saved_runs: dict[str, Path]) -> None:
    app = open_app(warmup_run_folder)
    [caption] = [caption.value for caption in app.caption if "simulated hours" in caption.value]
    assert "2 simulated hours · the figures exclude the first 1.5 h (the warm-up) · scenario hash" in caption
    # Trucks cleared per day are scaled up from the half hour measured after it.
    assert "scaled to a day from 0.5 h" in " ".join(caption.value for caption in app.caption)
    app = open_app(saved_runs["baseline"])
    [caption] = [caption.value for caption in app.caption if "simulated hours" in caption.value]
    assert "warm-up" not in caption and "exclude" not in caption


def test_the_overview_says_the_histograms_pool_trucks_while_the_headline_percentiles_are_means(
        open_app: OpenApp, saved_runs: dict[str, Path], baseline_run: RunResult) -> None:
    app = open_app(saved_runs["baseline"])
    trucks = pd.concat([rep.trucks for rep in baseline_run.replications])
    # Every truck that reached the gate, those still there at the end with their time so far.
    minutes = trucks["time_at_gate_so_far"].to_numpy(dtype=float) / 60.0
    pooled_p95 = np.percentile(minutes[~np.isnan(minutes)], 95)
    mean_p95 = baseline_run.summary["kpis"]["time_at_gate_p95"]["mean"]
    [note] = [c.value for c in app.caption if c.value.startswith("The histograms pool the trucks of every replication")]
    assert f"and {pooled_p95:.3g} min) are of all those trucks together" in note
    assert f"and {mean_p95:.3g} min) are the mean over replications of each replication's own" in note
    [p95] = [metric for metric in app.metric if metric.label == "Time at the gate, 95th percentile"]
    assert "each replication's own 95th percentile" in p95.help
    assert "censored at the end of the run" in p95.help


@pytest.mark.parametrize("which", ["partial", "cancelled"])
def test_opening_a_run_that_did_not_finish_warns_what_it_left_unfinished(failed_runs: dict[str, Path], which: str) -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.text_input(key="run.folder").set_value(str(failed_runs[which])).run()
    app.button(key="run.open_folder").click().run()
    assert not app.success
    [warning] = [w.value for w in app.warning]
    reason = "RunCancelled: cancelled from the dashboard" if which == "cancelled" else "ZeroDivisionError"
    assert warning.startswith("Opened huu_nghi_smart_gate · seed 870 · 1 rep · 1 h, but only 1 of its 2 replications "
                              "finished (replication 1 failed: ")
    assert reason in warning


def test_results_found_mark_the_runs_that_did_not_finish(failed_runs: dict[str, Path], saved_runs: dict[str, Path],
                                                          dashboard_environment: Path) -> None:
    import shutil

    for name, folder in (("cancelled", failed_runs["cancelled"]), ("none", failed_runs["none"]),
                         ("complete", saved_runs["baseline"])):
        shutil.copytree(folder, dashboard_environment / name)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    shown = {Path(option.split(" (")[0]).name: option for option in app.selectbox(key="run.found").options}
    assert shown["cancelled"].endswith("/cancelled (cancelled: 1 of 2 replications)")
    assert shown["none"].endswith("/none (failed: no replication finished)")
    assert shown["complete"].endswith("/complete")


# --- what the reviewer found (/tmp/review_dash/REPORT.md) ---------------------------------------

@pytest.mark.parametrize(("change", "key", "field", "what"), [
    ("run.seed=7", "run.seed", "Seed", "seed"),
    ("seed=7", "seed", "Seed", "seed"),
    ("run.horizon_h=5", "run.horizon_h", "Simulated hours", "hours"),
    ("run__replications=3", "run.replications", "Replications", "replications"),
    ("run={seed: 7, warmup_h: 0}", "run", "Seed", "seed"),
])
def test_a_change_that_sets_what_a_field_of_the_run_form_sets_is_refused_naming_the_field(
        change: str, key: str, field: str, what: str) -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.selectbox(key="run.library").set_value("huu_nghi_smart_gate").run()
    app.number_input(key="run.library.huu_nghi_smart_gate.hours").set_value(1.0).run()
    app.text_area(key="run.library.huu_nghi_smart_gate.changes").input(f"layout.scales=2\n{change}").run()
    app.button(key="run.library.huu_nghi_smart_gate.run").click().run()
    assert [error.value for error in app.error] == [
        f"huu_nghi_smart_gate (changes): {key}: the '{field}' field gives the {what} of the run; set it there, "
        "not in the changes"]
    assert not any(info.value.startswith("Started") for info in app.info)  # nothing runs
    assert not app.session_state["gatetwin.pending"]


def test_run_and_compare_refuses_a_variant_that_sets_what_a_field_of_the_form_sets(
        open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/compare.py")
    app.multiselect(key="compare.launch").set_value(["huu_nghi_smart_gate"]).run()
    app.text_area(key="compare.variants").input("huu_nghi_smart_gate+run.seed=7\nhuu_nghi_smart_gate+horizon_h=2").run()
    app.button(key="compare.start").click().run()
    assert [error.value for error in app.error] == [
        "huu_nghi_smart_gate (changes): run.seed: the 'Seed (all scenarios)' field gives the seed of the run; set it "
        "there, not in the changes",
        "huu_nghi_smart_gate (changes): horizon_h: the 'Simulated hours' field gives the hours of the run; set it "
        "there, not in the changes"]
    assert not any(info.value.startswith("Started") for info in app.info)


def test_run_and_compare_of_one_scenario_under_two_names_compares_it_with_itself(
        open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    app = go(open_app(saved_runs["baseline"]), "views/compare.py")
    app.multiselect(key="compare.launch").set_value(["huu_nghi_2025"]).run()
    app.text_area(key="compare.variants").input("default").run()  # the library's other name for huu_nghi_2025
    app.number_input(key="compare.hours").set_value(0.5).run()
    app.number_input(key="compare.reps").set_value(2).run()
    app.button(key="compare.start").click().run()
    assert "Run 2, default, is the same scenario with the same settings as run 1, huu_nghi_2025: it runs once and " \
           "is compared with itself, so every difference is zero." in [info.value for info in app.info]
    assert "Started 1 run; the comparison shows here as it finishes." in [info.value for info in app.info]
    wait_for_runs(app)
    label = "huu_nghi_2025 · seed 870 · 2 rep · 0.5 h"
    assert app.multiselect(key="compare.runs").value == [label, f"{label} (2)"]
    assert not app.error
    differences = table_with(app, "KPI").set_index("KPI")[f"{label} (2) − baseline"]
    assert differences["trucks_arrived"] == "0 (same in every replication)"
    # Every difference is zero, or not measured.
    assert differences.str.match(r"^(0 \(same in every replication\)( equal)?|-)$").all(), differences
    go(app, "views/overview.py")  # and back: still the two, no error
    go(app, "views/compare.py")
    assert app.multiselect(key="compare.runs").value == [label, f"{label} (2)"] and not app.error


def test_the_choices_on_compare_bottlenecks_and_replay_are_kept_while_visiting_other_pages(
        open_app: OpenApp, saved_runs: dict[str, Path], other_seed_folder: Path) -> None:
    app = go(open_app(saved_runs["baseline"], saved_runs["outage"], other_seed_folder), "views/compare.py")
    baseline, outage, other = app.multiselect(key="compare.runs").value
    app.multiselect(key="compare.runs").set_value([baseline, other]).run()
    app.toggle(key="compare.significant").set_value(True).run()
    app.toggle(key="compare.stations").set_value(True).run()
    go(app, "views/bottlenecks.py")
    app.slider(key="bottlenecks.threshold").set_value(7).run()
    replication_picker(app).set_value(1).run()
    go(app, "views/replay.py")
    app.selectbox(key="replay.step").set_value("1 hour").run()
    app.select_slider(key="replay.minute").set_value(120).run()
    for page in ("views/overview.py", "views/compare.py", "views/overview.py", "views/bottlenecks.py",
                 "views/run.py", "views/replay.py"):
        go(app, page)
    assert app.selectbox(key="replay.step").value == "1 hour"
    assert app.select_slider(key="replay.minute").value == 120
    go(app, "views/bottlenecks.py")
    assert app.slider(key="bottlenecks.threshold").value == 7
    assert replication_picker(app).value == 1
    go(app, "views/compare.py")
    assert app.multiselect(key="compare.runs").value == [baseline, other]
    assert app.toggle(key="compare.significant").value and app.toggle(key="compare.stations").value


def test_the_compare_headings_name_three_runs_by_letter_so_a_narrow_column_does_not_cut_them(
        open_app: OpenApp, saved_runs: dict[str, Path], other_seed_folder: Path) -> None:
    app = go(open_app(saved_runs["baseline"], saved_runs["outage"], other_seed_folder), "views/compare.py")
    selected = app.multiselect(key="compare.runs").value
    assert len(selected) == 3
    assert [metric.label for metric in app.metric] == ["A (baseline): clearly best on", "B: clearly best on",
                                                       "C: clearly best on"]
    assert all(re.fullmatch(r"\d+ KPI\(s\)", metric.value) for metric in app.metric)
    assert [metric.proto.help.split(". ")[0] for metric in app.metric] == selected


def test_run_and_compare_starts_with_the_hours_and_seed_of_the_first_scenario_chosen(
        open_app: OpenApp, saved_runs: dict[str, Path]) -> None:
    from scenarios import load_scenario

    tet, smart = load_scenario("tet_reopening"), load_scenario("huu_nghi_smart_gate")
    app = go(open_app(saved_runs["baseline"]), "views/compare.py")
    app.multiselect(key="compare.launch").set_value(["tet_reopening", "huu_nghi_smart_gate"]).run()
    assert app.number_input(key="compare.hours").value == tet.run.horizon_h
    assert app.number_input(key="compare.seed").value == tet.run.seed
    app.number_input(key="compare.seed").set_value(42).run()
    go(app, "views/overview.py")
    go(app, "views/compare.py")  # what was typed stays
    assert app.multiselect(key="compare.launch").value == ["tet_reopening", "huu_nghi_smart_gate"]
    assert app.number_input(key="compare.seed").value == 42
    app.multiselect(key="compare.launch").set_value(["huu_nghi_smart_gate", "tet_reopening"]).run()
    assert app.number_input(key="compare.hours").value == smart.run.horizon_h  # the new baseline's
    assert app.number_input(key="compare.seed").value == smart.run.seed


def test_a_run_writing_its_results_shows_so_without_a_cancel_and_a_late_cancel_is_told_it_came_too_late(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from twin.run import run_scenario

    started_writing, may_write = threading.Event(), threading.Event()
    at_half, may_go_on = threading.Event(), threading.Event()

    def slow_to_write(scenario: Scenario, options: RunOptions, progress: Callable[[int, float], None]) -> RunResult:
        def held(replication: int, fraction: float) -> None:
            progress(replication, fraction)
            if fraction >= 0.5 and not at_half.is_set():
                at_half.set()
                may_go_on.wait(60)
            if fraction >= 1.0:
                started_writing.set()
                may_write.wait(60)  # as collecting and writing a long run's results takes seconds

        return run_scenario(scenario, options, progress=held)

    monkeypatch.setattr("dashboard.jobs.run_scenario", slow_to_write)
    app = _start_a_smart_gate_run(hours=0.5)
    assert at_half.wait(30)
    app.run()
    [cancel] = [button for button in app.sidebar.button if button.label == "Cancel"]
    may_go_on.set()
    assert started_writing.wait(30)
    cancel.click().run()  # pressed while the page still showed the button: too late now
    assert "huu_nghi_smart_gate (seed 870, 1 replication(s), 0.5 h): too late to cancel: its simulation had finished, " \
           "and its results open once written." in [info.value for info in app.info]
    [bar] = app.sidebar.get("progress")
    assert bar.proto.text == "huu_nghi_smart_gate (seed 870, 1 replication(s), 0.5 h): simulated; writing results…"
    assert not [button for button in app.sidebar.button if button.label == "Cancel"]
    may_write.set()
    wait_for_runs(app)
    assert app.sidebar.selectbox(key="gatetwin.shown_widget").value == "huu_nghi_smart_gate · seed 870 · 1 rep · 0.5 h"


def test_an_uploaded_scenario_that_reads_recorded_trucks_asks_for_them_and_runs_with_them() -> None:
    scenario = with_overrides(busy_smart_gate(hours=3.0, replications=1), name="recorded_upload")
    data = scenario.model_dump(mode="json")
    data["demand"]["recorded"] = {"file": "records/day.csv"}
    text = yaml.safe_dump(data, sort_keys=False).encode("utf-8")
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.file_uploader(key="run.upload").set_value(("recorded.yaml", text, "application/x-yaml")).run()
    assert [info.value for info in app.info] == [
        "recorded.yaml reads its trucks from records/day.csv: upload that file to check and run the scenario."]
    assert not app.error and not app.success
    bad = b"arrival,direction\n01:00,north\n"
    app.file_uploader(key="run.upload.recorded").set_value(("day.csv", bad, "text/csv")).run()
    assert "recorded.yaml: demand.recorded.file: records/day.csv, line 2, direction: unknown value: must be one " \
           "of 'export', 'import', 'transit' or 'temporary_import_reexport' (got 'north')" in [e.value for e in app.error]
    good = b"arrival,direction,vehicle_class\n00:30,export,truck\n01:00,import,truck\n01:10,import,truck\n"
    app.file_uploader(key="run.upload.recorded").set_value(("day.csv", good, "text/csv")).run()
    assert [s.value for s in app.success] == ["recorded.yaml: a valid scenario, 'recorded_upload'."]
    app.button(key="run.upload.recorded_upload.run").click().run()
    wait_for_runs(app)
    shown = app.sidebar.selectbox(key="gatetwin.shown_widget").value
    assert shown.startswith("recorded_upload · seed")
    go(app, "views/overview.py")
    assert not app.error
    assert any("Demand: recorded, 3 trucks from records/day.csv over 1 day(s)" in block.value for block in app.code)


def test_a_library_scenario_replays_a_recorded_day_uploaded_beside_it() -> None:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    go(app, "views/run.py")
    app.selectbox(key="run.library").set_value("huu_nghi_2025").run()
    app.number_input(key="run.library.huu_nghi_2025.hours").set_value(2.0).run()
    app.file_uploader(key="run.library.huu_nghi_2025.recorded").set_value(
        ("day.csv", b"arrival,direction\n00:10,north\n", "text/csv")).run()
    app.button(key="run.library.huu_nghi_2025.run").click().run()
    assert [error.value for error in app.error] == [
        "huu_nghi_2025 (recorded trucks): demand.recorded.file: day.csv, line 2, direction: unknown value: must be "
        "one of 'export', 'import', 'transit' or 'temporary_import_reexport' (got 'north')"]
    assert not any(info.value.startswith("Started") for info in app.info)  # nothing runs
    app.file_uploader(key="run.library.huu_nghi_2025.recorded").set_value(
        ("day.csv", b"arrival,direction\n00:10,export\n00:40,import\n01:05,import\n", "text/csv")).run()
    app.button(key="run.library.huu_nghi_2025.run").click().run()
    wait_for_runs(app)
    shown = app.sidebar.selectbox(key="gatetwin.shown_widget").value
    assert re.fullmatch(r"huu_nghi_2025-recorded-[0-9a-f]{6} · seed 870 · 1 rep · 2 h", shown), shown
    go(app, "views/overview.py")
    assert any("Demand: recorded, 3 trucks from day.csv over 1 day(s)" in block.value for block in app.code)

"""The gatetwin command line, as a planner uses it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scenarios import library_names, load_scenario, scenario_hash, validate_scenario, with_overrides, with_settings
from scenarios.schema import Scenario
from tests.unit.scenarios.support import MINIMAL_YAML
from twin import cli
from twin.cli import app
from twin.report import figure
from twin.stats import TRUSTED_REPLICATIONS

runner = CliRunner()


def test_scenarios_list_names_every_library_scenario() -> None:
    result = runner.invoke(app, ["scenarios", "list"])
    assert result.exit_code == 0, result.output
    for name in library_names():
        assert name in result.output


def test_scenarios_show_describes_the_scenario_and_json_gives_its_content() -> None:
    result = runner.invoke(app, ["scenarios", "show", "harvest_peak"])
    assert result.exit_code == 0, result.output
    assert "2,500" in result.output or "2500" in result.output
    as_json = runner.invoke(app, ["scenarios", "show", "harvest_peak", "--json"])
    assert json.loads(as_json.output)["demand"]["trucks_per_day"] == 2500


def test_a_broken_scenario_file_gets_one_line_per_error_and_exit_code_2(tmp_path: Path) -> None:
    broken = tmp_path / "peak.yaml"
    broken.write_text(
        "name: peak\ndescription: broken\nsite: x\n"
        "layout: {entry_lanes: 1, exit_lanes: 1, scanners: [{type: portal, count: -1}]}\n"
        "demand: {trucks_per_day: 100, direction_mix: {export: 1}, vehicle_class_mix: {truck: 1},"
        " cargo_mix: {general: 1}, colour: red}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["scenarios", "validate", str(broken)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert any(f"{broken}: layout.scanners.0.count:" in line and "-1" in line for line in lines), lines
    assert any("demand.colour" in line for line in lines), lines
    assert all(line.startswith(str(broken)) for line in lines), lines


def test_a_run_with_no_inspection_bay_is_refused_in_one_line_with_exit_code_2() -> None:
    result = runner.invoke(app, ["run", "harvest_peak", "--set", "layout.inspection_bays=0", "--hours", "1"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].endswith("layout.inspection_bays: must be at least 1: a gate that inspects trucks physically needs "
                             "a bay; give 'unlimited' for no limit (got 0)"), lines


def test_a_good_file_validates() -> None:
    from scenarios import library_path

    result = runner.invoke(app, ["scenarios", "validate", str(library_path("mong_cai_phase2"))])
    assert result.exit_code == 0 and result.output.strip().endswith("ok")


def test_an_unknown_scenario_name_lists_the_library_and_exits_2() -> None:
    result = runner.invoke(app, ["run", "no_such_gate"])
    assert result.exit_code == 2
    assert "no_such_gate" in result.output and "harvest_peak" in result.output


def test_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(app, ["run", "mong_cai_phase2", "--hours", "10", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "trucks_departed" in result.output and "plates_typed" in result.output
    # Where trucks waited longest, people and stations alike, longest first.
    waits = result.output.split("where trucks wait longest")[1]
    rows = [line for line in waits.splitlines() if line.startswith("│")]
    assert rows and any("officers" in row for row in rows)
    means = [float(row.split("│")[2].replace(",", "")) for row in rows]
    assert means == sorted(means, reverse=True)
    # Each agency's wait split by where it fell: the share outside its shifts, a blank for stations.
    off_shift = {row.split("│")[1].strip(): row.split("│")[5].strip() for row in rows}
    assert all(share.endswith("%") for who, share in off_shift.items() if who.endswith("officers"))
    assert all(share == "" for who, share in off_shift.items() if not who.endswith("officers"))
    for name in ("summary.json", "trucks.parquet", "trucks.csv", "stations.csv", "series.parquet",
                 "queue_length.png", "truck_times.png", "utilisation.png"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["manifest"]["scenario_name"] == "mong_cai_phase2"
    assert summary["failed"] is None


def test_compare_runs_the_layouts_with_the_same_seeds_and_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = runner.invoke(app, ["compare", "mong_cai_phase1", "mong_cai_phase2", "--reps", "2", "--hours", "10",
                                 "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (out / "comparison.csv").exists() and (out / "comparison.png").exists()
    table = (out / "comparison.csv").read_text()
    assert "time_at_gate_p95" in table and "2:mong_cai_phase2" in table


def test_compare_run_again_into_its_folder_leaves_only_the_new_variants(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    earlier = out / "2-mong_cai_phase2-entry_lanes-1-0a1b2c"  # a variant an earlier comparison ran
    earlier.mkdir(parents=True)
    for name in ("summary.json", "trucks.csv", "queue_length.png"):
        (earlier / name).write_text("{}")
    result = runner.invoke(app, ["compare", "mong_cai_phase2", "mong_cai_phase2+layout.entry_lanes=3", "--reps", "2",
                                 "--hours", "0.5", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    folders = sorted(path.name for path in out.iterdir() if path.is_dir())
    assert len(folders) == 2 and folders[0] == "1-mong_cai_phase2", folders
    assert folders[1].startswith("2-mong_cai_phase2-entry_lanes-3-"), folders
    assert "layout.entry_lanes=3" in (out / "comparison.csv").read_text()


def test_with_no_command_it_runs_the_default_scenario_end_to_end(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "default" / "summary.json").read_text())
    assert summary["manifest"]["scenario_name"] == "huu_nghi_2025"
    assert len(summary["replications"]) == cli.DEFAULT_REPLICATIONS >= TRUSTED_REPLICATIONS  # intervals to plan on
    assert "report written to out/default/report.md" in result.output
    report = (tmp_path / "out" / "default" / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Run report: huu_nghi_2025\n")
    assert f"Finished: {cli.DEFAULT_REPLICATIONS} of {cli.DEFAULT_REPLICATIONS} replications." in report


# --- bad input is refused before anything runs, one line per problem --------------------------


def _never_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any simulation fail the test: these inputs must be refused before one starts."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a simulation started")

    monkeypatch.setattr(cli, "run_scenario", refuse)
    monkeypatch.setattr(cli, "run_cells", refuse)


def _scenario_file(folder: Path, name: str, **changes: str) -> Path:
    """A small valid scenario file, with lines of MINIMAL_YAML replaced (``old=new``)."""
    text = MINIMAL_YAML.replace("name: tiny", f"name: {name}")
    for old, new in changes.values():
        text = text.replace(old, new)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_infinite_number_of_trucks_is_refused_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _never_run(monkeypatch)
    path = _scenario_file(tmp_path, "endless", tpd=("trucks_per_day: 100", "trucks_per_day: .inf"))
    result = runner.invoke(app, ["run", str(path), "--hours", "1", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip() == f"{path}: demand.trucks_per_day: must be a finite number (got inf)"
    shown = runner.invoke(app, ["scenarios", "show", str(path), "--json"])
    assert shown.exit_code == 2 and "Infinity" not in shown.output


def test_validate_accepts_a_library_name_and_says_which_file_it_checked() -> None:
    result = runner.invoke(app, ["scenarios", "validate", "huu_nghi_2025", "default"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "huu_nghi_2025 (scenarios/library/huu_nghi_2025.yaml): ok",
        "default (scenarios/library/huu_nghi_2025.yaml): ok",
    ]


def test_validate_of_an_unknown_name_lists_the_library() -> None:
    result = runner.invoke(app, ["scenarios", "validate", "huu_nghi_2052"])
    assert result.exit_code == 2
    assert result.output.startswith("huu_nghi_2052: no library scenario of this name; available: ")


def test_compare_reports_every_error_of_every_broken_file_and_runs_nothing(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _never_run(monkeypatch)
    first = _scenario_file(tmp_path, "first", lanes=("entry_lanes: 1", "entry_lanes: 0"), seed=("scales: 1", "scales: -1"))
    second = _scenario_file(tmp_path, "second", tpd=("trucks_per_day: 100", "trucks_per_day: lots"))
    result = runner.invoke(app, ["compare", "mong_cai_phase2", str(first), str(second), "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{first}: layout.entry_lanes: must be >= 1 (got 0)",
        f"{first}: layout.scales: must be >= 0 (got -1)",
        f"{second}: demand.trucks_per_day: must be a number (got 'lots')",
    ]
    assert not (tmp_path / "cmp").exists()


@pytest.mark.parametrize("command", [["run", "mong_cai_phase2"], ["compare", "mong_cai_phase1", "mong_cai_phase2"]])
def test_an_out_that_is_a_file_is_refused_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         command: list[str]) -> None:
    _never_run(monkeypatch)
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n", encoding="utf-8")
    result = runner.invoke(app, [*command, "--out", str(taken)])
    assert result.exit_code == 2
    assert result.output.strip() == f"gatetwin {command[0]}: --out {taken}: exists and is not a folder"
    assert taken.read_text(encoding="utf-8") == "mine\n"


@pytest.mark.parametrize("command", [["run", "mong_cai_phase2"], ["compare", "mong_cai_phase1", "mong_cai_phase2"]])
def test_an_out_that_cannot_be_created_is_refused_before_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 command: list[str]) -> None:
    _never_run(monkeypatch)
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = runner.invoke(app, [*command, "--out", str(blocker / "results")])
    assert result.exit_code == 2
    assert result.output.strip() == f"gatetwin {command[0]}: --out {blocker / 'results'}: cannot create the folder: Not a directory"
    proc = runner.invoke(app, [*command, "--out", "/proc/gatetwin-results"])
    assert proc.exit_code == 2
    assert proc.output.startswith(f"gatetwin {command[0]}: --out /proc/gatetwin-results: cannot create the folder: ")
    assert len(proc.output.strip().splitlines()) == 1


def test_compare_refuses_scenarios_of_different_horizons_unless_hours_is_given(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _never_run(monkeypatch)
    short = _scenario_file(tmp_path, "short")
    long = _scenario_file(tmp_path, "long")
    short.write_text(short.read_text(encoding="utf-8") + "run: {horizon_h: 4}\n", encoding="utf-8")
    long.write_text(long.read_text(encoding="utf-8") + "run: {horizon_h: 8}\n", encoding="utf-8")
    result = runner.invoke(app, ["compare", str(short), str(long)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "gatetwin compare: the scenarios simulate different horizons (1:short 4 h, 2:long 8 h); "
        "give --hours to run them all for as long"
    )
    ran: list[float] = []

    def fake(scenarios: list[Scenario], *args: object, **kwargs: object) -> list[tuple[list[object], str]]:
        ran.extend(scenario.run.horizon_h for scenario in scenarios)
        return [([], "replication 0 failed: faked") for _ in scenarios]

    monkeypatch.setattr(cli, "_run_cells", fake)
    given = runner.invoke(app, ["compare", str(short), str(long), "--hours", "6", "--quiet"])
    assert given.exit_code == 1 and ran == [6.0, 6.0]  # both were 6 h; the runs (faked) failed
    assert "gatetwin: short: replication 0 failed: faked" in given.output


def _help_text(output: str) -> str:
    """Help as one line of words, without the boxes and the wrapping."""
    return " ".join(output.replace("│", " ").split())


def test_compare_help_gives_the_defaults_of_seed_out_and_hours() -> None:
    result = runner.invoke(app, ["compare", "--help"], env={"COLUMNS": "200"})  # no option's text cut by another's
    text = _help_text(result.output)
    assert "the first scenario's seed" in text and "common random numbers" in text
    assert "(default: none; the table is only printed)" in text
    assert "different horizons (run.horizon_h) are refused before anything runs" in text


# --- help and descriptions ----------------------------------------------------------------------


def test_the_top_level_help_says_that_no_command_runs_the_default_scenario() -> None:
    result = runner.invoke(app, ["--help"])
    text = _help_text(result.output)
    assert "With no command, gatetwin runs the default scenario" in text
    assert "./out/default" in text


def test_scenarios_list_cuts_a_long_description_at_a_word_with_an_ellipsis() -> None:
    result = runner.invoke(app, ["scenarios", "list"], terminal_width=250)
    described = [line for line in result.output.splitlines() if "huu_nghi_2025" in line]
    assert described, result.output
    assert "…" in described[0]
    before = described[0].split("…")[0].rstrip()
    description = load_scenario("huu_nghi_2025").description
    assert description.startswith(before.split("│")[-1].strip())
    last_word = before.split()[-1]
    assert last_word in description.split(), last_word


def test_cut_at_a_word_keeps_short_texts_and_ends_long_ones_with_an_ellipsis() -> None:
    assert cli.cut_at_a_word("short enough", 20) == "short enough"
    assert cli.cut_at_a_word("the quick brown fox jumps", 17) == "the quick brown…"
    assert len(cli.cut_at_a_word("word " * 40, 80)) <= 80


def test_scenarios_show_says_whether_mesa_agents_are_enabled() -> None:
    off = runner.invoke(app, ["scenarios", "show", "huu_nghi_2025"])
    assert "Agents: Mesa agents off" in off.output, off.output
    enabled = [name for name in library_names() if load_scenario(name).agents.enabled]
    if enabled:
        on = runner.invoke(app, ["scenarios", "show", enabled[0]])
        assert "Agents: Mesa agents on" in on.output


def test_scenarios_show_default_names_its_file() -> None:
    result = runner.invoke(app, ["scenarios", "show", "default"])
    assert result.exit_code == 0
    assert result.output.rstrip().splitlines()[-1] == "file: scenarios/library/huu_nghi_2025.yaml"


def test_scenarios_show_of_a_file_names_the_file(tmp_path: Path) -> None:
    path = _scenario_file(tmp_path, "mine")
    result = runner.invoke(app, ["scenarios", "show", str(path)])
    assert result.exit_code == 0
    assert result.output.rstrip().splitlines()[-1] == f"file: {path}"


# --- the run summary's figures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.04, "0.04"),
        (0.0412345, "0.0412"),
        (0.0, "0"),
        (3.14159, "3.14"),
        (12.345, "12.3"),
        (870.4, "870"),
        (2_512.6, "2,513"),
        (123_456_789.4, "123,456,789"),
        (-0.5, "-0.5"),
    ],
)
def test_a_figure_keeps_three_significant_digits_and_groups_thousands(value: float, shown: str) -> None:
    assert figure(value) == shown


def test_the_summary_table_shows_a_small_queue_in_km_as_it_is() -> None:
    from types import SimpleNamespace

    from rich.console import Console

    run = SimpleNamespace(scenario_name="tiny", replications=[1, 2], summary={"kpis": {
        "road_queue_km_max": {"mean": 0.04, "half_width": 0.0123},
        "fee_revenue_vnd": {"mean": 123_456_789.4, "half_width": float("nan")},
    }})
    console = Console(width=200, record=True)
    console.print(cli._summary_table(run))  # type: ignore[arg-type]
    text = console.export_text()
    row = next(line for line in text.splitlines() if "road_queue_km_max" in line)
    assert "0.04" in row and "0.0123" in row
    assert "123,456,789" in next(line for line in text.splitlines() if "fee_revenue_vnd" in line)


# --- changing a scenario from the command line ------------------------------------------------


def test_run_takes_changes_to_the_scenario_with_set_and_names_the_variant(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["run", "huu_nghi_2025", "--hours", "2", "--reps", "1", "--quiet",
                                 "--set", "layout.entry_lanes=3",
                                 "--set", "layout.scanners=[{type: drive_through, count: 2}]",
                                 "--set", "traffic.gps_feed_s=null"])
    assert result.exit_code == 0, result.output
    [out] = (tmp_path / "out").iterdir()  # not the scenario's own folder
    assert re.fullmatch(r"huu_nghi_2025-entry_lanes-3-scanners-gps_feed_s-[0-9a-f]{6}", out.name)
    summary = json.loads((out / "summary.json").read_text())
    changed = load_scenario("huu_nghi_2025").model_dump(mode="json")
    changed["name"] = out.name
    changed["layout"]["entry_lanes"] = 3
    changed["layout"]["scanners"] = [{"type": "drive_through", "count": 2}]
    changed["traffic"]["gps_feed_s"] = None
    changed["run"]["horizon_h"] = 2.0
    assert summary["scenario_hash"] == scenario_hash(validate_scenario(changed))


def test_compare_takes_variants_of_one_scenario_and_labels_them_as_written(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    variant = "harvest_peak+layout.entry_lanes=3+layout.exit_lanes=3"
    result = runner.invoke(app, ["compare", "harvest_peak", variant, "--reps", "2", "--hours", "9",
                                 "--set", "demand.trucks_per_day=3000", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = (out / "comparison.csv").read_text()
    assert "1:harvest_peak," in table and f"2:{variant}" in table
    runs = {sub.name: json.loads((sub / "summary.json").read_text()) for sub in out.iterdir() if sub.is_dir()}
    baseline = with_settings(load_scenario("harvest_peak"), ["demand.trucks_per_day=3000"])
    variant = with_settings(load_scenario("harvest_peak"),
                            ["demand.trucks_per_day=3000", "layout.entry_lanes=3", "layout.exit_lanes=3"])
    two, three = runs[f"1-{baseline.name}"], runs[f"2-{variant.name}"]
    assert two["scenario_hash"] == scenario_hash(with_overrides(baseline, horizon_h=9.0))  # --set on every one
    assert three["scenario_hash"] == scenario_hash(with_overrides(variant, horizon_h=9.0))
    assert three["summary"]["kpis"]["trucks_departed"]["mean"] > two["summary"]["kpis"]["trucks_departed"]["mean"]


def test_malformed_changes_are_refused_each_with_its_reason_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _never_run(monkeypatch)
    result = runner.invoke(app, ["run", "huu_nghi_2025", "--out", str(tmp_path / "out"),
                                 "--set", "layout.entry_lanes", "--set", "layout.scales=[1"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "huu_nghi_2025 (changes): layout.entry_lanes: give KEY=VALUE, e.g. layout.entry_lanes=3",
        "huu_nghi_2025 (changes): layout.scales: YAML syntax error: while parsing a flow sequence: did not find "
        "expected ',' or ']' (in '[1')",
    ]
    result = runner.invoke(app, ["compare", "huu_nghi_2025", "huu_nghi_2025+layout.entry_lanes=0+layout.colour=red",
                                 "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 2
    assert "huu_nghi_2025 (changes): layout.colour: unknown field" in result.output
    for clash, said in ((["run", "huu_nghi_2025", "--hours", "2", "--set", "horizon_h=3"],
                         "gatetwin run: horizon_h: --hours gives the horizon too; give one of them"),
                        (["compare", "huu_nghi_2025", "huu_nghi_2025+run__seed=3", "--seed", "4"],
                         "gatetwin compare: run.seed: --seed gives the seed too; give one of them"),
                        (["run", "huu_nghi_2025", "--reps", "2", "--set", "run={replications: 3}"],
                         "gatetwin run: run: --reps gives the replications too; give one of them"),
                        (["compare", "huu_nghi_2025", "huu_nghi_2025+run.replications=3"],
                         "gatetwin compare: run.replications: --reps gives the replications too; give one of them")):
        result = runner.invoke(app, clash)
        assert result.exit_code == 2
        assert result.output.strip() == said
    result = runner.invoke(app, ["run", "huu_nghi_2025", "--seed", str(2**63)])
    assert result.exit_code == 2 and "9223372036854775807" in result.output


def test_python_dash_m_twin_cli_is_the_gatetwin_command() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "twin.cli", "scenarios", "list"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in library_names())


def test_compare_on_a_dask_cluster_writes_the_same_comparison_as_here(tmp_path: Path) -> None:
    from distributed import LocalCluster

    args = ["compare", "mong_cai_phase1", "mong_cai_phase2", "--reps", "2", "--hours", "8", "--quiet"]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        on_cluster = runner.invoke(app, [*args, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "a")])
    assert on_cluster.exit_code == 0, on_cluster.output
    here = runner.invoke(app, [*args, "--jobs", "1", "--out", str(tmp_path / "b")])
    assert here.exit_code == 0, here.output
    assert (tmp_path / "a" / "comparison.csv").read_bytes() == (tmp_path / "b" / "comparison.csv").read_bytes()


def test_run_on_a_dask_cluster_writes_the_same_files_as_here(tmp_path: Path) -> None:
    from distributed import LocalCluster

    args = ["run", "mong_cai_phase2", "--reps", "2", "--hours", "6", "--quiet"]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        on_cluster = runner.invoke(app, [*args, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "a")])
    assert on_cluster.exit_code == 0, on_cluster.output
    here = runner.invoke(app, [*args, "--jobs", "1", "--out", str(tmp_path / "b")])
    assert here.exit_code == 0, here.output
    files = {p.name: p.read_bytes() for p in sorted((tmp_path / "a").iterdir()) if p.is_file()}
    assert "summary.json" in files and "trucks.parquet" in files
    assert files == {p.name: p.read_bytes() for p in sorted((tmp_path / "b").iterdir()) if p.is_file()}


def test_scenarios_show_yaml_writes_a_file_that_reads_back_as_the_scenario_changes_included(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scenarios", "show", "harvest_peak", "--yaml", "--set", "layout.entry_lanes=3"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# harvest_peak-entry_lanes-3-")
    path = tmp_path / "mine.yaml"
    path.write_text(result.output, encoding="utf-8")
    expected = with_settings(load_scenario("harvest_peak"), ["layout.entry_lanes=3"])
    assert load_scenario(path) == expected and scenario_hash(load_scenario(path)) == scenario_hash(expected)
    both = runner.invoke(app, ["scenarios", "show", "harvest_peak", "--yaml", "--json"])
    assert both.exit_code == 2 and "give --json or --yaml, not both" in both.output


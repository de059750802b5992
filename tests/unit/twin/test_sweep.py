"""Sweeping a scenario over a grid of values: ``gatetwin sweep`` and ``twin.sweep``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from distributed import LocalCluster
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle
from typer.testing import CliRunner

from scenarios import ScenarioError, load_scenario, with_settings
from scenarios.yaml_reader import read_yaml
from twin import cli
from twin.cli import app
from twin.compare import compare_runs, comparison_run_folders
from twin.results import ReplicationResult, RunResult, summarize_run
from twin.probes import TruckLog
from twin.sweep import (
    MAX_CELLS,
    VERDICT_COLOURS,
    TargetOutcome,
    parse_vary,
    sweep_cells,
    sweep_plot,
    sweep_table,
    targets_map,
    yaml_text,
)
from twin.targets import Target, Verdict, meets_all

runner = CliRunner()


def _never_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a simulation started")

    monkeypatch.setattr(cli, "run_scenario", refuse)
    monkeypatch.setattr(cli, "run_cells", refuse)


def test_every_combination_of_the_values_is_a_cell_the_first_field_varying_slowest() -> None:
    varies = parse_vary(["layout.entry_lanes=[2, 3]", "layout.scales=[1, 2, 3]"])
    cells = sweep_cells(varies)
    assert [cell.label for cell in cells] == [
        "entry_lanes=2, scales=1", "entry_lanes=2, scales=2", "entry_lanes=2, scales=3",
        "entry_lanes=3, scales=1", "entry_lanes=3, scales=2", "entry_lanes=3, scales=3",
    ]
    assert cells[4].settings == ("layout.entry_lanes=3", "layout.scales=2")


def test_each_cell_reads_back_as_the_values_given_lists_and_quoted_times_included() -> None:
    scanners = "[[{type: drive_through, count: 1}], [{type: drive_through, count: 2}, {type: portal, count: 1}]]"
    varies = parse_vary([f"layout.scanners={scanners}", "agencies.medical.shifts=[[['07:00', '19:00']]]"])
    base = load_scenario("harvest_peak")
    last = with_settings(base, list(sweep_cells(varies)[-1].settings))
    assert [(s.type.value, s.count) for s in last.layout.scanners] == [("drive_through", 2), ("portal", 1)]
    assert last.agencies.medical.shifts == (("07:00", "19:00"),)
    # Each value is written back as YAML that reads as the same value, YAML 1.1's traps included.
    for value in ("07:00", "12:30", "NO", "unlimited", 1e20, 0.3, True, [[{"type": "portal", "count": 1}]]):
        assert read_yaml(yaml_text(value), "test") == value


def test_fields_sharing_a_last_key_are_named_in_full() -> None:
    cells = sweep_cells(parse_vary(["layout.yard.truck=[100, 200]", "demand.vehicle_class_mix.truck=[0.3]"]))
    assert cells[0].label == "layout.yard.truck=100, demand.vehicle_class_mix.truck=0.3"
    # A last key that names a column of the table is named in full too.
    assert sweep_cells(parse_vary(["agencies.customs.service_s.mean=[300]"]))[0].label == \
        "agencies.customs.service_s.mean=300"


def test_every_malformed_vary_is_refused_at_once_naming_each() -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_vary(["layout.entry_lanes", "layout.scales=3", "layout.scanners=[]", "layout.exit_lanes=[2, 2]",
                    "run.seed=[1, 2]", "horizon_h=[4, 8]", "layout.yard=[{truck: 1}", "layout.scales=[1, 2]"])
    reasons = {issue.path: issue.reason for issue in caught.value.errors[:-1]}
    assert "give KEY=[V1, V2, ...]" in reasons["layout.entry_lanes"]
    assert "give the values to try as a YAML list" in reasons["layout.scales"]
    assert "(got '[]')" in reasons["layout.scanners"]
    assert reasons["layout.exit_lanes"] == "value given twice: 2"
    assert "cannot be varied" in reasons["run.seed"] and "cannot be varied" in reasons["horizon_h"]
    assert "YAML syntax error" in reasons["layout.yard"]
    assert len(caught.value.errors) == 8
    last = caught.value.errors[-1]  # the second layout.scales
    assert (last.path, last.reason) == ("layout.scales", "is varied twice: give all its values in one list")


def _run(name: str, kpis: dict[str, list[float]]) -> RunResult:
    reps = [ReplicationResult(seed=7, trucks=TruckLog().to_frame(), stations={}, series={},
                              kpis={kpi: values[i] for kpi, values in kpis.items()}) for i in range(len(next(iter(kpis.values()))))]
    return RunResult(name, f"hash-{name}", reps, {}, summarize_run(reps))


def test_the_table_holds_each_cells_values_and_its_difference_from_the_first() -> None:
    cells = sweep_cells(parse_vary(["layout.entry_lanes=[2, 3]", "layout.scales=[1, 2]"]))
    p95 = {0: [300.0, 320.0, 310.0], 1: [290.0, 305.0, 301.0], 2: [200.0, 230.0, 215.0], 3: [199.0, 228.0, 214.0]}
    runs = [_run(cell.label, {"time_at_gate_p95": p95[cell.index]}) for cell in cells]
    table = sweep_table(compare_runs(runs, [c.label for c in cells]), cells)
    assert list(table.columns[:3]) == ["entry_lanes", "scales", "cell"]
    rows = table[table["kpi"] == "time_at_gate_p95"].set_index("cell")
    assert list(rows["entry_lanes"]) == ["2", "2", "3", "3"] and list(rows["scales"]) == ["1", "2", "1", "2"]
    assert rows.loc[3, "difference"] == pytest.approx(-95.0)
    assert rows.loc[3, "verdict"] == "better" and rows.loc[1, "verdict"] == "baseline"
    assert set(rows["best"]) == {4}  # the lowest P95
    figure = sweep_plot(table, ["time_at_gate_p95", "throughput_per_day"])
    assert len(figure.axes) == 1  # only the KPIs the runs report
    assert len(figure.axes[0].containers) == 2  # a line per number of scales, against the entry lanes


def test_sweep_runs_every_cell_with_the_same_seeds_and_writes_its_table_plot_and_runs(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "harvest_peak", "--vary", "layout.entry_lanes=[1, 3]", "--vary", "layout.exit_lanes=[1, 3]",
            "--set", "demand.trucks_per_day=3000", "--reps", "2", "--hours", "9", "--out", str(out), "--quiet",
            "--kpi", "trucks_departed", "--kpi", "time_at_gate_p95"]
    result = runner.invoke(app, [*args, "--jobs", "1"])  # here, one replication after another
    assert result.exit_code == 0, result.output
    assert "entry_lanes" in result.output and "trucks_departed" in result.output
    table = pd.read_csv(out / "sweep.csv")
    assert sorted(set(table["cell"])) == [1, 2, 3, 4]
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(folders) == 4 and folders[3].startswith("4-harvest_peak-")
    summaries = [json.loads((out / f / "summary.json").read_text()) for f in folders]
    # The same seed in every cell: the same trucks arrive in each, replication by replication.
    arrived = {tuple(s["summary"]["kpis"]["trucks_arrived"]["per_replication"]) for s in summaries}
    assert len(arrived) == 1
    departed = table[table["kpi"] == "trucks_departed"].set_index("cell")["mean"]
    assert departed[4] > departed[1]  # three lanes each way clear more than one
    assert (out / "sweep.png").stat().st_size > 0
    # The dashboard opens the folder as its cells, cell 1 first, as it opens a comparison's.
    assert [p.name for p in comparison_run_folders(out)] == folders
    first = _files(out)
    again = runner.invoke(app, [*args, "--jobs", "2"])  # now in two worker processes
    assert again.exit_code == 0, again.output
    assert _files(out) == first  # the same sweep and seed: the same files, however it ran


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_sweep_on_a_dask_cluster_writes_the_same_files_as_one_run_here(tmp_path: Path) -> None:
    args = ["sweep", "mong_cai_phase2", "--vary", "layout.scales=[1, 2]", "--reps", "2", "--hours", "10", "--quiet"]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        on_cluster = runner.invoke(app, [*args, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "a")])
    assert on_cluster.exit_code == 0, on_cluster.output
    here = runner.invoke(app, [*args, "--jobs", "1", "--out", str(tmp_path / "b")])
    assert here.exit_code == 0, here.output
    files = _files(tmp_path / "a")
    assert "sweep.csv" in files and len(files) > 10
    assert files == _files(tmp_path / "b")


def test_a_cluster_that_cannot_be_reached_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _never_run(monkeypatch)
    monkeypatch.setattr(cli, "CLUSTER_TIMEOUT_S", 1.0)
    result = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", "layout.scales=[1, 2]",
                                 "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot reach the cluster" in result.output


def test_a_cell_the_scenario_refuses_is_named_and_nothing_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _never_run(monkeypatch)
    result = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", "layout.entry_lanes=[2, 0]",
                                 "--vary", "layout.scales=[1, -1]", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert any(line.startswith("cell 2 (entry_lanes=2, scales=-1): ") and "layout.scales" in line for line in lines), lines
    assert any(line.startswith("cell 3 (entry_lanes=0, scales=1): ") and "layout.entry_lanes" in line for line in lines)
    assert not any(line.startswith("cell 1 ") for line in lines)


def test_too_many_cells_an_unknown_kpi_or_a_varied_run_setting_are_refused_before_anything_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _never_run(monkeypatch)
    values = "[" + ", ".join(str(v) for v in range(1, 12)) + "]"
    many = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", f"layout.entry_lanes={values}",
                               "--vary", f"layout.exit_lanes={values}"])
    assert many.exit_code == 2 and f"121 cells: at most {MAX_CELLS}" in many.output
    kpi = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", "layout.scales=[1, 2]", "--kpi", "happiness"])
    assert kpi.exit_code == 2 and "--kpi happiness: no such KPI" in kpi.output
    seed = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", "run.seed=[1, 2]"])
    assert seed.exit_code == 2 and "run.seed: cannot be varied" in seed.output


def test_a_list_valued_field_varied_with_one_list_is_refused_with_the_list_of_lists_it_needs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _never_run(monkeypatch)
    result = runner.invoke(app, ["sweep", "mong_cai_phase2", "--vary", "layout.scanners=[{type: portal, count: 1}]"])
    assert result.exit_code == 2
    assert "cell 1 (scanners={type: portal, count: 1}): " in result.output and "must be a list" in result.output
    assert "is varied with a list of lists" in result.output


def test_a_malformed_service_target_is_refused_before_anything_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    _never_run(monkeypatch)
    result = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", "layout.scales=[1, 2]", "--meet", "happiness<=3"])
    assert result.exit_code == 2
    assert "--meet 'happiness<=3': no such KPI 'happiness' (one of trucks_arrived" in " ".join(result.output.split())
    result = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", "layout.scales=[1, 2]",
                                 "--meet", "time_at_gate_p95<120"])
    assert result.exit_code == 2 and "a target is a bound, <=" in " ".join(result.output.split())


def test_a_sweep_judges_every_cell_against_its_targets_and_names_the_smallest_meeting_them(tmp_path: Path) -> None:
    out = tmp_path / "sized"
    result = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", "layout.entry_lanes=[1, 2]",
                                 "--vary", "agencies.customs.officers=[4, 12]", "--hours", "10", "--reps", "3",
                                 "--jobs", "1", "--meet", "throughput_per_day>=500", "--meet", "time_at_gate_p95<=400",
                                 "--out", str(out), "--quiet"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv", keep_default_na=False)
    targets = {"throughput_per_day": Target("throughput_per_day", ">=", 500), "time_at_gate_p95":
               Target("time_at_gate_p95", "<=", 400)}
    verdicts: dict[int, list[Verdict]] = {}
    for record in table.to_dict("records"):
        target = targets.get(record["kpi"])
        if target is None:
            assert record["target"] == "" and record["meets"] == ""
            continue
        verdict = target.judge(float(record["mean"]), float(record["low"]), float(record["high"]),
                               int(record["replications"]))
        assert record["meets"] == verdict.value and record["target"] == f"{target.op} {target.bound:g}"
        verdicts.setdefault(int(record["cell"]), []).append(verdict)
    overall = {cell: meets_all(found) for cell, found in verdicts.items()}
    cells = sweep_cells(parse_vary(["layout.entry_lanes=[1, 2]", "agencies.customs.officers=[4, 12]"]))
    meeting = [c for c in (1, 2, 3, 4) if overall[c] is Verdict.MEETS]
    positions = {1: (0, 0), 2: (0, 1), 3: (1, 0), 4: (1, 1)}
    expected = [c for c in meeting if not any(d != c and all(a <= b for a, b in zip(positions[d], positions[c]))
                                              for d in meeting)]
    said = " ".join(result.output.split())
    report = (out / "sweep.md").read_text(encoding="utf-8")
    if expected:
        named = "; ".join(f"cell {c} ({cells[c - 1].label})" for c in expected)
        sentence = (f"Smallest cells meeting throughput_per_day >= 500 and time_at_gate_p95 <= 400 with 95 % "
                    f"confidence: {named}.")
    else:
        sentence = "No cell meets throughput_per_day >= 500 and time_at_gate_p95 <= 400"
    assert sentence in said and sentence in report
    assert overall[4] is not Verdict.FAILS  # two lanes and 12 customs officers clear 500 trucks a day
    assert overall[1] is Verdict.FAILS  # one lane and 4 officers do not
    assert "## Service targets" in report
    assert (out / "targets.png").stat().st_size > 0 and "](targets.png)" in report
    # Swept again without targets into the same folder: no map of targets left from before.
    again = runner.invoke(app, ["sweep", "huu_nghi_2025", "--vary", "layout.entry_lanes=[1, 2]", "--hours", "1",
                                "--reps", "2", "--jobs", "1", "--out", str(out), "--quiet"], env={"COLUMNS": "200"})
    assert again.exit_code == 0, again.output
    assert not (out / "targets.png").exists() and "targets.png" not in (out / "sweep.md").read_text(encoding="utf-8")


def test_the_map_of_the_targets_colours_each_cell_by_its_verdict_and_frames_the_smallest() -> None:
    varies = parse_vary(["layout.entry_lanes=[1, 2]", "agencies.customs.officers=[4, 8, 12]"])
    cells = sweep_cells(varies)
    overall = (Verdict.FAILS, Verdict.FAILS, Verdict.MAY_MEET, Verdict.NOT_MEASURED, Verdict.MEETS, Verdict.MEETS)
    outcome = TargetOutcome((Target("time_at_gate_p95", "<=", 180),), tuple((v,) for v in overall), overall, (4,), ())
    figure = targets_map(outcome, varies, cells)
    [ax] = figure.axes
    squares = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
    assert len(squares) == 6
    for cell, square, verdict in zip(cells, squares, overall, strict=True):
        # The officers across, the lanes down.
        x, y = square.get_x() + square.get_width() / 2, square.get_y() + square.get_height() / 2
        assert (round(x), round(y)) == (["4", "8", "12"].index(cell.values[1][1]), ["1", "2"].index(cell.values[0][1]))
        assert to_hex(square.get_facecolor()) == VERDICT_COLOURS[verdict]
        assert square.get_linewidth() == (3 if cell.index == 4 else 1)
    texts = [text.get_text() for text in ax.texts]
    assert texts[4] == "meets (smallest)\ncell 5" and texts[3] == "not measured\ncell 4"
    assert [label.get_text() for label in ax.get_yticklabels()] == ["entry_lanes=1", "entry_lanes=2"]
    assert ax.get_xlabel() == "officers"

"""The ``gatetwin`` command line.

    gatetwin                         the default scenario, end to end, report in ./out/default
    gatetwin run SCENARIO [--reps N] [--seed S] [--hours H] [--out DIR] [--jobs J]
    gatetwin compare A B [C ...] [--reps N] [--seed S] [--hours H] [--out DIR] [--jobs J]
    gatetwin calibration [--reps N] [--seed S] [--out DIR] [--jobs J] [--check NAME ...]
    gatetwin scenarios list | show NAME | validate NAME_OR_FILE ...
    gatetwin loadtest [...]          load-test the clearance core alone
    gatetwin dashboard [RESULTS_DIR ...] [--port P]   the Streamlit dashboard

Exit codes: 0 done; 1 the run failed or broke an invariant (results are still written), or a
calibration check disagrees with its public figure; 2 bad input (a broken scenario file, an unknown name, a bad option or --out folder, scenarios
of different horizons to compare), one line per problem, before any simulation starts.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scenarios import (
    ScenarioError,
    describe,
    format_errors,
    library_names,
    load_scenario,
    run_settings_in,
    scenario_file,
    scenario_hash,
    scenario_yaml,
    split_variant,
    with_overrides,
    with_settings,
)
from scenarios.schema import MAX_REPLICATIONS, Scenario
from scenarios.values import MAX_SEED
from twin.cli_loadtest import loadtest_command
from twin.compare import few_replications_warning, rich_table
from twin.results import REPORT_FILE, SUMMARY_FILE, ReplicationResult, RunResult
from twin.recovery import (
    RECOVERY_CSV,
    RECOVERY_PLOT,
    RECOVERY_REPORT,
    RecoveryReport,
    disruptions,
    recovery_figure,
    recovery_report,
    undisrupted,
)
from twin.command_reports import (
    RunEntry,
    recovery_lines,
    recovery_notes,
    run_entry,
    write_comparison_report,
    write_recovery_report,
    write_sweep,
    write_sweep_report,
)
from twin.report import WAITS_CAPTION, WAITS_TITLE, headline_lines, headline_notes, wait_lines
from twin.run import InvariantViolation, RunOptions, finish_run, run_cells, run_scenario, usable_cpus
from twin.stats import TRUSTED_REPLICATIONS
from twin.sweep import (
    DEFAULT_KPIS,
    KPI_CHOICES,
    MAX_CELLS,
    SWEEP_CSV,
    SWEEP_PLOT,
    SWEEP_REPORT,
    TARGETS_PLOT,
    cell_scenarios,
    describe_cells,
    format_sweep,
    judge_targets,
    known_kpi,
    parse_targets,
    parse_vary,
    sweep_cells,
    sweep_table,
    targets_grid,
    targets_verdict,
)

app = typer.Typer(help="gatetwin: a digital twin and test-bed for digital road-freight border gates.\n\n"
                       "With no command, gatetwin runs the default scenario (huu_nghi_2025, one day) end to end, "
                       "5 replications, and writes its report to ./out/default.",
                  no_args_is_help=False, add_completion=False)
scenarios_app = typer.Typer(help="The scenario library and scenario files.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")
app.command("loadtest")(loadtest_command)

DEFAULT_SCENARIO = "default"
#: Replications of the default run: enough for 95 % intervals to plan on (``TRUSTED_REPLICATIONS``).
DEFAULT_REPLICATIONS = 5

_SET_HELP = ("Change one field of the scenario, as KEY=VALUE: a dotted path and a YAML value, e.g. "
             "layout.entry_lanes=3 or 'layout.scanners=[{type: drive_through, count: 2}]'. Repeatable.")
def _scenario(source: str, settings: Sequence[str] = (), **overrides: object) -> Scenario:
    """A scenario by library name or path, with ``settings`` (``KEY=VALUE``) applied and then the
    overrides that are not None; ``ScenarioError`` if broken."""
    scenario = with_settings(load_scenario(source), settings)
    changes = {k: v for k, v in overrides.items() if v is not None}
    return with_overrides(scenario, **changes) if changes else scenario


#: The option that gives each run setting beside the changes, and what it gives.
_RUN_OPTIONS = {"horizon_h": ("--hours", "horizon"), "replications": ("--reps", "replications"),
                "seed": ("--seed", "seed")}


def _refuse_clashes(command: str, pairs: Sequence[str], given: Collection[str]) -> None:
    """Refuse a change that sets what an option given sets too (the horizon, the replications,
    the seed: ``given`` names them as ``RUN_SETTINGS`` does): the option would win while the
    variant's name said otherwise. Malformed changes are left to the loading of the scenario,
    which names its file with each error."""
    try:
        clashes = run_settings_in(pairs, "changes")
    except ScenarioError:
        return
    for key, setting in clashes:
        if setting in given:
            option, what = _RUN_OPTIONS[setting]
            _refuse(command, f"{key}: {option} gives the {what} too; give one of them")


def _load(source: str, settings: Sequence[str] = (), **overrides: object) -> Scenario:
    """A scenario by library name or path, with changes; a broken one exits 2, one line per error."""
    try:
        return _scenario(source, settings, **overrides)
    except ScenarioError as err:
        for line in format_errors(err):
            typer.echo(line, err=True)
        raise typer.Exit(code=2) from None


def _refuse(command: str, reason: str) -> NoReturn:
    typer.echo(f"gatetwin {command}: {reason}", err=True)
    raise typer.Exit(code=2)


def _prepare_out(out: Path, command: str) -> None:
    """Create the results folder now: a bad ``--out`` is refused before minutes of simulation, not after."""
    if out.exists() and not out.is_dir():
        _refuse(command, f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _refuse(command, f"--out {out}: cannot create the folder: {exc.strerror or exc}")
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        _refuse(command, f"--out {out}: cannot write in the folder: {exc.strerror or exc}")


def cut_at_a_word(text: str, width: int) -> str:
    """``text`` on one line; if longer than ``width``, cut after a whole word and ended with "…"."""
    words = " ".join(text.split())
    if len(words) <= width:
        return words
    cut = words[: width - 1]
    if " " in cut and words[width - 1] != " ":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


_SCHEDULER_HELP = ("Run the replications on a dask.distributed cluster, e.g. tcp://10.0.0.5:8786 (its workers "
                   "need gatetwin installed, the same version); --jobs is then the cluster's. The results are the same.")
_JOBS_HELP = ("Replications run at once, each in a process of its own (default: one per CPU, "
              "up to the replications). The results do not depend on it.")


def _run(scenario: Scenario, reps: int | None, seed: int | None, out: Path | None, quiet: bool,
         jobs: int | None = None) -> RunResult | None:
    errors = Console(stderr=True)
    total = reps or scenario.run.replications
    workers = min(total, jobs if jobs is not None else usable_cpus())
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True, disable=quiet or not errors.is_terminal) as bar:
        at_once = f", {workers} at once" if workers > 1 else ""
        task = bar.add_task(f"{scenario.name}: {total} replication(s){at_once}", total=total)
        fractions: dict[int, float] = {}  # how far each replication has gone; they run side by side

        def advance(replication: int, fraction: float) -> None:
            fractions[replication] = fraction
            bar.update(task, completed=sum(fractions.values()))

        try:
            return run_scenario(scenario, RunOptions(replications=reps, seed=seed, out=out, jobs=workers),
                                progress=advance)
        except InvariantViolation as exc:
            typer.echo(f"gatetwin: {scenario.name}: {exc}", err=True)
        except RuntimeError as exc:
            typer.echo(f"gatetwin: {scenario.name}: {str(exc).splitlines()[0]}", err=True)
    if out is not None:
        typer.echo(f"results (partial) written to {out}", err=True)
    return None


def _summary_table(run: RunResult) -> Table:
    table = Table(title=f"{run.scenario_name}: {len(run.replications)} replication(s), mean and 95 % CI",
                  caption="\n".join(headline_notes(run)) or None)
    table.add_column("KPI")
    table.add_column("mean", justify="right")
    table.add_column("95 % CI", justify="right")
    table.add_column("unit")
    for line in headline_lines(run):
        table.add_row(line.name, line.mean, line.interval, line.unit)
    return table


def _print_report(run: RunResult) -> None:
    """What ``gatetwin run`` prints once a run is done: the headline KPIs, where trucks waited
    longest, and a warning when the intervals rest on too few replications."""
    console = Console()
    console.print(_summary_table(run))
    waits = _waits_table(run)
    if waits is not None:
        console.print(waits)
    few = few_replications_warning({run.scenario_name: len(run.replications)})
    if few:
        console.print(f"Warning: {few}", highlight=False, markup=False)
    elif len(run.replications) == 1:
        console.print(f"One replication: no 95 % intervals. Give --reps {DEFAULT_REPLICATIONS} (or any number from "
                      f"{TRUSTED_REPLICATIONS}) for intervals to plan on.", highlight=False, markup=False)


def _waits_table(run: RunResult) -> Table | None:
    """Where trucks waited longest: stations and agencies' officers by mean wait, with utilisation."""
    lines = wait_lines(run)
    if not lines:
        return None
    table = Table(title=WAITS_TITLE, caption=WAITS_CAPTION)
    table.add_column("station or agency", no_wrap=True)
    table.add_column("mean wait (min)", justify="right")
    table.add_column("95 % CI", justify="right")
    table.add_column("utilisation", justify="right", min_width=11)
    table.add_column("off shift", justify="right")
    for line in lines:
        table.add_row(line.who, line.mean_wait, line.interval, line.utilisation, line.off_shift)
    return table


@app.callback(invoke_without_command=True)
def main(ctx: typer.Context) -> None:
    """With no command: run the default scenario end to end, ``DEFAULT_REPLICATIONS`` replications,
    and write its report to ./out/default."""
    if ctx.invoked_subcommand is None:
        run(DEFAULT_SCENARIO, reps=DEFAULT_REPLICATIONS, seed=None, hours=None, out=Path("out") / DEFAULT_SCENARIO, quiet=False,
            jobs=None, settings=[], scheduler=None)


@app.command()
def run(
    scenario: str = typer.Argument(..., help="A library name (see 'gatetwin scenarios list') or a YAML file."),
    reps: int | None = typer.Option(None, "--reps", min=1, max=MAX_REPLICATIONS, help="Replications (default: the scenario's)."),
    seed: int | None = typer.Option(None, "--seed", min=0, max=MAX_SEED, help="Seed (default: the scenario's)."),
    hours: float | None = typer.Option(None, "--hours", min=0.1, help="Simulated hours (default: the scenario's)."),
    out: Path | None = typer.Option(None, "--out", help="Write results here (default: ./out/<scenario>)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help=_JOBS_HELP),
    settings: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=_SET_HELP),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", show_default=False,
                                         help=_SCHEDULER_HELP),
) -> None:
    """Run a scenario and write its report (report.md; trucks, stations, series, summary.json, plots, scenario.yaml)."""
    _refuse_clashes("run", settings, [s for s, v in (("horizon_h", hours), ("replications", reps), ("seed", seed))
                                      if v is not None])
    loaded = _load(scenario, settings, horizon_h=hours)
    out_dir = out if out is not None else Path("out") / loaded.name
    _prepare_out(out_dir, "run")
    if scheduler is None:
        result = _run(loaded, reps, seed, out_dir, quiet, jobs)
    else:
        result = _run_on_cluster(loaded, reps, seed, out_dir, quiet, scheduler)
    if result is None:
        raise typer.Exit(code=1)
    _print_report(result)
    typer.echo(f"report written to {out_dir / REPORT_FILE}, beside the run's files")


def _run_on_cluster(scenario: Scenario, reps: int | None, seed: int | None, out: Path, quiet: bool,
                    scheduler: str) -> RunResult | None:
    """``_run`` with the replications on a dask.distributed cluster: the same run, the same files."""
    total = reps or scenario.run.replications
    common_seed = scenario.run.seed if seed is None else seed
    ((replications, failed),) = _run_cells([scenario], total, common_seed, None, scheduler, quiet,
                                           f"{scenario.name}: {total} replication(s) on {scheduler}", command="run")
    try:
        return finish_run(scenario, replications, failed, common_seed, total,
                          RunOptions(replications=total, seed=common_seed, out=out))
    except InvariantViolation as exc:
        typer.echo(f"gatetwin: {scenario.name}: {exc}", err=True)
    except RuntimeError as exc:
        typer.echo(f"gatetwin: {scenario.name}: {str(exc).splitlines()[0]}", err=True)
    typer.echo(f"results (partial) written to {out}", err=True)
    return None


_COMPARE_HELP = (
    "Run layouts with the same seeds and compare every KPI, with paired confidence intervals.\n\n"
    "Scenarios of different horizons (run.horizon_h) are refused before anything runs, since totals over "
    "4 h and over 8 h are not comparable: give --hours to run them all for as long.\n\n"
    "A variant of a scenario is written SCENARIO+KEY=VALUE[+KEY=VALUE...], e.g. "
    "harvest_peak+layout.entry_lanes=3+layout.exit_lanes=3; --set changes every scenario alike."
)


@app.command(help=_COMPARE_HELP)
def compare(
    scenarios: list[str] = typer.Argument(..., help="Two or more library names or YAML files, or variants of one "
                                          "(NAME+KEY=VALUE...); the first is the baseline."),
    reps: int = typer.Option(5, "--reps", min=2, max=MAX_REPLICATIONS, help="Replications per scenario (replication r of each run is paired with r of the baseline)."),
    seed: int | None = typer.Option(None, "--seed", min=0, max=MAX_SEED, show_default=False,
                                    help="One seed for every scenario: common random numbers "
                                         "(default: the first scenario's seed, used for all)."),
    hours: float | None = typer.Option(None, "--hours", min=0.1, show_default=False,
                                       help="Simulated hours for every scenario (default: each scenario's "
                                            "own horizon, which must then be the same for all)."),
    out: Path | None = typer.Option(None, "--out", show_default=False,
                                    help="Write the table, chart, report (comparison.md) and each run here "
                                         "(default: none; the table is only printed)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help=_JOBS_HELP),
    settings: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=_SET_HELP + " Applies to every scenario."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", show_default=False,
                                         help=_SCHEDULER_HELP),
) -> None:
    """Run layouts with the same seeds and compare every KPI (see ``_COMPARE_HELP``)."""
    from twin.compare import (
        COMPARISON_CSV,
        COMPARISON_PLOT,
        clear_comparison,
        compare_runs,
        comparison_plot,
        format_table,
        run_folder_names,
    )
    from twin.plots import save_figure

    if len(scenarios) < 2:
        _refuse("compare", "give at least two scenarios")
    # --reps always has a value here: a change of the replications would always be overridden.
    _refuse_clashes("compare", [*settings, *(c for spec in scenarios for c in split_variant(spec)[1])],
                    ["replications", *(s for s, v in (("horizon_h", hours), ("seed", seed)) if v is not None)])
    # Every scenario is read before any runs, and every error of every file is reported.
    loaded: list[Scenario] = []
    # A variant is labelled as it was written: its scenario's own name, then what it changes
    # (``--set``, the same for every scenario, is left out).
    labels: list[str] = []
    problems: list[str] = []
    for index, spec in enumerate(scenarios):
        source, changes = split_variant(spec)
        try:
            base = load_scenario(source)
            variant = with_settings(base, [*settings, *changes])
            loaded.append(with_overrides(variant, horizon_h=hours) if hours is not None else variant)
        except ScenarioError as err:
            problems += format_errors(err)
            continue
        labels.append(f"{index + 1}:{base.name}" + "".join(f"+{change}" for change in changes))
    if problems:
        for line in problems:
            typer.echo(line, err=True)
        raise typer.Exit(code=2)
    if len({s.run.horizon_h for s in loaded}) > 1:
        horizons = ", ".join(f"{i + 1}:{s.name} {s.run.horizon_h:g} h" for i, s in enumerate(loaded))
        _refuse("compare", f"the scenarios simulate different horizons ({horizons}); give --hours to run them all for as long")
    folders = run_folder_names([s.name for s in loaded])
    if out is not None:
        _prepare_out(out, "compare")
        clear_comparison(out, [s.name for s in loaded])
    common_seed = seed if seed is not None else loaded[0].run.seed
    outcomes = _run_cells(loaded, reps, common_seed, jobs, scheduler, quiet,
                          f"compare: {len(loaded)} runs x {reps} replications", command="compare")
    runs, entries = _finish_runs(loaded, [f"gatetwin: {s.name}" for s in loaded], labels, folders, outcomes, reps,
                                 common_seed, out, lambda entries, folder: write_comparison_report(entries, None, folder))
    table = compare_runs(runs, labels)
    typer.echo(format_table(table))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / COMPARISON_CSV, index=False)
        save_figure(comparison_plot(table), out / COMPARISON_PLOT)
        report = write_comparison_report(entries, table, out)
        typer.echo(f"comparison written to {out}; its report: {report}")


_RECOVERY_HELP = (
    "How far behind a scenario's disruptions (its scheduled device outages, closures and AGV partner closures) "
    "leave the gate, and how long it takes to catch up and to have its waits back to normal.\n\n"
    "The scenario runs twice with the same seeds: as given, and without its disruptions. 'Trucks behind' at a time "
    "is the trucks the undisrupted gate had cleared by then less those the disrupted one had. The table gives the "
    "backlog when the disruptions ended, its peak, the hours until the gate had caught up (cleared as many trucks "
    "as without the disruptions), the truck-hours of departure lost, the pace the backlog was worked off, and the "
    "hours until trucks arriving spent no longer at the gate than without the disruptions, each with its 95 % "
    "interval over the replications. With --out, writes recovery.csv (a row per replication), recovery.png (the "
    "trucks behind and the time at the gate over time), recovery.md (its report) and both runs' results."
)


@app.command(help=_RECOVERY_HELP)
def recovery(
    scenario: str = typer.Argument(..., help="A library name or a YAML file with device outages or closures."),
    reps: int = typer.Option(5, "--reps", min=1, max=MAX_REPLICATIONS, help="Replications (replication r of each run shares its seed)."),
    seed: int | None = typer.Option(None, "--seed", min=0, max=MAX_SEED, help="Seed (default: the scenario's)."),
    hours: float | None = typer.Option(None, "--hours", min=0.1, help="Simulated hours (default: the scenario's)."),
    out: Path | None = typer.Option(None, "--out", show_default=False,
                                    help="Write the table, chart, report (recovery.md) and both runs here "
                                         "(default: none; the table is only printed)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help=_JOBS_HELP),
    settings: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=_SET_HELP),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", show_default=False,
                                         help=_SCHEDULER_HELP),
) -> None:
    """The scenario against itself without its disruptions, with the same seeds (see ``_RECOVERY_HELP``)."""
    from twin.compare import clear_comparison, replication_ids, run_folder_names
    from twin.plots import save_figure

    _refuse_clashes("recovery", settings, ["replications", *(s for s, v in (("horizon_h", hours), ("seed", seed))
                                                             if v is not None)])
    loaded = _load(scenario, settings, horizon_h=hours)
    found = disruptions(loaded)
    if not found:
        _refuse("recovery", f"{loaded.name} has no device outage (devices.outages), closure (closures) or AGV partner "
                            "closure (layout.agv_lane.partner_closures) to recover from")
    runs = [undisrupted(loaded), loaded]
    folders = run_folder_names([s.name for s in runs])
    if out is not None:
        _prepare_out(out, "recovery")
        clear_comparison(out, [s.name for s in runs])
        for stale in (out / RECOVERY_CSV, out / RECOVERY_PLOT, out / RECOVERY_REPORT):
            stale.unlink(missing_ok=True)
    common_seed = seed if seed is not None else loaded.run.seed
    outcomes = _run_cells(runs, reps, common_seed, jobs, scheduler, quiet,
                          f"recovery: {loaded.name} with and without its disruptions x {reps} replications",
                          command="recovery")
    (base, disrupted), entries = _finish_runs(
        runs, [f"gatetwin: {s.name}" for s in runs], ["without its disruptions", "as given"], folders, outcomes,
        reps, common_seed, out, lambda entries, folder: write_recovery_report(loaded.name, found, entries, None, folder))
    report = recovery_report(loaded, [r.trucks for r in disrupted.replications],
                             [r.trucks for r in base.replications],
                             replication_ids(disrupted))
    _print_recovery(report)
    if out is not None:
        report.table().to_csv(out / RECOVERY_CSV, index=False)
        save_figure(recovery_figure(report), out / RECOVERY_PLOT)
        written = write_recovery_report(loaded.name, found, entries, report, out)
        typer.echo(f"recovery written to {out}; its report: {written}")


def _print_recovery(report: RecoveryReport) -> None:
    """The recovery table on the console: each figure's mean and 95 % interval (``recovery_lines``),
    the disruptions, and what the figures rest on (``recovery_notes``)."""
    console = Console()
    n = len(report.recoveries)
    table = Table(title=f"recovery: {report.scenario_name}, {n} replication(s), against the same gate without "
                        "its disruptions (same seeds), mean and 95 % CI")
    table.add_column("figure")
    table.add_column("mean", justify="right")
    table.add_column("95 % CI", justify="right")
    table.add_column("unit")
    for line in recovery_lines(report):
        table.add_row(line.name, line.mean, line.interval, line.unit)
    console.print(table)
    for disruption in report.disruptions:
        console.print(f"disruption: {disruption.what}", highlight=False, markup=False)
    for note in recovery_notes(report):
        console.print(note, highlight=False, markup=False)
    few = few_replications_warning({report.scenario_name: n})
    if few:
        console.print(f"Warning: {few}", highlight=False, markup=False)
    elif n == 1:
        console.print(f"One replication: no 95 % intervals. Give --reps {DEFAULT_REPLICATIONS} (or any number from "
                      f"{TRUSTED_REPLICATIONS}) for intervals to plan on.", highlight=False, markup=False)


#: Seconds ``--scheduler`` waits to reach the cluster before it gives up.
CLUSTER_TIMEOUT_S = 20.0


def _run_cells(scenarios: Sequence[Scenario], reps: int, seed: int, jobs: int | None, scheduler: str | None,
               quiet: bool, title: str, command: str = "sweep") -> list[tuple[list[ReplicationResult], str | None]]:
    """Every replication of every scenario: on a dask cluster (``scheduler``), in a pool of
    ``jobs`` processes, or here one after another (``jobs`` 1); with a progress bar."""
    errors = Console(stderr=True)
    total = len(scenarios) * reps
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total} replications"), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True, disable=quiet or not errors.is_terminal) as bar:
        task = bar.add_task(title, total=total)

        def advance(done: int, _total: int) -> None:
            bar.update(task, completed=done)

        if scheduler is not None:
            try:
                from distributed import Client
            except ImportError:
                _refuse(command, "--scheduler needs dask.distributed: pip install 'gatetwin[cluster]'")
            try:
                client = Client(scheduler, timeout=CLUSTER_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as exc:
                _refuse(command, f"--scheduler {scheduler}: cannot reach the cluster: {exc}")
            with client:
                return run_cells(scenarios, reps, seed, client.get_executor(), advance)
        workers = min(total, jobs if jobs is not None else usable_cpus())
        if workers <= 1:
            return run_cells(scenarios, reps, seed, None, advance)
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            return run_cells(scenarios, reps, seed, pool, advance)


def _finish_runs(scenarios: Sequence[Scenario], names: Sequence[str], labels: Sequence[str], folders: Sequence[str],
                 outcomes: Sequence[tuple[list[ReplicationResult], str | None]], reps: int, seed: int,
                 out: Path | None, report: Callable[[list[RunEntry], Path], Path] | None = None,
                 ) -> tuple[list[RunResult], list[RunEntry]]:
    """Each run of ``_run_cells`` summarised, checked and written (into ``out``/its folder), with
    its entry in the command's report (``labels`` say what the command calls each run); when
    any failed, each failure on a line of its own (``names`` say whose), the command's report
    written by ``report`` (into ``out``), where the partial results are, and exit code 1."""
    runs: list[RunResult] = []
    entries: list[RunEntry] = []
    failures: list[str] = []
    for scenario, name, label, folder, (replications, failed) in zip(scenarios, names, labels, folders, outcomes,
                                                                     strict=True):
        options = RunOptions(replications=reps, seed=seed, out=out / folder if out is not None else None)
        try:
            result = finish_run(scenario, replications, failed, seed, reps, options)
        except (InvariantViolation, RuntimeError) as exc:  # what finished is written
            # Broken invariants are named in full; a replication that failed, by its error's first line.
            said = str(exc) if isinstance(exc, InvariantViolation) else str(exc).splitlines()[0]
            failures.append(f"{name}: {said}")
            entries.append(RunEntry(label, scenario.name, scenario_hash(scenario), seed, scenario.run.horizon_h,
                                    len(replications), reps, folder, str(exc) or "no reason recorded"))
            continue
        runs.append(result)
        entries.append(run_entry(label, result, folder))
    if failures:
        for line in failures:
            typer.echo(line, err=True)
        if out is not None:
            if report is not None:
                typer.echo(f"report written to {report(entries, out)}", err=True)
            typer.echo(f"results (partial) written to {out}", err=True)
        raise typer.Exit(code=1)
    return runs, entries


_SWEEP_HELP = (
    "Run a scenario over a grid of values and compare every cell with the first, with the same seeds.\n\n"
    "Each --vary gives a field and the values to try as a YAML list, e.g. --vary 'layout.entry_lanes=[2, 3, 4]' "
    "--vary 'layout.scanners=[[{type: drive_through, count: 1}], [{type: drive_through, count: 2}]]'. Every "
    "combination is a cell, the first field varying slowest; cell 1 (the first value of each) is the baseline. "
    f"At most {MAX_CELLS} cells. With --out, writes sweep.csv, sweep.png, sweep.md (its report), with --meet "
    "targets.png (the map of the cells' verdicts), and a results folder per cell."
)


@app.command(help=_SWEEP_HELP)
def sweep(
    scenario: str = typer.Argument(..., help="A library name or a YAML file."),
    vary: list[str] = typer.Option(..., "--vary", metavar="KEY=[V1, V2, ...]",
                                   help="A field and the values to try, a YAML list. Repeatable: every combination runs."),
    kpis: list[str] = typer.Option([], "--kpi", metavar="NAME",
                                   help=f"A KPI to show and plot (repeatable; default: {', '.join(DEFAULT_KPIS)}). "
                                        "sweep.csv holds every KPI."),
    reps: int = typer.Option(5, "--reps", min=2, max=MAX_REPLICATIONS, help="Replications per cell (replication r of every cell has the same seed)."),
    seed: int | None = typer.Option(None, "--seed", min=0, max=MAX_SEED, show_default=False,
                                    help="One seed for every cell (default: the scenario's)."),
    hours: float | None = typer.Option(None, "--hours", min=0.1, show_default=False,
                                       help="Simulated hours (default: the scenario's)."),
    out: Path | None = typer.Option(None, "--out", show_default=False,
                                    help="Write sweep.csv, sweep.png, sweep.md and each cell's results here "
                                         "(default: none; the table is only printed)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help=_JOBS_HELP),
    settings: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=_SET_HELP + " Applies to every cell."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS", show_default=False,
                                         help=_SCHEDULER_HELP),
    meet: list[str] = typer.Option([], "--meet", metavar="KPI<=N|KPI>=N",
                                   help="A service target, e.g. 'time_at_gate_p95<=120' or 'throughput_per_day>=2400' "
                                        "(repeatable): each cell is judged against it from its 95 % interval, and the "
                                        "smallest cells meeting every target are named (list each field's values "
                                        "from the smallest)."),
) -> None:
    """Run a scenario over a grid of values (see ``_SWEEP_HELP``)."""
    from twin.compare import clear_comparison, compare_runs, run_folder_names

    _refuse_clashes("sweep", settings, ["replications", *(s for s, v in (("horizon_h", hours), ("seed", seed))
                                                         if v is not None)])
    unknown = [k for k in kpis if not known_kpi(k)]
    if unknown:
        _refuse("sweep", f"--kpi {', '.join(unknown)}: no such KPI ({KPI_CHOICES})")
    try:
        targets = parse_targets(meet)
    except ValueError as exc:
        for line in str(exc).splitlines()[:-1]:
            typer.echo(f"gatetwin sweep: {line}", err=True)
        _refuse("sweep", str(exc).splitlines()[-1])
    try:
        varies = parse_vary(vary)
    except ScenarioError as err:
        for line in format_errors(err):
            typer.echo(line, err=True)
        raise typer.Exit(code=2) from None
    cells = sweep_cells(varies)
    if len(cells) > MAX_CELLS:
        _refuse("sweep", f"{len(cells)} cells: at most {MAX_CELLS}; sweep fewer values, or in parts")
    base = _load(scenario, settings)
    # Every cell is made and checked before any runs, and every error of every cell is reported.
    loaded, problems = cell_scenarios(base, cells, hours)
    if problems:
        for line in problems:
            typer.echo(line if line.startswith("cell ") else f"gatetwin sweep: {line}", err=True)
        raise typer.Exit(code=2)
    folders = run_folder_names([s.name for s in loaded])
    if out is not None:
        _prepare_out(out, "sweep")
        clear_comparison(out, [s.name for s in loaded])
        for stale in (out / SWEEP_CSV, out / SWEEP_PLOT, out / SWEEP_REPORT, out / TARGETS_PLOT):
            stale.unlink(missing_ok=True)
    common_seed = seed if seed is not None else base.run.seed
    shown = kpis or list(DEFAULT_KPIS)
    outcomes = _run_cells(loaded, reps, common_seed, jobs, scheduler, quiet,
                          f"sweep of {base.name}: {describe_cells(cells, reps)} (seed {common_seed})")
    runs, entries = _finish_runs(
        loaded, [f"gatetwin sweep: cell {cell.index + 1} ({cell.label})" for cell in cells],
        [cell.label for cell in cells], folders, outcomes, reps, common_seed, out,
        lambda entries, folder: write_sweep_report(base.name, varies, cells, entries, None, shown, settings, folder))
    table = sweep_table(compare_runs(runs, [cell.label for cell in cells]), cells)
    typer.echo(format_sweep(table, shown))
    outcome = judge_targets(table, varies, cells, targets) if targets else None
    if outcome is not None:
        console = Console(width=max(100, 16 * len(cells[0].values) + 24 * len(targets) + 30))
        console.print(rich_table(targets_grid(outcome, cells)))
        console.print(targets_verdict(outcome, cells), highlight=False, markup=False)
    if out is not None:
        report = write_sweep(base.name, varies, cells, entries, table, shown, settings, out, outcome)
        typer.echo(f"sweep written to {out}; its report: {report}")


_CALIBRATION_HELP = (
    "Run the library scenarios and hold them to the public figures they cite (docs/DOMAIN.md): Huu Nghi and "
    "Mong Cai trucks a day, the harvest-peak demand, the customs channel shares, plate-camera reads, the "
    "scanner's rate, the automated border check, the fees, the Tet closure and surge.\n\n"
    "Each check runs its scenario for the horizon it needs (a day after a day's warm-up for figures per day, "
    "11 days for Tet), so there is no --hours. Prints the table and writes calibration.csv, "
    "calibration.json and calibration.md (its report) to --out. Exit code 0 when every check agrees, 1 when one disagrees or its run failed, "
    "2 for bad input."
)


@app.command(help=_CALIBRATION_HELP)
def calibration(
    reps: int = typer.Option(5, "--reps", min=1, max=MAX_REPLICATIONS, help="Replications of each scenario."),
    seed: int | None = typer.Option(None, "--seed", min=0, max=MAX_SEED, show_default=False,
                                    help="One seed for every scenario (default: each scenario's own)."),
    out: Path = typer.Option(Path("out") / "calibration", "--out", help="Write calibration.csv and .json here."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1,
                                    help="Replications run at once, of all the scenarios, each in a process of its "
                                         "own (default: one per CPU). The results do not depend on it."),
    only: list[str] = typer.Option([], "--check", metavar="NAME", help="Run only this check (repeatable)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Hold the library scenarios to the public figures they cite (see ``_CALIBRATION_HELP``)."""
    from twin import calibration as cal

    known = {check.name: check for check in cal.CHECKS}
    unknown = [name for name in only if name not in known]
    if unknown:
        _refuse("calibration", f"no check named {', '.join(unknown)}; checks: {', '.join(known)}")
    checks = [known[name] for name in dict.fromkeys(only)] if only else list(cal.CHECKS)
    _prepare_out(out, "calibration")
    errors = Console(stderr=True)
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True, disable=quiet or not errors.is_terminal) as bar:
        task = bar.add_task("calibration: replications", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = cal.run_calibration(checks, cal.RUNS, reps, seed, jobs if jobs is not None else usable_cpus(),
                                         advance)
        except ScenarioError as err:
            for line in format_errors(err):
                typer.echo(line, err=True)
            raise typer.Exit(code=2) from None
    cal.write_calibration(report, out)
    table = Table(title=f"calibration: {reps} replication(s) per scenario, {cal.seeds_text(report)}, 95 % intervals",
                  caption=cal.RULES_CAPTION)
    for name in cal.CHECKS_HEADER:
        table.add_column(name, justify="right" if name.startswith(("measured", "public")) else "left",
                         no_wrap=name in ("check", "scenario", "verdict"))
    for row in cal.check_rows(report):
        colour = "green" if row[7] == "agrees" else "red"
        table.add_row(*row[:7], f"[{colour}]{row[7]}[/{colour}]", row[8])
    Console(width=max(200, Console().width)).print(table)
    for result in report.results:
        if result.error:
            typer.echo(f"gatetwin calibration: {result.check.name}: {result.error.splitlines()[0]}", err=True)
    disagree = [r.check.name for r in report.results if not r.agrees]
    typer.echo(f"calibration written to {out}")
    if disagree:
        typer.echo(f"{len(disagree)} of {len(report.results)} checks disagree: {', '.join(disagree)}", err=True)
        raise typer.Exit(code=1)


@scenarios_app.command("list")
def scenarios_list() -> None:
    """The library's scenarios, with their site and description."""
    table = Table(title="scenario library")
    table.add_column("name")
    table.add_column("site")
    table.add_column("trucks/day", justify="right")
    table.add_column("description")
    for name in library_names():
        s = load_scenario(name)
        table.add_row(name, s.site, f"{s.demand.trucks_per_day:,.0f}", cut_at_a_word(s.description, 80))
    Console(width=160).print(table)


@scenarios_app.command("show")
def scenarios_show(name: str = typer.Argument(..., help="A library name or a YAML file."),
                   as_json: bool = typer.Option(False, "--json", help="The validated scenario as JSON."),
                   as_yaml: bool = typer.Option(False, "--yaml", help="The validated scenario as a scenario file, "
                                                                       "every field written out: a start for one's own."),
                   settings: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=_SET_HELP)) -> None:
    """What a scenario describes (or its full validated content with --json or --yaml)."""
    if as_json and as_yaml:
        _refuse("scenarios show", "give --json or --yaml, not both")
    scenario = _load(name, settings)
    if as_json:
        typer.echo(json.dumps(scenario.model_dump(mode="json"), indent=2, ensure_ascii=False))
    elif as_yaml:
        typer.echo(scenario_yaml(scenario, f"{scenario.name}, from {scenario_file(split_variant(name)[0])}"
                                           f"{' with ' + ', '.join(settings) if settings else ''}: every field written "
                                           "out, defaults included."), nl=False)
    else:
        typer.echo(describe(scenario))
        typer.echo(f"\nfile: {scenario_file(name)}")


@scenarios_app.command("validate")
def scenarios_validate(sources: list[str] = typer.Argument(..., help="Library names or scenario YAML files.")) -> None:
    """Check scenarios: 'ok' per good one (a library name says its file); one line per error (exit code 2) otherwise."""
    bad = False
    for source in sources:
        try:
            file = scenario_file(source)
            load_scenario(source)
            typer.echo(f"{source}: ok" if file == source else f"{source} ({file}): ok")
        except ScenarioError as err:
            bad = True
            for line in format_errors(err):
                typer.echo(line, err=True)
    if bad:
        raise typer.Exit(code=2)


# --- gatetwin dashboard -------------------------------------------------------------------------
# twin/ never imports the dashboard (ARCHITECTURE.md): the command finds the dashboard's entry
# script as a file and serves it with Streamlit in a child process. The two sides share only the
# environment variables below, which the dashboard reads from here.

#: Results folders the dashboard opens when a session starts, separated by ``os.pathsep``.
DASHBOARD_RESULTS_ENV = "GATETWIN_RESULTS"
#: Where runs started from the dashboard write their results.
DASHBOARD_RUNS_ENV = "GATETWIN_DASHBOARD_RUNS"
DASHBOARD_RUNS_DIR = Path("out") / "dashboard"


def dashboard_app_path() -> Path:
    """The dashboard's entry script, ``dashboard/app.py``, found without importing the dashboard."""
    spec = importlib.util.find_spec("dashboard")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the 'dashboard' package is not installed alongside gatetwin")
    path = Path(next(iter(spec.submodule_search_locations))) / "app.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the dashboard's entry script is missing")
    return path


def dashboard_invocation(results: Sequence[Path], port: int, address: str, headless: bool, runs_dir: Path,
                         base: Mapping[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the dashboard on ``address:port``.

    Streamlit runs with this interpreter, so the dashboard sees the packages the CLI sees.
    A folder written by ``gatetwin compare --out`` opens as its runs. Raises ``ValueError`` for a
    bad port or the first folder that is neither a results folder nor a comparison's.
    """
    from twin.compare import comparison_run_folders

    if not 1 <= port <= 65535:
        raise ValueError(f"--port must be 1-65535 (got {port})")
    for folder in results:
        if not folder.exists():
            raise ValueError(f"{folder}: no such folder")
        if not folder.is_dir():
            raise ValueError(f"{folder}: not a folder")
        if not (folder / SUMMARY_FILE).is_file() and not comparison_run_folders(folder):
            raise ValueError(f"{folder}: not a gatetwin results folder (no {SUMMARY_FILE}); write one with 'gatetwin run --out'")
    command = [
        sys.executable, "-m", "streamlit", "run", str(dashboard_app_path()),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",  # stakeholders see no developer menu or Deploy button
    ]
    environment = dict(os.environ if base is None else base)
    environment[DASHBOARD_RESULTS_ENV] = os.pathsep.join(str(folder.resolve()) for folder in results)
    environment[DASHBOARD_RUNS_ENV] = str(runs_dir.resolve())
    return command, environment


@app.command()
def dashboard(
    results: list[Path] | None = typer.Argument(None, help="Results folders (from 'gatetwin run --out', or 'gatetwin compare --out' for all its runs) to open at start.",
                                                show_default=False),
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port to serve the dashboard on."),
    address: str = typer.Option("127.0.0.1", "--address", help="Address to listen on; 0.0.0.0 shares it on the network."),
    runs_dir: Path = typer.Option(DASHBOARD_RUNS_DIR, "--runs-dir", help="Where runs started from the dashboard are saved."),
    headless: bool = typer.Option(False, "--headless", help="Do not open a browser window."),
) -> None:
    """Serve the Streamlit dashboard until interrupted (Ctrl-C, or SIGTERM to this process)."""
    try:
        command, environment = dashboard_invocation(list(results or []), port, address, headless, runs_dir)
    except (ValueError, FileNotFoundError) as exc:
        typer.echo(f"gatetwin dashboard: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"gatetwin dashboard: serving on http://{address}:{port} (Ctrl-C stops it)", err=True)
    raise typer.Exit(code=serve(command, environment))


#: Signals that stop the dashboard; the command passes them on to Streamlit.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)
#: Seconds Streamlit gets to shut down after a stop signal before it is killed.
STOP_GRACE_S = 15.0


def serve(command: list[str], environment: dict[str, str], grace_s: float = STOP_GRACE_S) -> int:
    """Run ``command`` (the Streamlit server) until it exits or this process is told to stop.

    The server runs in a process group of its own. SIGINT (Ctrl-C) and SIGTERM (``kill PID``)
    sent to this process are passed on to that whole group, and the command waits for the
    server to shut down, killing the group if it is still there ``grace_s`` seconds later: the
    command never returns with the server still serving. The exit code is the server's, 0 when
    it stopped as asked, or 128 plus the signal that ended it otherwise.
    """
    received: list[int] = []
    server: subprocess.Popen[bytes] | None = None

    def stop(signum: int, frame: object) -> None:
        received.append(signum)
        if server is not None:
            _signal_group(server.pid, signum)

    handle = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS} if handle else {}
    try:
        server = subprocess.Popen(command, env=environment, process_group=0)
        if received:  # a signal came while the server was starting
            _signal_group(server.pid, received[0])
        deadline: float | None = None
        while True:
            try:
                code = server.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if received and deadline is None:
                    deadline = time.monotonic() + grace_s
                if deadline is not None and time.monotonic() > deadline:
                    _signal_group(server.pid, signal.SIGKILL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received and (code == 0 or -code in received):
        return 0
    return 128 - code if code < 0 else code


def _signal_group(leader: int, signum: int) -> None:
    """Send ``signum`` to the process group led by ``leader`` (gone already: nothing to do)."""
    try:
        os.killpg(leader, signum)
    except ProcessLookupError:
        pass


if __name__ == "__main__":  # python -m twin.cli, as the gatetwin command
    app()

"""``gatetwin loadtest``: load-test the clearance core from the command line.

``loadtest_command`` is a plain function with typer options; ``twin.cli`` registers it with
``app.command("loadtest")(loadtest_command)``. The exit code is 0 when nothing was lost, the
core's books are consistent and the audit chain verifies (and, in max mode, every visit ran to its
end); 1 otherwise; 2 for bad options.
"""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.loadtest import LoadConfig, LoadMode, LoadReport, available_memory_mb, check_memory, run
from twin.visitgen import NAMED_MIXES, parse_mix


#: Options that mean something in one mode only, by mode.
MODE_OPTIONS: dict[LoadMode, tuple[tuple[str, str], ...]] = {
    LoadMode.RATE: (("rate", "--rate"), ("duration", "--duration")),
    LoadMode.MAX: (("visits", "--visits"),),
}


def loadtest_command(
    ctx: typer.Context,
    mode: LoadMode = typer.Option(LoadMode.MAX, "--mode", help="max: as fast as possible; rate: hold --rate for --duration."),
    rate: float = typer.Option(10_000.0, "--rate", help="Rate mode: target events per second."),
    duration: float = typer.Option(10.0, "--duration", help="Rate mode: seconds to hold the rate."),
    visits: int | None = typer.Option(
        None, "--visits", help="Max mode: visits declared in all; each runs to its end (default: 2000, or "
                               "twice --open when that is more)."),
    open_visits: int = typer.Option(100, "--open", help="Visits open at once (e.g. 100, 10000, 100000)."),
    bad_share: float = typer.Option(0.02, "--bad-share", help="Share of visits meeting one piece of bad input."),
    seed: int = typer.Option(1, "--seed", help="Seed of every random choice; same seed, same stream."),
    mix: str = typer.Option("national", "--mix",
                            help=f"A named mix ({', '.join(NAMED_MIXES)}) and/or shares, e.g. 'lang-son,agv=0.2'."),
    gps_feed_s: float | None = typer.Option(
        None, "--gps-feed-s", help="GPS positions through a telematics feed delivering a batch every SECONDS "
                                   "(default: one GpsPing per position)."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    memory: bool = typer.Option(True, "--memory/--no-memory", help="Measure bytes per open visit (tracemalloc pass)."),
    gc_freeze: bool = typer.Option(True, "--gc-freeze/--no-gc-freeze",
                                   help="gc.freeze() after recording each chunk, so full collections skip the "
                                        "recorded stream (and the visits open at that moment)."),
) -> None:
    """Replay recorded visits through the clearance core and report its speed, memory and integrity."""
    try:
        _refuse_other_mode_options(ctx, mode)
        if visits is None:
            visits = max(2_000, 2 * open_visits)
        config = LoadConfig(mode=mode, visits=visits, open_visits=open_visits, rate=rate, duration_s=duration,
                            bad_share=bad_share, seed=seed, mix=parse_mix(mix), measure_memory=memory,
                            gc_freeze=gc_freeze, gps_feed_s=gps_feed_s)
        check_memory(open_visits, available_memory_mb())
    except ValueError as exc:
        typer.echo(f"gatetwin loadtest: {exc}", err=True)
        raise typer.Exit(code=2) from None
    errors = Console(stderr=True)
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    unit = "events" if mode is LoadMode.RATE else "visits"
    with Progress(*columns, console=errors, transient=True, disable=json_output or not errors.is_terminal) as bar:
        task = bar.add_task(f"loadtest ({unit})", total=None)
        report = run(config, on_chunk=lambda done, total: bar.update(task, completed=done, total=total))
    if json_output:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        show(report, Console())
    if not report.ok:
        raise typer.Exit(code=1)


def _refuse_other_mode_options(ctx: typer.Context, mode: LoadMode) -> None:
    """An option of the other mode, given, would be silently ignored: ``--rate 50000`` without
    ``--mode rate`` would run as fast as possible and report no rate at all."""
    for other, options in MODE_OPTIONS.items():
        given = [flag for name, flag in options if _from_command_line(ctx, name)]
        if other is not mode and given:
            verb = "applies" if len(given) == 1 else "apply"
            raise ValueError(f"{', '.join(given)}: {verb} to --mode {other.value} only (got --mode {mode.value})")


def _from_command_line(ctx: typer.Context, name: str) -> bool:
    # By name: typer ships its own copy of click, whose ParameterSource is not click's.
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def show(report: LoadReport, console: Console) -> None:
    """The report as tables for a person at a terminal."""
    summary = Table(title=f"core load test ({report.mode} mode, {report.open_target:,} open, seed {report.seed})",
                    show_header=False)
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("events handled", f"{report.events:,}"),
        ("visits completed / open / awaiting acceptance / declared",
         f"{report.visits_completed:,} / {report.visits_open:,} / {report.visits_awaiting_acceptance:,} / "
         f"{report.visits_declared:,}"),
        ("events per second (wall clock)", f"{report.events_per_s:,.0f}"),
        ("events per CPU second", f"{report.cpu_events_per_s:,.0f}"),
        ("visits per second", f"{report.visits_per_s:,.1f}"),
        ("handle latency P50 / P99 / max (us)", f"{report.p50_us:,.1f} / {report.p99_us:,.1f} / {report.max_us:,.0f}"),
    ]
    if report.target_rate is not None:
        rows += [("target / achieved rate (events/s)", f"{report.target_rate:,.0f} / {report.achieved_rate:,.0f}"),
                 ("lag P99 / max (ms)", f"{report.lag_p99_ms:,.2f} / {report.lag_max_ms:,.2f}"),
                 ("kept up", "yes" if report.kept_up else "NO")]
    if report.gps_feed_s is not None:
        rows.append(("GPS positions in telematics batches", f"{report.gps_positions:,} (a batch every {report.gps_feed_s:g} s)"))
    if report.bytes_per_open_visit is not None:
        rows.append(("memory per open visit", f"{report.bytes_per_open_visit:,.0f} B (at {report.memory_open_visits:,} open)"))
    rows += [
        ("peak RSS (process)", f"{report.peak_rss_mb:,.1f} MB"),
        ("full garbage collections during replay", str(report.gc_full_collections)),
        ("garbage collection CPU ms (gen 0 / 1 / 2), longest",
         " / ".join(f"{ms:,.0f}" for ms in report.gc_ms_by_generation) + f", {report.gc_max_pause_ms:,.1f}"
         + (" (stream frozen)" if report.gc_freeze else "")),
        ("lost visits", str(report.lost_visits)),
        *([] if report.mode == LoadMode.RATE.value else
          [("stranded visits (open when nothing was left to do)", str(report.stranded_visits))]),
        ("core invariants", "hold" if not report.invariant_problems else "; ".join(report.invariant_problems[:3])),
        ("audit chain", f"{'verifies' if report.audit_ok else 'BROKEN'} ({report.audit_records:,} records, "
                        f"{report.audit_segments} drained segments)"),
        ("surprises (unexpected refusals / reviews)", f"{report.unexpected_refusals} / {report.unexpected_reviews}"),
    ]
    for name, value in rows:
        summary.add_row(name, value)
    console.print(summary)
    for title, counts in (("commands by kind", report.commands_by_kind), ("refusals by class", report.refusals_by_class),
                          ("bad input by kind", report.incidents)):
        if counts:
            table = Table(title=title)
            table.add_column("kind")
            table.add_column("count", justify="right")
            for name, count in counts.items():
                table.add_row(name, f"{count:,}")
            console.print(table)
    for line in report.surprises:
        console.print(f"[yellow]surprise:[/yellow] {line}")

"""``gatetwin loadtest``: load-test the clearance core from the command line.

``loadtest_command`` is a plain function with typer options; ``twin.cli`` registers it with
``app.command("loadtest")(loadtest_command)``. Exit codes: 0 when nothing was
lost, the core's books are consistent, the audit chain verifies, the core refused nothing sent
in good faith (and, in max mode, every visit ran to its end), and a rate run kept up; 1 when any
check failed; 2 for bad options; 3 when every check passed but a rate run did not keep up; 130
when stopped with Ctrl-C (the first stops at the end of the chunk being replayed, and the report
of what ran is printed; a second aborts at once).
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from twin.loadtest import LoadConfig, LoadMode, LoadReport, available_memory_mb, check_memory, run
from twin.visitgen import NAMED_MIXES, parse_mix


EXIT_FAILED, EXIT_BEHIND, EXIT_INTERRUPTED = 1, 3, 130


class _StopRequest:
    """Ctrl-C asks the run to stop at the end of its chunk; a second one aborts at once."""

    def __init__(self, console: Console) -> None:
        self.requested = False
        self._console = console

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self._console.print("stopping at the end of this chunk (Ctrl-C again to abort at once)")


@contextmanager
def _stop_on_interrupt(request: _StopRequest) -> Iterator[None]:
    """Route SIGINT to ``request`` while the run goes (only the main thread may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, request)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
                            help=f"A named mix ({', '.join(NAMED_MIXES)}) and/or shares, e.g. 'lang-son,agv=0.2'; "
                                 "'late=0.05' has officers decide after their service level, loading the "
                                 "core's timers."),
    gps_feed_s: float | None = typer.Option(
        None, "--gps-feed-s", help="GPS positions through a telematics feed delivering a batch every SECONDS "
                                   "(default: one GpsPing per position)."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    memory: bool = typer.Option(True, "--memory/--no-memory", help="Measure bytes per open visit (tracemalloc pass)."),
    gc_freeze: bool = typer.Option(True, "--gc-freeze/--no-gc-freeze",
                                   help="gc.freeze() after recording each chunk, so full collections skip the "
                                        "recorded stream (and the visits open at that moment)."),
) -> None:
    """Replay recorded visits through the clearance core and report its speed, memory and integrity.

    Exit codes: 0 all checks passed; 1 a check failed (a visit lost, books or audit broken, good
    input refused); 2 bad options; 3 a rate run did not keep up; 130 stopped with Ctrl-C.
    """
    try:
        _refuse_other_mode_options(ctx, mode)
        if visits is None:
            visits = max(2_000, 2 * open_visits)
        config = LoadConfig(mode=mode, visits=visits, open_visits=open_visits, rate=rate, duration_s=duration,
                            bad_share=bad_share, seed=seed, mix=parse_mix(mix), measure_memory=memory,
                            gc_freeze=gc_freeze, gps_feed_s=gps_feed_s)
        check_memory(open_visits, available_memory_mb(), memory)
    except ValueError as exc:
        typer.echo(f"gatetwin loadtest: {exc}", err=True)
        raise typer.Exit(code=2) from None
    errors = Console(stderr=True)
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    unit = "events" if mode is LoadMode.RATE else "visits"
    stop = _StopRequest(errors)
    with Progress(*columns, console=errors, transient=True, disable=json_output or not errors.is_terminal) as bar, \
            _stop_on_interrupt(stop):
        task = bar.add_task(f"loadtest ({unit})", total=None)
        report = run(config, on_chunk=lambda done, total: bar.update(task, completed=done, total=total),
                     stop=lambda: stop.requested)
    if json_output:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        show(report, Console())
    if not report.ok:
        raise typer.Exit(code=EXIT_FAILED)
    if report.interrupted:
        raise typer.Exit(code=EXIT_INTERRUPTED)
    if report.kept_up is False:
        raise typer.Exit(code=EXIT_BEHIND)


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
        ("events handled" + (" / offered" if report.events_offered is not None else ""),
         f"{report.events:,}" + (f" / {report.events_offered:,}" if report.events_offered is not None else "")),
        ("seconds replaying (wall clock)", f"{report.elapsed_s:,.2f}"),
        ("visits completed / open / awaiting acceptance / declared",
         f"{report.visits_completed:,} / {report.visits_open:,} / {report.visits_awaiting_acceptance:,} / "
         f"{report.visits_declared:,}"),
        ("events per second (wall clock)", f"{report.events_per_s:,.0f}"),
        ("events per CPU second", f"{report.cpu_events_per_s:,.0f}"),
        ("visits completed per second (wall clock)", f"{report.visits_per_s:,.1f}"),
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
        ("peak RSS of the process: replay / whole run", f"{report.peak_rss_mb:,.1f} / {report.peak_rss_process_mb:,.1f} MB"),
        *([("RSS after the first / last chunk", f"{report.rss_mb[0]:,.1f} / {report.rss_mb[-1]:,.1f} MB")]
          if len(report.rss_mb) > 1 else []),
        ("full garbage collections during replay", str(report.gc_full_collections)),
        ("garbage collection CPU ms (gen 0 / 1 / 2), longest",
         " / ".join(f"{ms:,.0f}" for ms in report.gc_ms_by_generation) + f", {report.gc_max_pause_ms:,.1f}"
         + (" (stream frozen)" if report.gc_freeze else "")),
        ("lost visits", str(report.lost_visits)),
        *([] if report.mode == LoadMode.RATE.value or report.interrupted else
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
    for line in report.notes:
        console.print(f"[cyan]note:[/cyan] {line}")

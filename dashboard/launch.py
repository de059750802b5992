"""Starting the dashboard: ``gatetwin dashboard`` runs ``streamlit run dashboard/app.py``.

Register with ``app.command("dashboard")(dashboard_command)`` in the CLI. Streamlit runs in
a child process with this interpreter (the project's virtual environment), so the dashboard
sees the same installed packages as the command line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import typer

from dashboard.state import DEFAULT_RUNS_DIR, RESULTS_ENV, RUNS_DIR_ENV
from twin.results import SUMMARY_FILE

APP_PATH = Path(__file__).resolve().parent / "app.py"


def streamlit_command(port: int, address: str, headless: bool) -> list[str]:
    """The command line that serves the dashboard on ``address:port``."""
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be 1-65535 (got {port})")
    return [
        sys.executable, "-m", "streamlit", "run", str(APP_PATH),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true" if headless else "false",
        "--browser.gatherUsageStats", "false",
    ]


def dashboard_environment(results: Sequence[Path], runs_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the dashboard process: results to open at start, where runs go.

    Raises ``ValueError`` naming the first folder that is not a results folder.
    """
    for folder in results:
        if not (folder / SUMMARY_FILE).is_file():
            raise ValueError(f"{folder}: not a gatetwin results folder (no {SUMMARY_FILE}); write one with 'gatetwin run --out'")
    environment = dict(os.environ if base is None else base)
    environment[RESULTS_ENV] = os.pathsep.join(str(folder.resolve()) for folder in results)
    environment[RUNS_DIR_ENV] = str(runs_dir.resolve())
    return environment


def dashboard_command(
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port to serve the dashboard on."),
    address: str = typer.Option("127.0.0.1", "--address",
                                help="Address to listen on; 0.0.0.0 shares the dashboard on the network."),
    results: list[Path] | None = typer.Option(None, "--results",
                                              help="A results folder (from 'gatetwin run --out') to open at start; repeatable."),
    runs_dir: Path = typer.Option(DEFAULT_RUNS_DIR, "--runs-dir", help="Where runs started from the dashboard are saved."),
    headless: bool = typer.Option(False, "--headless", help="Do not open a browser window."),
) -> None:
    """Start the dashboard (Streamlit) and keep it running until interrupted (Ctrl-C)."""
    try:
        environment = dashboard_environment(list(results or []), runs_dir)
    except ValueError as exc:
        typer.echo(f"gatetwin dashboard: {exc}", err=True)
        raise typer.Exit(code=2) from None
    command = streamlit_command(port, address, headless)
    typer.echo(f"gatetwin dashboard: serving on http://{address}:{port} (Ctrl-C stops it)", err=True)
    try:
        completed = subprocess.run(command, env=environment, check=False)
    except KeyboardInterrupt:
        # Streamlit got the same Ctrl-C and stops on its own.
        raise typer.Exit(code=0) from None
    raise typer.Exit(code=completed.returncode)

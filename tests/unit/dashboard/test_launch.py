"""Starting the dashboard from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dashboard.launch import APP_PATH, dashboard_command, dashboard_environment, streamlit_command
from dashboard.state import RESULTS_ENV, RUNS_DIR_ENV


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("dashboard")(dashboard_command)
    return app


def test_the_dashboard_is_served_by_this_interpreters_streamlit() -> None:
    command = streamlit_command(8600, "127.0.0.1", headless=True)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    assert command[command.index("--server.port") + 1] == "8600"
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.headless") + 1] == "true"
    assert APP_PATH.is_file()


def test_a_port_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="port must be 1-65535"):
        streamlit_command(70000, "127.0.0.1", headless=True)


def test_results_folders_and_the_runs_folder_reach_the_dashboard_process(saved_runs: dict[str, Path], tmp_path: Path) -> None:
    environment = dashboard_environment([saved_runs["baseline"], saved_runs["outage"]], tmp_path / "runs", base={})
    assert environment[RESULTS_ENV].split(os.pathsep) == [str(saved_runs["baseline"].resolve()), str(saved_runs["outage"].resolve())]
    assert environment[RUNS_DIR_ENV] == str((tmp_path / "runs").resolve())


def test_a_folder_that_is_not_results_stops_the_command_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["--results", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path}: not a gatetwin results folder" in result.output


def test_the_command_runs_streamlit_and_passes_on_its_exit_code(monkeypatch: pytest.MonkeyPatch, saved_runs: dict[str, Path],
                                                                tmp_path: Path) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(command: list[str], env: dict[str, str], check: bool) -> subprocess.CompletedProcess[bytes]:
        calls.append((command, env))
        return subprocess.CompletedProcess(command, returncode=3)

    monkeypatch.setattr("dashboard.launch.subprocess.run", fake_run)
    result = CliRunner().invoke(cli(), ["--port", "8765", "--headless", "--results", str(saved_runs["baseline"]),
                                        "--runs-dir", str(tmp_path)])
    assert result.exit_code == 3
    [(command, env)] = calls
    assert command[command.index("--server.port") + 1] == "8765"
    assert env[RESULTS_ENV] == str(saved_runs["baseline"].resolve())
    assert "serving on http://127.0.0.1:8765" in result.output

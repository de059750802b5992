"""``gatetwin dashboard``: the Streamlit invocation it builds, its errors, and a real start and stop."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dashboard
from dashboard.serving import free_port, is_healthy
from dashboard.state import DEFAULT_RUNS_DIR, RESULTS_ENV, RUNS_DIR_ENV
from twin.cli import app, dashboard_app_path, dashboard_invocation

APP_FILE = Path(dashboard.__file__).resolve().parent / "app.py"


class FakeServer:
    """Stands in for the Streamlit child process: records how it was started, exits at once."""

    started: list[tuple[list[str], dict[str, str]]] = []
    groups: list[int | None] = []

    def __init__(self, command: list[str], env: dict[str, str], process_group: int | None = None) -> None:
        FakeServer.started.append((command, env))
        FakeServer.groups.append(process_group)
        self.pid = -1

    def wait(self, timeout: float | None = None) -> int:
        return 3


@pytest.fixture
def fake_server(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    FakeServer.started = []
    FakeServer.groups = []
    monkeypatch.setattr("twin.cli.subprocess.Popen", FakeServer)
    return FakeServer.started


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_dashboard_is_the_app_file_served_by_this_interpreters_streamlit(tmp_path: Path) -> None:
    command, _ = dashboard_invocation([], 8600, "127.0.0.1", True, tmp_path)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_FILE)]
    assert dashboard_app_path() == APP_FILE
    assert option(command, "--server.port") == "8600"
    assert option(command, "--server.address") == "127.0.0.1"
    assert option(command, "--server.headless") == "true"
    assert option(command, "--browser.gatherUsageStats") == "false"
    assert option(command, "--client.toolbarMode") == "viewer"  # no developer menu, no Deploy button


def test_results_folders_and_the_runs_folder_reach_the_dashboard_through_its_environment(
        saved_runs: dict[str, Path], tmp_path: Path) -> None:
    _, environment = dashboard_invocation([saved_runs["baseline"], saved_runs["outage"]], 8501, "127.0.0.1", False,
                                          tmp_path / "runs", base={"PATH": "/bin"})
    assert environment[RESULTS_ENV].split(os.pathsep) == [str(saved_runs["baseline"].resolve()),
                                                          str(saved_runs["outage"].resolve())]
    assert environment[RUNS_DIR_ENV] == str((tmp_path / "runs").resolve())
    assert environment["PATH"] == "/bin"


def test_the_command_starts_streamlit_with_the_folders_given_and_passes_on_its_exit_code(
        fake_server: list[tuple[list[str], dict[str, str]]], saved_runs: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dashboard", str(saved_runs["baseline"]), str(saved_runs["outage"]),
                                      "--port", "8765", "--headless", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 3, result.output
    [(command, environment)] = fake_server
    assert command[3:5] == ["run", str(APP_FILE)]
    assert option(command, "--server.port") == "8765"
    assert option(command, "--server.headless") == "true"
    assert environment[RESULTS_ENV] == os.pathsep.join(str(saved_runs[k].resolve()) for k in ("baseline", "outage"))
    assert environment[RUNS_DIR_ENV] == str(tmp_path.resolve())
    assert "serving on http://127.0.0.1:8765" in result.output
    assert FakeServer.groups == [0]  # a process group of its own, so stop signals reach all of it


def test_without_arguments_the_command_serves_on_the_default_port_with_nothing_open(
        fake_server: list[tuple[list[str], dict[str, str]]]) -> None:
    CliRunner().invoke(app, ["dashboard"])
    [(command, environment)] = fake_server
    assert option(command, "--server.port") == "8501"
    assert option(command, "--server.address") == "127.0.0.1"
    assert option(command, "--server.headless") == "false"
    assert environment[RESULTS_ENV] == ""
    assert environment[RUNS_DIR_ENV] == str(DEFAULT_RUNS_DIR.resolve())


def test_a_folder_that_is_not_results_stops_the_command_with_one_line(
        fake_server: list[tuple[list[str], dict[str, str]]], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["dashboard", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path}: not a gatetwin results folder (no summary.json)" in result.output
    assert not fake_server


def test_a_missing_folder_or_a_file_is_named_for_what_it_is(
        fake_server: list[tuple[list[str], dict[str, str]]], tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["dashboard", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and f"{tmp_path / 'nowhere'}: no such folder" in missing.output
    a_file = tmp_path / "summary.txt"
    a_file.write_text("x")
    not_a_folder = CliRunner().invoke(app, ["dashboard", str(a_file)])
    assert not_a_folder.exit_code == 2 and f"{a_file}: not a folder" in not_a_folder.output
    assert not fake_server


def test_a_port_out_of_range_is_refused(fake_server: list[tuple[list[str], dict[str, str]]], tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["dashboard", "--port", "70000"]).exit_code == 2
    assert not fake_server
    with pytest.raises(ValueError, match="--port must be 1-65535"):
        dashboard_invocation([], 0, "127.0.0.1", True, tmp_path)


def _session_processes(session: int) -> list[int]:
    """Processes still alive in ``session`` (its leader's PID), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, session_id = fields[0], int(fields[3])
        if session_id == session and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _start_dashboard(saved_runs: dict[str, Path], tmp_path: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """``gatetwin dashboard`` in a session of its own (as in a terminal), once it serves."""
    script = shutil.which("gatetwin", path=str(Path(sys.executable).parent))
    cli = [script] if script else [sys.executable, "-c", "from twin.cli import app; app()"]
    port = free_port()
    log = tmp_path / "dashboard.log"
    environment = dict(os.environ, STREAMLIT_SERVER_FILE_WATCHER_TYPE="none")
    with log.open("wb") as output:
        server = subprocess.Popen([*cli, "dashboard", str(saved_runs["baseline"]), "--headless", "--port", str(port),
                                   "--runs-dir", str(tmp_path / "runs")],
                                  stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60.0
    while not is_healthy(url) and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.3)
    if not is_healthy(url):
        _stop_session(server)
        pytest.fail(log.read_text(errors="replace")[-3000:])
    return server, url, log


def _stop_session(server: subprocess.Popen[bytes]) -> None:
    """Kill whatever is left of a session this test started, by PID."""
    for pid in _session_processes(server.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if server.poll() is None:
        server.wait(timeout=15)


def test_the_command_serves_the_dashboard_until_ctrl_c(saved_runs: dict[str, Path], tmp_path: Path) -> None:
    server, url, log = _start_dashboard(saved_runs, tmp_path)
    try:
        # Ctrl-C in a terminal: SIGINT to the foreground process group, the command's.
        os.killpg(server.pid, signal.SIGINT)
        assert server.wait(timeout=30) == 0, log.read_text(errors="replace")[-3000:]
        assert not is_healthy(url)
        assert _session_processes(server.pid) == []
    finally:
        _stop_session(server)
    assert f"serving on {url}" in log.read_text(errors="replace")


def test_sigterm_to_the_command_alone_stops_streamlit_too(saved_runs: dict[str, Path], tmp_path: Path) -> None:
    server, url, log = _start_dashboard(saved_runs, tmp_path)
    try:
        assert len(_session_processes(server.pid)) >= 2  # the command and the Streamlit server
        os.kill(server.pid, signal.SIGTERM)  # stopped by its PID, as a service manager does
        assert server.wait(timeout=30) == 0, log.read_text(errors="replace")[-3000:]
        assert not is_healthy(url)
        assert _session_processes(server.pid) == [], "a process of the dashboard is still running"
    finally:
        _stop_session(server)


def test_a_folder_written_by_compare_is_served_for_the_dashboard_to_open_its_runs(
        fake_server: list[tuple[list[str], dict[str, str]]], tmp_path: Path, saved_runs: dict[str, Path]) -> None:
    comparison = tmp_path / "cmp"
    shutil.copytree(saved_runs["baseline"], comparison / "1-huu_nghi_smart_gate")
    result = CliRunner().invoke(app, ["dashboard", str(comparison)])
    assert "serving on" in result.output and "not a gatetwin results folder" not in result.output
    [(_, environment)] = fake_server
    assert environment[RESULTS_ENV] == str(comparison.resolve())

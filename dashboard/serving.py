"""Finding a port for a dashboard server and waiting until it answers.

Used by whatever starts ``streamlit run`` and then talks to it: the browser tests, the
command-line tests and ``scripts/screenshots.py``.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

#: Streamlit's health endpoint, relative to the server's URL.
HEALTH_PATH = "/_stcore/health"


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_healthy(url: str) -> bool:
    """Whether the Streamlit server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}{HEALTH_PATH}", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    """Wait until the server at ``url`` answers; raise ``RuntimeError`` with the end of its log
    when the process exits first or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.returncode}:\n{_tail(log)}")
        if is_healthy(url):
            return
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout_s:.0f} s:\n{_tail(log)}")


def stop_server(server: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """Stop the server by its PID: SIGTERM, then SIGKILL if it is still running after ``grace_s``."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=grace_s)


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-3000:]
    except OSError:
        return f"(no log at {log})"

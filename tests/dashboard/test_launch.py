"""``areasafe serve`` stops when it is told to: a SIGTERM to the command frees the port and leaves no
process behind (a child streamlit process was left holding it when only the parent was stopped, issue 18);
it serves the session routes beside the app."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipelines.settings import PROJECT_ROOT
from tests._helpers import copy_store
from tests._pgcluster import free_port


def _serving(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
        return True
    except OSError:
        return False


def _serving_processes(port: int) -> list[int]:
    """Processes whose command line names the port (the server, and any child it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or it ended meanwhile
            continue
        if str(port).encode() in argv and any(
            name in a for a in argv for name in (b"streamlit", b"pipelines.cli", b"dashboard.launch")
        ):
            found.append(int(entry.name))
    return found


def _session_route_answers(port: int) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/session/start", data=b"{}", method="POST")
    try:
        return urllib.request.urlopen(request, timeout=5).status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_sigterm_to_areasafe_serve_frees_the_port(demo_store, tmp_path):
    store = copy_store(demo_store, tmp_path / "serve.gpkg")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "--store", store.url, "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    try:
        deadline = time.monotonic() + 90
        while not _serving(port):
            assert proc.poll() is None and time.monotonic() < deadline, "areasafe serve did not start"
            time.sleep(0.5)
        assert _session_route_answers(port) == 403  # the session routes are served (a foreign POST is refused)
        assert _serving_processes(port) == [proc.pid]  # one process: the command became the server
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert _serving_processes(port) == []
        with socket.socket() as probe:  # nothing is left listening: the port can be bound again at once
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
        assert not _serving(port)
    finally:
        if proc.poll() is None:
            proc.kill()

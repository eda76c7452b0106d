"""Running the real dashboard for the browser tests: one server start and one recording page, shared."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.launch import command
from pipelines.settings import PROJECT_ROOT, STORE_ENV
from tests._pgcluster import free_port

LOCAL = ("http://127.0.0.1", "data:", "blob:", "about:")


@contextlib.contextmanager
def running_dashboard(store_url: str, log_path: Path, *, wait_s: float = 90) -> Iterator[str]:
    """``areasafe serve``'s command on a free port and ``store_url``; yields the base URL once healthy."""
    port = free_port()
    env = {**os.environ, STORE_ENV: str(store_url)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(command(port=port), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"streamlit on {url} did not start; see {log_path}")
                    time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@contextlib.contextmanager
def recording_page(browser, **context_options) -> Iterator:
    """A page that records failed requests (``page.failed``) and any request leaving the machine
    (``page.external``): the dashboard must load nothing from a CDN."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.failed, page.external = [], []
    page.on("requestfailed", lambda r: page.failed.append(f"{r.url} {r.failure}"))
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else page.external.append(r.url))
    try:
        yield page
    finally:
        context.close()

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
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; never `playwright install`
ARTIFACTS = PROJECT_ROOT / "test-artifacts"  # screenshots for a person to look at
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def launched_chromium() -> Iterator:
    """Headless Debian Chromium through Playwright (skips the test when Playwright is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def running_dashboard(store_url: str, log_path: Path, *, wait_s: float = 90) -> Iterator[str]:
    """``areasafe serve``'s command on a free port and ``store_url``; yields the base URL once the server says
    it is ready (``/api/ready``: up, and its caches filled at start)."""
    port = free_port()
    env = {**os.environ, STORE_ENV: str(store_url)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(command(port=port), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/ready", timeout=1)  # 503 (an OSError) until ready
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"streamlit on {url} did not start; see {log_path}")
                    time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _record_failure(page, request) -> None:
    """Record a failed request, except one the browser itself cancelled (``net::ERR_ABORTED``): a
    navigation (``page.goto``, a reload, Streamlit's own page switch) cancels the script chunks still
    loading for the page it leaves, and a busy machine makes that likelier, not the dashboard worse."""
    if request.failure != "net::ERR_ABORTED":
        page.failed.append(f"{request.url} {request.failure}")


@contextlib.contextmanager
def recording_page(browser, **context_options) -> Iterator:
    """A page that records failed requests (``page.failed``) and any request leaving the machine
    (``page.external``): the dashboard must load nothing from a CDN."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.failed, page.external = [], []
    page.on("requestfailed", lambda r: _record_failure(page, r))
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else page.external.append(r.url))
    try:
        yield page
    finally:
        context.close()

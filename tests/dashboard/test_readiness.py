"""``/api/ready`` (dashboard.readiness): 503 while the server fills its caches at start, 200 after, and a
live ``areasafe serve`` says ready once its start-up work is done."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request

from starlette.requests import Request

from dashboard import readiness, warming
from tests._dashboard import running_dashboard


def _ask() -> tuple[int, dict, str]:
    request = Request({"type": "http", "method": "GET", "path": readiness.READY, "headers": [], "query_string": b""})
    answers = []  # in a thread of its own: a browser test's Playwright may hold this thread's event loop
    asker = threading.Thread(target=lambda: answers.append(asyncio.run(readiness.ready(request))))
    asker.start()
    asker.join()
    response = answers[0]
    return response.status_code, json.loads(response.body), response.headers["cache-control"]


def test_not_ready_while_the_caches_fill_and_ready_after(monkeypatch):
    release = threading.Event()
    filling = threading.Thread(target=release.wait, daemon=True)
    filling.start()
    monkeypatch.setattr(warming, "_WARMING", filling)
    assert _ask() == (503, {"ready": False}, "no-store")
    release.set()
    filling.join()
    assert _ask() == (200, {"ready": True}, "no-store")


def test_a_server_that_never_warms_is_ready(monkeypatch):
    monkeypatch.setattr(warming, "_WARMING", None)  # `streamlit run dashboard/app.py`: nothing to wait for
    assert _ask()[:2] == (200, {"ready": True})


def test_the_served_dashboard_says_ready_once_warmed(demo_store, tmp_path):
    with (
        running_dashboard(demo_store.url, tmp_path / "server.log") as base,
        urllib.request.urlopen(f"{base}{readiness.READY}", timeout=5) as answer,
    ):
        assert answer.status == 200 and json.load(answer) == {"ready": True}
    log = (tmp_path / "server.log").read_text()
    assert "warming the dashboard caches failed" not in log, log

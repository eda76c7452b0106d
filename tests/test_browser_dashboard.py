"""The dashboard in a real headless Chromium: the map draws offline, uploads commit, pages render.

Screenshots go to ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.launch import command
from pipelines.settings import PROJECT_ROOT, STORE_ENV

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(demo_store, tmp_path_factory):
    port = _free_port()
    log = (tmp_path_factory.mktemp("streamlit") / "server.log").open("w")
    env = {**os.environ, STORE_ENV: demo_store.url}
    proc = subprocess.Popen(command(port=port), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.failed, page.external = [], []
    page.on("requestfailed", lambda r: page.failed.append(f"{r.url} {r.failure}"))
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) else page.external.append(r.url)
        ),
    )
    yield page
    context.close()


def _wait_idle(page, timeout: float = 60) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    page.wait_for_timeout(1500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout * 1000)
    page.wait_for_timeout(1000)


def test_map_renders_offline(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/")
    _wait_idle(page)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    page.wait_for_timeout(3000)
    paths = frame.locator("path.leaflet-interactive").count()
    markers = frame.locator(".leaflet-marker-icon").count()
    page.screenshot(path=str(ARTIFACTS / "map_explorer.png"), full_page=True)
    assert paths > 10, f"only {paths} vector paths drawn"
    assert markers > 0, "no markers or clusters drawn"
    assert frame.locator(".leaflet-control-layers").count() == 1
    assert not page.failed, page.failed
    assert not page.external, page.external


@pytest.mark.parametrize("path", ["profile", "act_review", "registers", "data_quality", "upload"])
def test_pages_render(server, page, path):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/{path}")
    _wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / f"{path}.png"), full_page=True)
    assert not page.failed, page.failed
    assert not page.external, page.external


def test_kobo_upload_through_the_page(server, page, tmp_path, demo_store):
    point = demo_store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    csv = tmp_path / "browser_survey.csv"
    csv.write_text(
        "start,incident/incident_date,incident/incident_type,incident/_location_latitude,"
        "incident/_location_longitude,_id,_uuid,_submission_time\n"
        f"2025-11-05T08:00:00.000+02:00,2025-11-02,drug dealing,{point.y:.6f},{point.x:.6f},1,br-1,2025-11-02T11:20\n"
        f"2025-11-05T08:00:00.000+02:00,2025-11-03,gunshots,{point.y:.6f},{point.x:.6f},2,br-2,2025-11-03T11:20\n"
        "2025-11-05T08:00:00.000+02:00,2025-11-04,robbery,,,3,br-3,2025-11-04T11:20\n"
    )
    before = demo_store.count("incidents")
    page.goto(f"{server}/upload")
    _wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    page.get_by_text("Dry run").wait_for(timeout=60_000)
    _wait_idle(page)
    page.get_by_role("button", name="Confirm and store").click()
    page.get_by_text("Stored batch").wait_for(timeout=60_000)
    _wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "upload_committed.png"), full_page=True)
    assert demo_store.count("incidents") == before + 2
    assert not page.failed, page.failed
    assert not page.external, page.external


def test_act_heading_is_large_on_the_projector(server, page):
    page.goto(f"{server}/act_review")
    _wait_idle(page)
    # the text sits in a span inside the <h1>: measure what the reader sees, not the <h1> box
    heading = page.locator('[data-testid="stMain"] [data-testid="stHeading"] h1 [data-heading-text]').first
    style = heading.evaluate("e => [parseFloat(getComputedStyle(e).fontSize), getComputedStyle(e).color]")
    body = page.locator('[data-testid="stMarkdownContainer"] p').first
    body_size = body.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert style[0] >= 2 * body_size and style[0] >= 48, (style, body_size)
    assert style[1] == "rgb(0, 0, 0)", style


def test_registers_map_click_sets_the_point(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/registers")
    _wait_idle(page)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    assert page.get_by_label("Latitude").input_value() == ""
    frame.locator(".leaflet-container").click(position={"x": 60, "y": 60})
    page.wait_for_function(
        "() => [...document.querySelectorAll('input')].some(i => i.getAttribute('aria-label') === 'Latitude'"
        " && i.value !== '')",
        timeout=30_000,
    )
    _wait_idle(page)
    lat, lon = float(page.get_by_label("Latitude").input_value()), float(page.get_by_label("Longitude").input_value())
    assert -35 < lat < -33 and 18 < lon < 19, (lat, lon)
    page.screenshot(path=str(ARTIFACTS / "registers_clicked.png"), full_page=True)
    assert not page.failed, page.failed
    assert not page.external, page.external

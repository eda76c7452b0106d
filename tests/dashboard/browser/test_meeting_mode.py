"""Meeting mode in a real headless Chromium: keyboard navigation, a decision recorded on the spot, and the
regenerated pack (downloaded from the ACT review page) that contains it.

Screenshots go to ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests._dashboard import ARTIFACTS, CHROMIUM, recording_page, running_dashboard
from tests.dashboard.browser.test_dashboard import _wait_idle, login_as, open_page

CODE = "KHA-HARARE-HOLOMISA"
DECISION = "Solar floodlight on the footpath behind Luleka Primary"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
    pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A demo store of this module's own: the test records an action in it."""
    from pipelines.demo import build_demo
    from pipelines.store import open_store

    built = open_store(tmp_path_factory.mktemp("act-browser") / "demo.gpkg")
    build_demo(built)
    yield built
    built.close()


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    with running_dashboard(store.url, tmp_path_factory.mktemp("streamlit-act") / "server.log") as url:
        yield url


@pytest.fixture
def page(browser):
    with recording_page(browser, viewport={"width": 1600, "height": 1000}, accept_downloads=True) as page:
        yield page


def _heading(page) -> str:
    return page.locator('[data-testid="stMain"] h1').first.inner_text()


def _press(page, key: str, expected: str) -> None:
    page.locator('[data-testid="stMain"] h1').first.click()  # focus on the page, not in a form field
    page.keyboard.press(key)
    page.wait_for_function(
        "t => document.querySelector('[data-testid=\"stMain\"] h1')?.innerText.startsWith(t)",
        arg=expected,
        timeout=30_000,
    )
    _wait_idle(page)


def test_record_a_decision_in_meeting_mode_and_find_it_in_the_pack(server, page, store, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    login_as(page, server, store, "act_member")  # through the login page, then the app's own navigation
    open_page(page, "Meeting mode")
    page.get_by_role("button", name="Next ▶").wait_for(timeout=90_000)
    _wait_idle(page)
    assert _heading(page).startswith("1. Actions from last time")
    size = page.locator('[data-testid="stMain"] h1 [data-heading-text]').first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert size >= 44, f"heading is {size}px: too small for a projector"
    page.screenshot(path=str(ARTIFACTS / "meeting_mode_actions.png"), full_page=True)

    _press(page, "PageDown", "2. Interventions")
    _press(page, "ArrowRight", "3. H1")
    _press(page, "ArrowLeft", "2. Interventions")
    _press(page, "PageDown", "3. H1")
    page.screenshot(path=str(ARTIFACTS / "meeting_mode_hotspot.png"), full_page=True)

    # typing in the form must not turn pages: the shortcuts ignore text fields
    page.get_by_label("Decision", exact=True).fill(DECISION)
    page.get_by_label("Owner (department or organisation)", exact=True).fill("Energy (Public Lighting)")
    page.get_by_label("Owner (department or organisation)", exact=True).press("ArrowLeft")
    assert _heading(page).startswith("3. H1")
    page.get_by_label("Person responsible").fill("T. Mahlangu")
    page.get_by_role("button", name="Record decision").click()
    page.get_by_text(f"Recorded {CODE}-2026-10-A01").wait_for(timeout=60_000)
    _wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "meeting_mode_recorded.png"), full_page=True)
    saved = store.read_table("actions", where={"action_id": f"{CODE}-2026-10-A01"})
    assert saved["decision"].item() == DECISION and saved["hotspot_cell"].item()

    open_page(page, "ACT meeting review")  # through the sidebar, as a person would
    with page.expect_download(timeout=90_000) as download:
        page.get_by_role("button", name="Pack PDF").click()
    pdf = tmp_path / "pack.pdf"
    download.value.save_as(pdf)
    assert download.value.suggested_filename == f"meeting-pack-{CODE}-2026-10.pdf"
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split()
    )
    assert "Decisions recorded at this meeting" in text
    assert DECISION in text and "2026-10-A01" in text
    page.screenshot(path=str(ARTIFACTS / "act_review_pack.png"), full_page=True)
    assert not page.failed, page.failed
    assert not page.external, page.external

"""Each role's main page as its users hold it, in a real headless Chromium: a 1280x720 projector and a
390x844 phone (issue 18).

On both: no button label is cut off. On the projector: the map fills at least 60% of the screen's height
without scrolling. On the phone: nothing scrolls sideways, and choosing a page in the sidebar closes the
sidebar. Clicking map features shows records in words, and the server log has no ArrowTypeError. A CSO
uploads on the phone with one thumb. Screenshots go to ``test-artifacts/layout/`` for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from tests._dashboard import ARTIFACTS, CHROMIUM, recording_page, running_dashboard
from tests._helpers import copy_store
from tests.dashboard.browser.test_dashboard import MAP_FRAME, _wait_idle, login_as, open_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]
SHOTS = ARTIFACTS / "layout"
SIZES = {"projector": {"width": 1280, "height": 720}, "phone": {"width": 390, "height": 844}}
#: each role's main page: where it lands and what it uses most
MAIN_PAGES = {
    "public": "Map explorer",
    "planner": "Map explorer",
    "analyst": "Map explorer",
    "act_member": "ACT meeting review",
    "cso": "Upload",
    "admin": "Users",
}

# Button labels cut off: wider than their box, or running past the column that holds the button.
_CUT_BUTTONS = """
() => [...document.querySelectorAll('[data-testid="stMain"] button, [data-testid="stSidebar"] button')]
  .filter(b => b.offsetParent !== null && b.innerText.trim())
  .filter(b => {
    // icons and screen-reader-only labels (1 px wide on purpose) are not text a person reads
    const text = [b, ...b.querySelectorAll('p, span, div')]
      .filter(e => !e.closest('[data-testid="stIconMaterial"]') && e.clientWidth > 1);
    const cut = text.some(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible');
    const column = b.closest('[data-testid="stColumn"]') || b.closest('[data-testid="stMain"], [data-testid="stSidebar"]');
    const past = b.getBoundingClientRect().right > column.getBoundingClientRect().right + 1;
    return cut || past;
  })
  .map(b => b.innerText.trim())
"""
_SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def store(demo_store, tmp_path_factory):
    copy = copy_store(demo_store, tmp_path_factory.mktemp("layout") / "store.gpkg")  # the phone upload commits
    yield copy
    copy.close()


@pytest.fixture(scope="module")
def server_log(tmp_path_factory):
    return tmp_path_factory.mktemp("streamlit") / "server.log"


@pytest.fixture(scope="module")
def server(store, server_log):
    with running_dashboard(store.url, server_log) as url:
        yield url


def _open_main_page(page, server: str, store, role: str, size: str) -> None:
    """Land as ``role`` and go to its main page through the sidebar (on the phone: open it first)."""
    if role == "public":
        page.goto(f"{server}/")
        _wait_idle(page)
    else:
        login_as(page, server, store, role)
    if size == "phone":
        page.locator('[data-testid="stExpandSidebarButton"]').click()
        page.locator('[data-testid="stSidebar"][data-collapsed="false"]').wait_for(timeout=10_000)
    open_page(page, MAIN_PAGES[role])
    page.wait_for_timeout(500)


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.screenshot(path=str(SHOTS / f"{name}-full.png"), full_page=True)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role", list(MAIN_PAGES))
def test_main_page_fits_the_screen(server, browser, store, role, size):
    with recording_page(browser, viewport=SIZES[size]) as page:
        _open_main_page(page, server, store, role, size)
        is_map = MAIN_PAGES[role] == "Map explorer"
        if is_map:
            page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)
            _wait_idle(page)
        _shoot(page, f"{role}-{size}")
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.evaluate(_CUT_BUTTONS) == [], "button labels cut off"
        if size == "phone":
            assert page.evaluate(_SIDEWAYS) <= 0, "the page scrolls sideways"
            sidebar = page.locator('[data-testid="stSidebar"]')
            assert sidebar.get_attribute("data-collapsed") == "true", "the sidebar stayed open over the page"
        elif is_map:
            box = page.locator(MAP_FRAME).bounding_box()
            height = SIZES[size]["height"]
            visible = min(box["y"] + box["height"], height) - max(box["y"], 0)
            assert visible >= 0.6 * height, f"the map shows {visible:.0f} px of {height}"
        assert not page.external, page.external


# Fire a click on the first GeoJSON feature of ``kind`` (and ``name``): the same event a person's click
# fires, which opens the popup and which streamlit-folium reports back to the page.
_CLICK_FEATURE = """
([kind, name]) => {
    const map = Object.values(window).find(v => { try { return v instanceof L.Map; } catch (e) { return false; } });
    let found = null;
    map.eachLayer(layer => {
        if (found || !layer.feature) return;  // a GeoJSON feature: its layer's popup opens for it
        const p = layer.feature.properties || {};
        const ref = String(p.ref || '').replace(/<[^>]*>/g, '').trim();  // the reference, out of sight in the popup
        if (ref.startsWith(kind + ':') && (!name || p.name === name)) found = layer;
    });
    if (!found) return false;
    const at = found.getBounds ? found.getBounds().getCenter() : found.getLatLng();
    found.fire('click', {latlng: at}, true);  // true: on to the GeoJSON layer that holds the popup
    return true;
}"""


# The text a popup shows on screen: its text nodes inside elements more than a pixel wide and tall (an
# element clipped out of sight, as the popup's reference for the click is, shows nothing).
_POPUP_ON_SCREEN = """
(popup) => {
    const walker = document.createTreeWalker(popup, NodeFilter.SHOW_TEXT);
    const shown = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const box = node.parentElement.getBoundingClientRect();
        if (box.width > 1 && box.height > 1) shown.push(node.textContent);
    }
    return shown.join(' ');
}"""
#: An internal reference or its label, which no popup may show a person (issue 18).
_REFERENCE = re.compile(r"\b(area|asset|intervention|incident|cell|hotspot|hexagon):|\bRef\b")


def _popup_in_words(frame) -> str:
    """The open popup's text on screen, checked for internal references; the text a click returned keeps one."""
    popup = frame.locator(".leaflet-popup-content").last
    popup.wait_for(timeout=30_000)
    shown = popup.evaluate(_POPUP_ON_SCREEN)
    assert shown.strip() and not _REFERENCE.search(shown), shown
    assert _REFERENCE.search(popup.inner_text()), popup.inner_text()  # what streamlit-folium reads back
    return shown


def _record(page) -> str:
    page.get_by_text("Click an area, hexagon").wait_for(state="detached", timeout=60_000)
    _wait_idle(page)
    return page.locator('[data-testid="stTable"]').last.inner_text()


def test_clicked_features_read_in_words_and_the_log_stays_clean(server, browser, store, server_log):
    with recording_page(browser, viewport=SIZES["projector"]) as page:
        login_as(page, server, store, "planner")
        open_page(page, "Map explorer")
        frame = page.frame_locator(MAP_FRAME)
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        page.wait_for_timeout(2000)
        map_frame = page.locator(MAP_FRAME).element_handle().content_frame()
        names = frame.locator(".areasafe-name")
        assert "Harare Holomisa" in names.all_inner_texts()  # the area names are on the map
        assert names.count() > 10  # the neighbours' too

        assert map_frame.evaluate(_CLICK_FEATURE, ["area", "Khayelitsha T2-V2B"])  # outside the chosen one
        assert "outside the chosen Safe Neighbourhood" in _popup_in_words(frame)
        record = _record(page)
        _shoot(page, "record-area")
        assert "Khayelitsha T2-V2B" in record and "31,974" in record, record
        assert "31974" not in record and "KHA-" not in record, record

        assert map_frame.evaluate(_CLICK_FEATURE, ["hotspot", None])
        assert "Hot spot" in _popup_in_words(frame)
        page.get_by_text("A hexagon of the map").wait_for(timeout=60_000)
        record = _record(page)
        _shoot(page, "record-hotspot")
        assert "Harare Holomisa" in record and "Hot spot" in record, record
        assert "Incidents in the period" in record, record

    log = server_log.read_text()
    assert "ArrowTypeError" not in log and "Serialization of dataframe to Arrow table" not in log, log[-2000:]


def test_cso_uploads_one_handed_on_the_phone(server, browser, store, tmp_path):
    point = store.read_areas("neighbourhood").geometry.iloc[0].representative_point()
    csv = tmp_path / "phone_reports.csv"
    csv.write_text(
        "id,date,category,latitude,longitude,description\n"
        + "".join(
            f"ph-{i},2026-09-0{i},robbery,{point.y + 0.0001 * i:.6f},{point.x:.6f},A phone was taken at the rank\n"
            for i in range(1, 4)
        )
    )
    with recording_page(browser, viewport=SIZES["phone"]) as page:
        _open_main_page(page, server, store, "cso", "phone")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
        page.get_by_text("Dry run").wait_for(timeout=60_000)
        _wait_idle(page)
        _shoot(page, "cso-phone-dry-run")
        assert page.evaluate(_SIDEWAYS) <= 0, "the dry run scrolls sideways"
        assert page.evaluate(_CUT_BUTTONS) == []
        confirm = page.get_by_role("button", name="Confirm and store")
        width = page.locator('[data-testid="stMainBlockContainer"]').evaluate(
            "e => e.clientWidth - parseFloat(getComputedStyle(e).paddingLeft) - parseFloat(getComputedStyle(e).paddingRight)"
        )
        assert confirm.bounding_box()["width"] >= 0.95 * width  # a thumb's target: the whole width
        confirm.click()
        page.get_by_text("accepted. The file is in the batch history").wait_for(timeout=60_000)
        _wait_idle(page)
        _shoot(page, "cso-phone-stored")
        assert page.evaluate(_SIDEWAYS) <= 0, "the results scroll sideways"
        assert page.locator('[data-testid="stException"]').count() == 0

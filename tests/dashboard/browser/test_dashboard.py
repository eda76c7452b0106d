"""The dashboard in a real headless Chromium: the map draws offline, uploads commit, pages render,
logins show each role its pages and are throttled, and hostile text in an upload shows as text.

Screenshots go to ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from pipelines.settings import SETTINGS
from tests._dashboard import ARTIFACTS, CHROMIUM
from tests._helpers import PASSWORD, ensure_user

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture
def viewport() -> dict:
    """A large desktop screen: the pages' full content without scrolling."""
    return {"width": 1500, "height": 1100}


def _wait_idle(page, timeout: float = 60) -> None:
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    page.wait_for_timeout(1500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout * 1000)
    page.wait_for_timeout(1000)


def login(page, server: str, username: str, password: str = PASSWORD, *, expect_success: bool = True) -> None:
    """Log in through the login page as a person would."""
    page.goto(f"{server}/login")
    _wait_idle(page)
    if page.get_by_role("heading", name="Account").count():  # still logged in from before: a reload keeps it
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("heading", name="Log in").wait_for(timeout=30_000)
        _wait_idle(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    if expect_success:  # a login lands on the map: wait until it is drawn, or leaving it aborts its loads
        page.get_by_role("heading", name="Map explorer").wait_for(timeout=60_000)
        page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)
    _wait_idle(page)


def login_as(page, server: str, store, role: str, **account) -> str:
    """Log in as a (created once) test account of ``role``; returns its username."""
    username = ensure_user(store, role, **account)
    login(page, server, username)
    return username


def open_page(page, title: str) -> None:
    """Go to a page through the sidebar, as a person would; the sidebar is opened first when it is shut
    (the meeting views shut it, as does a phone)."""
    expand = page.locator('[data-testid="stExpandSidebarButton"]')
    if expand.count() and expand.first.is_visible():
        expand.first.click()
        page.wait_for_timeout(500)
    exact = re.compile(rf"{re.escape(title)}\s*$")  # "Account" is not the Users page's "manage_accounts"
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=exact).first.click()
    _wait_idle(page)


def upload_through_page(page, csv) -> None:
    """Drop ``csv`` on the Upload page, wait for the dry run, confirm, and wait until it is stored."""
    open_page(page, "Upload")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    page.get_by_text("Dry run").wait_for(timeout=60_000)
    _wait_idle(page)
    page.get_by_role("button", name="Confirm and store").click()
    page.get_by_text("accepted. The file is in the batch history").wait_for(timeout=60_000)


def _nav_links(page) -> set[str]:
    # each link's text is its icon's ligature name, then the title on its own line
    return {t.strip().splitlines()[-1] for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()}


def test_map_renders_offline(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    roads = []  # the road lines come from the server's cache folder, on its own origin (dashboard.map_files)
    page.on("response", lambda r: roads.append((r.url, r.status)) if "/api/map-files/roads-" in r.url else None)
    page.goto(f"{server}/")
    _wait_idle(page)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    frame.locator(".leaflet-marker-pane > *").first.wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(3000)
    paths = frame.locator("path.leaflet-interactive").count()
    markers = frame.locator(".leaflet-marker-pane > *").count()  # asset markers (the public gets no points)
    assert "clustered points" not in frame.locator(".leaflet-control-layers").inner_text()
    page.screenshot(path=str(ARTIFACTS / "map_explorer.png"), full_page=True)
    assert paths > 10, f"only {paths} vector paths drawn"
    assert markers > 0, "no markers or clusters drawn"
    assert frame.locator(".leaflet-control-layers").count() == 1
    assert roads and all(url.startswith(server) and status == 200 for url, status in roads), roads
    assert not page.failed, page.failed
    assert not page.external, page.external


PAGE_TITLES = {
    "profile": "Neighbourhood profile",
    "act_review": "ACT meeting review",
    "registers": "Registers",
    "data_quality": "Data quality",
    "upload": "Upload",
    "batches": "Batches",
    "users": "Users",
    "audit_log": "Audit log",
}


@pytest.mark.parametrize("path", list(PAGE_TITLES))
def test_pages_render(server, page, path, demo_store):
    ARTIFACTS.mkdir(exist_ok=True)
    login_as(page, server, demo_store, "admin")
    open_page(page, PAGE_TITLES[path])
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
    login_as(page, server, demo_store, "planner")
    upload_through_page(page, csv)
    _wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "upload_committed.png"), full_page=True)
    assert demo_store.count("incidents") == before + 2
    assert not page.failed, page.failed
    assert not page.external, page.external


def test_act_heading_is_large_on_the_projector(server, page, demo_store):
    login_as(page, server, demo_store, "act_member")
    open_page(page, "ACT meeting review")
    # the text sits in a span inside the <h1>: measure what the reader sees, not the <h1> box
    heading = page.locator('[data-testid="stMain"] [data-testid="stHeading"] h1 [data-heading-text]').first
    style = heading.evaluate("e => [parseFloat(getComputedStyle(e).fontSize), getComputedStyle(e).color]")
    body = page.locator('[data-testid="stMarkdownContainer"] p').first
    body_size = body.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert style[0] >= 2 * body_size and style[0] >= 48, (style, body_size)
    assert style[1] == "rgb(0, 0, 0)", style


def test_registers_map_click_sets_the_point(server, page, demo_store):
    ARTIFACTS.mkdir(exist_ok=True)
    login_as(page, server, demo_store, "planner")
    open_page(page, "Registers")
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


# --------------------------------------------------------------------------------------------------
# Access control and hostile text
# --------------------------------------------------------------------------------------------------
PUBLIC_PAGES = {"Map explorer", "Neighbourhood profile", "Ward view", "What the words mean", "Log in"}


def test_each_role_sees_its_pages(server, page, demo_store):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/")
    _wait_idle(page)
    assert _nav_links(page) == PUBLIC_PAGES
    assert page.get_by_text("Public view: aggregated counts only").count() == 1
    page.screenshot(path=str(ARTIFACTS / "public_map.png"), full_page=True)
    expected = {
        "cso": {"Map explorer", "Neighbourhood profile", "Ward view", "What the words mean", "Upload", "Batches",
                "Account"},
        "planner": {"Map explorer", "Neighbourhood profile", "Ward view", "ACT meeting review", "What the words mean",
                    "Meeting mode", "Actions register", "Upload", "Batches", "Registers", "Data quality", "Account"},
        "admin": {"Map explorer", "Neighbourhood profile", "Ward view", "ACT meeting review", "What the words mean",
                  "Meeting mode", "Actions register", "Upload", "Batches", "Registers", "Data quality", "Users",
                  "Audit log", "Account"},
    }  # fmt: skip
    for role, pages in expected.items():
        username = login_as(page, server, demo_store, role)
        assert _nav_links(page) == pages, role
        assert page.locator('[data-testid="stSidebar"]').get_by_text(f"Signed in as {username}").count() == 1
        page.screenshot(path=str(ARTIFACTS / f"nav_{role}.png"), full_page=True)
        open_page(page, "Account")
        page.get_by_role("button", name="Log out").click()
        page.get_by_role("heading", name="Log in").wait_for(timeout=30_000)
        _wait_idle(page)
        assert _nav_links(page) == PUBLIC_PAGES
    # a page the public may not use is not served by typing its address either
    page.goto(f"{server}/users")
    _wait_idle(page)
    assert page.get_by_role("heading", name="Users").count() == 0
    assert not page.failed, page.failed
    assert not page.external, page.external


def test_failed_logins_are_throttled(server, page, demo_store):
    ARTIFACTS.mkdir(exist_ok=True)
    username = ensure_user(demo_store, "planner", username="throttled-browser")
    for attempt in range(SETTINGS.max_failed_logins):
        login(page, server, username, "wrong password", expect_success=False)
        alert = page.locator('[data-testid="stAlert"]').first
        alert.wait_for(timeout=30_000)
        if attempt < SETTINGS.max_failed_logins - 1:
            assert alert.inner_text().strip() == "wrong username or password"
    assert "try again in 30 s" in alert.inner_text()
    login(page, server, username, PASSWORD, expect_success=False)  # the right password must wait too
    assert "too many failed logins" in page.locator('[data-testid="stAlert"]').first.inner_text()
    assert page.get_by_role("heading", name="Account").count() == 0
    page.screenshot(path=str(ARTIFACTS / "login_throttled.png"), full_page=True)


XSS = "<img src=x onerror=alert(1)>"

# Find the incident's marker by its popup text, and zoom the map past the clustering limit onto it.
_ZOOM_TO_MARKER = """
(ref) => {
    const map = Object.values(window).find(v => { try { return v instanceof L.Map; } catch (e) { return false; } });
    let target = null;
    map.eachLayer(layer => {
        if (!layer.zoomToShowLayer) return;
        layer.getLayers().forEach(m => {
            const popup = m.getPopup && m.getPopup();
            if (popup && popup.getContent().textContent.includes(ref)) target = m;
        });
    });
    if (!target) return false;
    window.__areasafe_target = target;
    map.setView(target.getLatLng(), 19, {animate: false});
    return true;
}"""
_MARKER_POSITION = """
() => {
    const map = Object.values(window).find(v => { try { return v instanceof L.Map; } catch (e) { return false; } });
    const point = map.latLngToContainerPoint(window.__areasafe_target.getLatLng());
    return [point.x, point.y];
}"""


def test_hostile_description_shows_as_text_in_the_map_popup(server, page, demo_store, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    hood = demo_store.read_areas("neighbourhood").set_index("code").loc["KHA-HARARE-HOLOMISA"]
    point = hood.geometry.representative_point()
    latest = demo_store.read_incidents().sort_values("occurred_at")["occurred_at"].iloc[-1]
    day = latest.tz_convert(SETTINGS.local_timezone).strftime("%Y-%m-%d")  # inside the default period
    csv = tmp_path / "hostile.csv"
    csv.write_text(
        f'id,date,category,latitude,longitude,description\nxss-1,{day},gunshots,{point.y:.6f},{point.x:.6f},"{XSS}"\n'
    )
    login_as(page, server, demo_store, "planner")  # a role that sees points and free text
    upload_through_page(page, csv)
    stored = demo_store.read_incidents()
    incident_id = stored.loc[stored["description"] == XSS, "incident_id"].iloc[0]

    open_page(page, "Map explorer")
    frame_element = page.locator(MAP_FRAME)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    page.wait_for_timeout(3000)
    map_frame = frame_element.element_handle().content_frame()
    assert map_frame.evaluate(_ZOOM_TO_MARKER, f"incident:{incident_id}"), "the uploaded incident is not on the map"
    page.wait_for_timeout(2500)
    position = map_frame.evaluate(_MARKER_POSITION)
    frame.locator(".leaflet-container").click(position={"x": position[0], "y": position[1]})  # a real click
    popup = frame.locator(".leaflet-popup-content .areasafe-popup")
    popup.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert XSS in popup.inner_text()  # the markup shows literally
    assert frame.locator(".leaflet-popup-content img").count() == 0  # and was never parsed into an element
    page.get_by_text(XSS, exact=True).first.wait_for(timeout=30_000)  # the selected-feature table, as text
    _wait_idle(page)
    page.screenshot(path=str(ARTIFACTS / "xss_popup.png"), full_page=True)
    assert page.get_by_text("Signed in as test-planner").count() == 1
    assert dialogs == [], dialogs
    assert not page.failed, page.failed
    assert not page.external, page.external

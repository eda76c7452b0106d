"""Every surface a role can reach, scanned for what that role must not get (issue #15's "every surface").

Sensitive incidents with unique markers in their free text and record ids, at exact coordinates, an
unmapped category, and a person's asset with no recorded consent are planted in a copy of the demo.
Then each role below analyst renders every page it may open, the meeting pack (HTML and PDF), the
public export, the hot-spot JSON and the CLI's public outputs, and each is searched for the markers and
for the planted coordinates at a precision finer than the generalisation rule. The public's numbers are
checked for what subtraction gives back in ``tests/system/test_privacy_attacks.py``.

A page, export layer or CLI command that is not listed in :data:`SURFACES` fails
:func:`test_every_surface_is_listed`, so a new surface cannot skip this test.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from pipelines import export, privacy
from pipelines.act.pack import build_pack, render_html, render_pdf
from pipelines.cli import _parser
from pipelines.hotspots.recipe import hotspots_for_neighbourhood
from pipelines.ingest import assets as registers
from pipelines.ingest.incidents import ingest_incidents
from pipelines.privacy import PUBLIC, Viewer
from pipelines.settings import STORE_ENV
from pipelines.store import IncidentQuery
from tests._dashboard import CHROMIUM, recording_page, running_dashboard
from tests._helpers import app_login, copy_store, page_as, write_csv

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
HOOD = "KHA-HARARE-HOLOMISA"  # the sidebar's default Safe Neighbourhood
MONTH = "2026-10"  # the demo's last month: inside every default window
MARK = "ZQXMARK"  # in every planted free-text field and record id; nothing else holds it
N_PLANTED = 6

#: Every surface that shows stored data, and the roles below analyst that can reach it ("public" is
#: not logged in; "cso" is a CSO of another organisation than the planted rows').
SURFACES: dict[str, tuple[str, ...]] = {
    "page:map_explorer": ("public", "cso", "planner", "act_member"),
    "page:profile": ("public", "cso", "planner", "act_member"),
    "page:act_review": ("planner", "act_member"),
    "page:meeting": ("planner", "act_member"),
    "page:actions": ("planner", "act_member"),
    "page:registers": ("planner", "act_member"),
    "page:data_quality": ("planner",),
    "page:upload": ("cso", "planner"),
    "page:batches": ("cso", "planner"),
    "page:login": ("public",),
    "page:glossary": ("public", "act_member"),
    "page:ward": ("public", "cso", "planner", "act_member"),
    "cli:ward-report": ("public", "cso", "planner", "act_member"),
    "page:users": (),  # admins only
    "page:audit_log": (),  # admins only
    "pack:html": ("public", "planner", "act_member"),
    "pack:pdf": ("public", "planner", "act_member"),
    "hotspots:json": ("public", "cso", "planner", "act_member"),
    "export:public": ("public",),
    "download:map": ("public", "cso", "planner", "act_member"),  # every format, the PNG's pixels excepted
    "export:layers": (),  # analysts and admins only; refused below (test_layer_exports_refuse_other_roles)
    "cli:export --public": ("public",),
    "cli:pack --public": ("public",),
}
#: CLI commands that write or print stored data for someone other than the operator.
CLI_PUBLICATIONS = {"export", "pack", "ward-report"}
VIEWERS = {
    "public": PUBLIC,
    "cso": Viewer(username="test-cso-other", role="cso", org="Another CSO"),
    "planner": Viewer(username="test-planner", role="planner"),
    "act_member": Viewer(username="test-act_member", role="act_member"),
}


@pytest.fixture(scope="module")
def planted(demo_store, tmp_path_factory):
    """A copy of the demo with the planted rows; returns ``(store, exact points)``."""
    folder = tmp_path_factory.mktemp("planted")
    store = copy_store(demo_store, folder / "planted.gpkg")
    area = store.read_areas("neighbourhood").set_index("code").loc[HOOD, "geometry"]
    inside = shapely.get_coordinates(area.representative_point())[0]
    # 2e-6 past a 5-decimal value whose last digit is not 0 (JSON would drop it): rounded or cut to 5
    # decimals anywhere, each still reads the same.
    # Offset from the representative point itself: other tests upload rows there (browser tests, into the
    # session's demo store), and a visible row at a planted point would read as a leak.
    points = [
        (_distinct(inside[0] + 0.00037 * (i + 1)), _distinct(inside[1] + 0.00023 * (i + 1))) for i in range(N_PLANTED)
    ]
    assert all(area.contains(shapely.Point(p)) for p in points)
    stored = store.read_incidents(IncidentQuery(columns=["incident_id"])).geometry.to_numpy()
    near = [shapely.dwithin(stored, shapely.Point(p), 1e-4).any() for p in points]
    assert not any(near), "a stored row sits at a planted point: the scan would report it as a leak"
    categories = ["Rape", "child rape", "Incest", "Molestation", "zzqv unplaceable", "Domestic violence"]
    rows = ["id,date,category,description,latitude,longitude"]
    for i, ((lon, lat), category) in enumerate(zip(points, categories, strict=True)):
        rows.append(f"{MARK}-ID-{i},{MONTH}-0{i + 1} 21:00,{category},{MARK} statement {i},{lat:.7f},{lon:.7f}")
    csv = write_csv(folder, "planted.csv", "\n".join(rows) + "\n")
    batch = ingest_incidents(store, csv, source="community", org="Planted CSO")
    assert batch.accepted == N_PLANTED, batch
    person = write_csv(
        folder,
        "person.csv",
        f"name,abcd_category,type,custodian,latitude,longitude\n{MARK} retired nurse,individuals,volunteer,Self,"
        f"{points[0][1]:.7f},{points[0][0]:.7f}\n",
    )
    registers.ingest_assets(store, person, user="tests")
    yield store, points
    store.close()


def _distinct(value: float) -> float:
    fifths = round(value * 1e5)
    return (fifths + (fifths % 10 == 0)) / 1e5 + 2e-6


def _leaks(text: str, points) -> list[str]:
    """The marker, and any planted point written to 5 decimals (about 1 m) or finer as a coordinate pair
    (its longitude and latitude within a few characters of each other, in either order)."""
    found = [MARK] if MARK in text else []
    for lon, lat in points:
        x, y = re.escape(f"{lon:.5f}"), re.escape(f"{lat:.5f}")
        if re.search(rf"{x}\d*\D{{1,12}}{y}|{y}\d*\D{{1,12}}{x}", text):
            found.append(f"{lat:.5f}, {lon:.5f}")
    return found


def _app_text(at: AppTest) -> str:
    """Everything the page sent to the browser, as text (element protos, the map's script included)."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def _page(store, page: str, role: str) -> AppTest:
    if role == "cso":
        return page_as(store, page, "cso", timeout=90, org="Another CSO")
    return page_as(store, page, None if role == "public" else role, timeout=90)


PAGE_CASES = [(s.split(":", 1)[1], r) for s, roles in SURFACES.items() if s.startswith("page:") for r in roles]


@pytest.mark.parametrize(("page", "role"), PAGE_CASES, ids=[f"{p}-{r}" for p, r in PAGE_CASES])
def test_pages_hold_nothing_the_role_may_not_see(planted, monkeypatch, page, role):
    store, points = planted
    monkeypatch.setenv(STORE_ENV, store.url)
    at = _page(store, page, role)
    if page == "map_explorer":
        assert at.get("component_instance"), "the map was not drawn: the scan would prove nothing"
    assert not _leaks(_app_text(at), points)


@pytest.mark.parametrize("role", SURFACES["pack:html"])
def test_meeting_pack_holds_nothing_the_role_may_not_see(planted, tmp_path, role):
    store, points = planted
    viewer = VIEWERS[role]
    pack = build_pack(store, HOOD, MONTH, viewer=viewer, public=viewer.is_public)
    html = render_html(pack)
    assert "Harare" in html and not _leaks(html, points)
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(render_pdf(pack))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Harare" in text and not _leaks(text, points)


@pytest.mark.parametrize("role", SURFACES["cli:ward-report"])
def test_ward_report_holds_nothing_the_role_may_not_see(planted, tmp_path, role):
    """The councillor's report (``areasafe ward-report``), HTML and PDF, for the ward holding the planted rows."""
    from pipelines import crosswalk, wardreport

    store, points = planted
    wards, _ = crosswalk.ward_areas(store)
    where = crosswalk.ward_of_points(shapely.points(points), wards)
    ward = str(pd.Series(where).dropna().iloc[0])
    report = wardreport.build_report(store, ward, MONTH, viewer=VIEWERS[role])
    html = wardreport.render_html(report)
    assert report.title in html and not _leaks(html, points)
    pdf = tmp_path / "ward.pdf"
    pdf.write_bytes(wardreport.render_pdf(report))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Ward" in text and not _leaks(text, points)


@pytest.mark.parametrize("role", SURFACES["hotspots:json"])
def test_hotspot_json_holds_nothing_the_role_may_not_see(planted, role):
    store, points = planted
    result = hotspots_for_neighbourhood(store, HOOD, viewer=VIEWERS[role], resolution=None)
    assert len(result.cells)
    assert not _leaks(json.dumps(result.to_json()), points)


def test_public_export_holds_nothing_but_published_counts(planted, tmp_path):
    store, points = planted
    for fmt in ("geojson", "csv"):
        out = tmp_path / f"public.{fmt}"
        export.export_public(store, fmt, out, viewer=PUBLIC)
        text = out.read_text()
        assert not _leaks(text, points)
    assert {"feature", "kind", "code", "incidents"} <= set(export.public_view(store).columns)


def test_cli_public_outputs_hold_nothing_the_public_may_not_see(planted, tmp_path):
    store, points = planted
    cli = [sys.executable, "-m", "pipelines.cli", "--store", store.url]
    for args, out in (
        (["export", "geojson"], tmp_path / "public.geojson"),
        (["pack", "--neighbourhood", HOOD, "--month", MONTH, "--out"], tmp_path / "pack.html"),
    ):
        run = subprocess.run([*cli, *args, str(out), "--public"], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert not _leaks(run.stdout + run.stderr + out.read_text(), points)


@pytest.mark.parametrize("role", SURFACES["download:map"])
def test_map_downloads_hold_nothing_the_role_may_not_see(planted, tmp_path, role):
    """The map page's downloads (GeoPackage, GeoJSON and CSV of every layer), built from what the page reads."""
    import geopandas as gpd
    import pyogrio

    from pipelines import downloads, mapview
    from pipelines.periods import month_bounds

    store, points = planted
    viewer = VIEWERS[role]
    query = IncidentQuery(neighbourhood=HOOD, start=month_bounds(pd.Period(MONTH))[0])
    view = downloads.map_view(
        store,
        viewer,
        query,
        areas=store.read_areas(),
        incidents=privacy.read_incidents(store, viewer, query),
        counts=privacy.published_counts(store, viewer, query) if viewer.suppressed else None,
        assets=privacy.read_table(store, viewer, "assets"),
        interventions=privacy.read_table(store, viewer, "interventions"),
        layers=mapview.allowed_layers(viewer),
    )
    text = []
    for layer in view.names:
        text.append(downloads.to_bytes(view, "csv", layer).decode())
        text.append(downloads.to_bytes(view, "geojson", layer).decode())
    path = tmp_path / "map.gpkg"
    path.write_bytes(downloads.to_bytes(view, "gpkg"))
    for layer, _ in pyogrio.list_layers(path):
        frame = gpd.read_file(path, layer=layer)
        text.append(frame.to_csv() + frame.geometry.to_wkt(rounding_precision=7).str.cat(sep=" "))
    assert not _leaks("\n".join(text), points), role
    if role in ("planner", "act_member"):  # the planted rows are there, generalised: the scan looked at them
        assert len(view.layers["incidents"]) >= N_PLANTED


@pytest.mark.parametrize("role", ["public", "cso", "planner", "act_member"])
def test_layer_exports_refuse_other_roles(planted, tmp_path, role):
    store, _ = planted
    for layer in export.EXPORT_LAYERS:
        with pytest.raises(privacy.AccessDenied, match="may not use export"):
            export.export_layer(store, "geojson", tmp_path / "x.geojson", layer=layer, viewer=VIEWERS[role])


def test_the_scan_finds_the_planted_rows_where_they_may_be_seen(planted, monkeypatch):
    """Control: an analyst's map holds the planted points and markers, so the scans above can fail."""
    store, points = planted
    monkeypatch.setenv(STORE_ENV, store.url)
    at = AppTest.from_file(APP, default_timeout=90)
    app_login(at, store, "analyst")
    at.run()
    leaks = _leaks(_app_text(at), points)
    assert MARK in leaks and len(leaks) == N_PLANTED + 1, leaks


def test_planted_rows_are_sensitive_and_the_person_is_hidden(planted):
    """The planted rows are what the scans look for: sensitive (an unmapped category fails closed),
    generalised for a planner, and the person's asset is seen by the admin only."""
    store, points = planted
    seen = privacy.read_incidents(store, VIEWERS["planner"])
    mine = seen[seen["external_id"].isna() & seen["generalised"]]
    assert len(mine) >= N_PLANTED
    analyst = privacy.read_incidents(store, Viewer(username="a", role="analyst"), audit_view=False)
    assert (analyst["description"].fillna("").str.contains(MARK)).sum() == N_PLANTED
    for role, viewer in VIEWERS.items():
        assets = privacy.read_table(store, viewer, "assets")
        assert not assets["name"].str.contains(MARK).any(), role
    admin = privacy.read_table(store, privacy.operator("tests"), "assets")
    assert admin["name"].str.contains(MARK).sum() == 1


def test_every_surface_is_listed():
    """A new page, export layer or publishing CLI command must be added to SURFACES (and so scanned)."""
    pages = {f"page:{p.stem}" for p in (ROOT / "dashboard" / "app_pages").glob("*.py")}
    assert pages <= set(SURFACES), f"pages not scanned: {sorted(pages - set(SURFACES))}"
    assert set(export.EXPORT_LAYERS) == {"incidents", "assets", "interventions", "areas"}, "scan the new layer"
    parser = _parser()
    commands = set(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices)
    # the operator-only ones (the CLI runs as admin): hotspots prints exact figures, actions edits the register
    known = {
        "ingest",
        "batches",
        "users",
        "audit",
        "db",
        "serve",
        "demo",
        "hotspots",
        "taxonomy",
        "areas",  # other names of stations (operator's reference data, no incident data)
        "actions",
        *CLI_PUBLICATIONS,
    }
    assert commands <= known, f"CLI commands not reviewed for disclosure: {sorted(commands - known)}"
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) reads the PDF pack back"


#: What streamlit-folium's frame was last sent as layers (it keeps them to compare with the next render).
_SENT_LAYERS = """() => {
  const sent = window.__GLOBAL_DATA__ || {};
  return String(sent.last_feature_group || '') + String(sent.last_layer_control || '');
}"""


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
def test_the_map_in_a_real_browser_holds_nothing_the_role_may_not_see(planted, browser, tmp_path):
    """What the browser received for the map page (the page and the map's frame), as each role."""
    from tests.dashboard.browser.test_dashboard import MAP_FRAME, _wait_idle, login_as

    store, points = planted
    with running_dashboard(store.url, tmp_path / "server.log") as server:
        for role in (*SURFACES["page:map_explorer"], "analyst"):  # the analyst: a control that the scan finds them
            with recording_page(browser, viewport={"width": 1280, "height": 720}) as page:
                if role == "public":
                    page.goto(server)
                    _wait_idle(page)
                else:
                    login_as(page, server, store, role, **({"org": "Another CSO"} if role == "cso" else {}))
                    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Map explorer").first.click()
                    _wait_idle(page)
                html = ""
                for _ in range(5):  # the map's frame is redrawn while the page settles: read it once it holds the map
                    page.frame_locator(MAP_FRAME).locator(".leaflet-container").wait_for(timeout=60_000)
                    _wait_idle(page)
                    frame = page.locator(MAP_FRAME).element_handle().content_frame()
                    # the frame's page, and the layers it was sent as script text and evaluated in place
                    # (dashboard/map_frame.py): they are in no document, only in what the frame received
                    html = page.content() + (frame.content() + frame.evaluate(_SENT_LAYERS) if frame else "")
                    if "leaflet-container" in html:
                        break
                assert "leaflet-container" in html, role
                leaks = _leaks(html, points)
                assert (MARK in leaks and len(leaks) > 1) if role == "analyst" else not leaks, (role, leaks)
                assert not page.external, page.external

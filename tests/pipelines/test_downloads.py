"""Downloads in the browser (pipelines/downloads.py, dashboard/common.offer_downloads): each holds exactly
what its page shows for the role and the filters, opens in GDAL, parses, is formula-safe, and is audited."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal
from PIL import Image

from pipelines import audit, downloads, export, mapview, privacy
from pipelines.hotspots.recipe import hotspots_for_neighbourhood
from pipelines.periods import month_bounds
from pipelines.privacy import PUBLIC, Viewer
from pipelines.settings import STORE_ENV
from pipelines.store import IncidentQuery
from tests._helpers import copy_store, page_as

HOOD = "KHA-HARARE-HOLOMISA"  # the sidebar's default Safe Neighbourhood
CSO_ORG = "Khayelitsha Community Safety Forum (simulated survey)"  # the demo's community reports
ROLES = ("public", "cso", "planner", "act_member", "analyst")


def _viewer(role: str) -> Viewer:
    if role == "public":
        return PUBLIC
    return Viewer(username=f"test-{role}", role=role, org=CSO_ORG if role == "cso" else None)


@pytest.fixture(scope="module")
def store(demo_store, tmp_path_factory):
    """A copy of the demo (downloads write to the audit log)."""
    copied = copy_store(demo_store, tmp_path_factory.mktemp("downloads") / "store.gpkg")
    yield copied
    copied.close()


def _query(store) -> tuple[IncidentQuery, str]:
    """The map's default filters: the Harare neighbourhood, the last 12 months, everything else open."""
    months, _ = privacy.filter_choices(store)
    first, last = months[11], months[0]
    return IncidentQuery(
        neighbourhood=HOOD, start=month_bounds(first)[0], end=month_bounds(last)[1]
    ), f"{first} to {last}"


def _map_view(store, viewer: Viewer, *, layers=mapview.DEFAULT_LAYERS, query=None) -> downloads.DownloadView:
    """The map download as the page builds it: from the frames the page reads through the disclosure core."""
    default, period = _query(store)
    query = query or default
    hot = hotspots_for_neighbourhood(store, HOOD, viewer=viewer, resolution=None, until=None)
    return downloads.map_view(
        store,
        viewer,
        query,
        areas=store.read_areas(),
        incidents=privacy.read_incidents(store, viewer, query, audit_view=False),
        counts=privacy.published_counts(store, viewer, query) if viewer.suppressed else None,
        assets=privacy.read_table(store, viewer, "assets"),
        interventions=privacy.read_table(store, viewer, "interventions"),
        hotspots=hot.cells,
        layers=[layer for layer in layers if layer in mapview.allowed_layers(viewer)],
        period=period,
    )


def _gpkg(data: bytes, tmp_path) -> dict[str, gpd.GeoDataFrame]:
    path = tmp_path / "download.gpkg"
    path.write_bytes(data)
    return {name: gpd.read_file(path, layer=name) for name, _ in pyogrio.list_layers(path)}


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("role", ROLES)
def test_map_download_holds_what_the_page_shows(store, monkeypatch, role):
    monkeypatch.setenv(STORE_ENV, store.url)
    viewer = _viewer(role)
    at = page_as(
        store, "map_explorer", None if role == "public" else role, **({"org": CSO_ORG} if role == "cso" else {})
    )
    offered = {b.proto.label for b in at.get("download_button")}
    assert offered == {"GeoPackage", "GeoJSON", "CSV", "Map image (PNG)"}, offered
    view = _map_view(store, viewer)
    query, period = _query(store)
    shown = _metric(at, "Incidents matching the filters")
    if viewer.suppressed:  # exactly the public export's features, from the counts the screen shows
        counts = privacy.published_counts(store, viewer, query)
        assert shown == counts.total_shown
        assert_geodataframe_equal(view.layers["incident_counts"], export.public_view(store, query, period=period))
        assert "safe_neighbourhoods" not in view.layers and "incidents_per_hexagon" not in view.layers
    if role == "public":
        assert "incidents" not in view.layers
    elif role == "cso":  # its own organisation's points, and nobody else's
        own = view.layers["incidents"]
        assert set(own["Organisation"]) == {CSO_ORG}
        assert f"({len(own):,})" in " ".join(c.value for c in at.caption)
    else:
        rows = view.layers["incidents"]
        assert f"{len(rows):,}" == shown
        seen = privacy.read_incidents(store, viewer, query, audit_view=False)
        assert sorted(rows["Reference"]) == sorted(seen["incident_id"].astype(str))
        area = view.layers["safe_neighbourhoods"].set_index("Name")["Incidents"]
        assert area.sum() == len(seen.dropna(subset=["neighbourhood_code"]))


def test_planner_gets_sensitive_rows_generalised_and_the_analyst_exactly(store):
    planner = _map_view(store, _viewer("planner")).layers["incidents"]
    analyst = _map_view(store, _viewer("analyst")).layers["incidents"]
    query, _ = _query(store)
    exact = store.read_incidents(query)
    sensitive = set(exact.loc[exact["sensitive"].astype(bool), "incident_id"])
    assert sensitive, "the demo holds sensitive rows in the default view"
    general = planner[planner["Location"] == "generalised to its hexagon centre"]
    assert len(general) == len(sensitive) and general["Description"].isna().all()
    assert not set(planner["Reference"]) & sensitive  # their ids are masked too, as on the screen
    assert "Sensitive category" not in planner
    assert (analyst["Sensitive category"] == "yes").sum() == len(sensitive)
    by_id = analyst.set_index("Reference").geometry
    stored = exact.set_index("incident_id").geometry
    assert by_id.loc[list(sensitive)].geom_equals(stored.loc[list(sensitive)]).all()


def test_cso_never_gets_another_organisations_rows(store):
    other = Viewer(username="test-other-cso", role="cso", org="Another CSO")
    view = _map_view(store, other)
    assert "incidents" not in view.layers  # it has none; the counts are the public's
    public = _map_view(store, PUBLIC)
    assert_geodataframe_equal(view.layers["incident_counts"], public.layers["incident_counts"])


def test_public_downloads_with_different_filters_are_each_the_public_export(store):
    """Differencing two downloads gives what differencing two public exports (two screens) gives: each is
    published by the disclosure core for its own query, with its own suppression."""
    query, _ = _query(store)
    for categories in (None, ("assault_common",), ("robbery_street",)):
        narrowed = IncidentQuery(**{**query.__dict__, "categories": categories})
        view = _map_view(store, PUBLIC, query=narrowed)
        published = export.public_view(store, narrowed, period=view.period)
        assert_geodataframe_equal(view.layers["incident_counts"], published)
        small = view.layers["incident_counts"]["incidents"]
        assert not small.isin([str(n) for n in range(1, 5)]).any()


def test_geopackage_opens_in_gdal_with_named_layers(store, tmp_path):
    view = _map_view(store, _viewer("planner"), layers=(*mapview.DEFAULT_LAYERS, "hexagons"))
    data = downloads.to_bytes(view, "gpkg")
    path = tmp_path / view.file_name("gpkg")
    path.write_bytes(data)
    assert path.name == "areasafe-map-harare-holomisa-" + view.period.replace(" ", "-") + ".gpkg"
    layers = dict(pyogrio.list_layers(path).tolist())
    assert list(layers) == list(view.layers)
    assert {"safe_neighbourhoods", "incidents", "incidents_per_hexagon", "assets", "interventions"} <= set(layers)
    assert layers["incidents"] == "Point"
    for name, frame in view.layers.items():
        info = pyogrio.read_info(path, layer=name)
        assert info["crs"] == "EPSG:4326", name
        assert info["features"] == len(frame), name
    assert "When" in pyogrio.read_info(path, layer="incidents")["fields"]


def test_geojson_parses_and_csv_is_formula_safe(store):
    view = _map_view(store, _viewer("analyst"))
    collection = json.loads(downloads.to_bytes(view, "geojson", "incidents"))
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == len(view.layers["incidents"])
    hostile = pd.DataFrame({"name": ['=HYPERLINK("http://x")', "+1", "@SUM(A1)", "-2", "plain"], "n": [1, 2, 3, 4, 5]})
    table = downloads.table_view("registers", {"assets": hostile})
    text = downloads.to_bytes(table, "csv").decode()
    cells = pd.read_csv(io.StringIO(text), dtype=str)["Name"].tolist()
    assert cells == ['\'=HYPERLINK("http://x")', "+1", "'@SUM(A1)", "-2", "plain"]
    assert table.formats == ("csv",)
    header = downloads.to_bytes(view, "csv", "incidents").decode().splitlines()[0]
    assert header.startswith("Reference,When,Category") and "batch_id" not in header and "_code" not in header


def test_map_image_is_a_png_with_its_legend(store):
    view = _map_view(store, PUBLIC)
    data = downloads.to_bytes(view, "png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    assert image.size == (1600, 1800)  # 8 x 9 in at 200 dpi: the legend in the bottom fifth
    legend = image.convert("L").crop((0, int(1800 * 0.8), 1600, 1800))
    assert np.asarray(legend).min() < 100, "nothing drawn in the legend"
    figure = view.figure()
    assert set(figure.hexagons["label"]) and figure.hexagons["label"].iloc[0] == "0–4"  # "<5" never its own class


def test_each_download_is_audited_as_an_export(store):
    viewer = _viewer("analyst")
    view = _map_view(store, viewer)
    downloads.deliver(store, viewer, view, "csv", "incidents")
    log = audit.read_log(store, privacy.operator("tests"), event="export", limit=1)
    assert log["user"].iloc[0] == "test-analyst"
    assert log["target"].iloc[0] == view.file_name("csv", "incidents")
    detail = json.loads(log["detail"].iloc[0])
    assert detail["rows"] == {"incidents": len(view.layers["incidents"])}
    assert detail["filters"]["neighbourhood"] == "Harare Holomisa" and detail["format"] == "csv"
    assert detail["sensitive_rows"] == view.sensitive_rows > 0


@pytest.mark.parametrize(
    ("page", "role", "formats"),
    [
        ("profile", None, {"GeoPackage", "CSV"}),  # GeoJSON once a layer with a place is chosen
        ("profile", "planner", {"GeoPackage", "CSV"}),
        ("act_review", "act_member", {"CSV"}),
        ("registers", "planner", {"GeoPackage", "GeoJSON", "CSV"}),
        ("actions", "planner", {"CSV"}),
        ("batches", "cso", {"CSV"}),
        ("data_quality", "planner", {"CSV"}),
    ],
)
def test_pages_that_show_data_offer_it(store, monkeypatch, page, role, formats):
    monkeypatch.setenv(STORE_ENV, store.url)
    at = page_as(store, page, role, **({"org": CSO_ORG} if role == "cso" else {}))
    offered = {b.proto.label for b in at.get("download_button")}
    assert formats <= offered, offered


@pytest.mark.browser
def test_a_planner_downloads_the_map_as_a_geopackage_in_chromium(store, browser, tmp_path):
    """A real click on the map page's GeoPackage button: the file arrives, opens in GDAL, holds the
    planner's rows of the default filters, and the click is in the audit log."""
    from tests._dashboard import CHROMIUM, recording_page, running_dashboard
    from tests.dashboard.browser.test_dashboard import login_as, open_page

    if not CHROMIUM.exists():
        pytest.skip("needs Debian chromium at /usr/bin/chromium")
    with (
        running_dashboard(store.url, tmp_path / "server.log") as server,
        recording_page(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True) as page,
    ):
        login_as(page, server, store, "planner")
        open_page(page, "Map explorer")
        button = page.get_by_role("button", name="GeoPackage")
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=120_000) as caught:
            button.click()
        download = caught.value
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        assert not page.external, page.external
    assert path.name.startswith("areasafe-map-harare-holomisa-") and path.suffix == ".gpkg"
    layers = dict(pyogrio.list_layers(path).tolist())
    assert layers["incidents"] == "Point"
    query, _ = _query(store)
    seen = privacy.read_incidents(store, _viewer("planner"), query, audit_view=False)
    assert pyogrio.read_info(path, layer="incidents")["features"] == len(seen)
    log = audit.read_log(store, privacy.operator("tests"), event="export", limit=5)
    assert path.name in set(log["target"])


@pytest.mark.parametrize("revoke", ["logout", "disable", "new role"])
def test_a_download_drawn_before_a_session_ended_delivers_nothing(store, revoke):
    from pipelines import auth

    username = f"dl-{revoke.replace(' ', '-')}"
    auth.add_user(store, username, role="planner", password="download-password-1", actor=privacy.operator("tests"))
    session = auth.authenticate(store, username, "download-password-1")
    view = _map_view(store, session.viewer)
    assert downloads.deliver(store, session.viewer, view, "csv", "incidents", session=session)  # while live
    admin = privacy.operator("tests")
    if revoke == "logout":
        auth.logout(store, session)
    elif revoke == "disable":
        auth.set_disabled(store, username, True, actor=admin)
    else:
        auth.set_role(store, username, "act_member", actor=admin)
    exports = len(store.read_table("audit_log", where={"event": "export", "user": username}))
    with pytest.raises(auth.SessionExpired):
        downloads.deliver(store, session.viewer, view, "csv", "incidents", session=session)
    assert len(store.read_table("audit_log", where={"event": "export", "user": username})) == exports


def test_a_download_for_another_account_than_its_session_delivers_nothing(store):
    from pipelines import auth

    auth.add_user(store, "dl-other", role="planner", password="download-password-1", actor=privacy.operator("tests"))
    session = auth.authenticate(store, "dl-other", "download-password-1")
    with pytest.raises(auth.SessionExpired):
        downloads.deliver(store, _viewer("analyst"), _map_view(store, _viewer("analyst")), "csv", session=session)

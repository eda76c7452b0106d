"""People's assets (ABCD ``individuals``): never public, otherwise only by the person's recorded consent
(finding 5 of issue 15). The demo has a retired nurse (consent: officials) and a playgroup host (no
consent recorded)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from pipelines import export, privacy
from pipelines.ingest import assets as registers
from pipelines.privacy import PUBLIC, Viewer
from pipelines.settings import STORE_ENV
from tests._helpers import app_login, write_csv
from tests.dashboard.test_app_pages import APP

NURSE = "Community first-aid volunteer (retired nurse)"
PLAYGROUP = "Home-based early learning playgroup"


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        pytest.param(PUBLIC, set(), id="public"),
        pytest.param(Viewer(username="c", role="cso", org="Some CSO"), set(), id="cso"),
        pytest.param(Viewer(username="p", role="planner"), {NURSE}, id="planner"),
        pytest.param(Viewer(username="m", role="act_member"), {NURSE}, id="act_member"),
        pytest.param(Viewer(username="a", role="analyst"), {NURSE}, id="analyst"),
        pytest.param(privacy.operator("tests"), {NURSE, PLAYGROUP}, id="admin"),
    ],
)
def test_people_are_seen_only_by_their_consent(demo_store, viewer, sees):
    assets = privacy.read_table(demo_store, viewer, "assets")
    assert set(assets.loc[assets["abcd_category"] == "individuals", "name"]) == sees
    assert (assets["abcd_category"] != "individuals").sum() > 20  # everything else stays


@pytest.mark.parametrize("page", ["map_explorer", "profile"])
def test_public_pages_show_no_person(demo_store, monkeypatch, page):
    monkeypatch.setenv(STORE_ENV, demo_store.url)
    at = AppTest.from_file(APP, default_timeout=60)
    app_login(at, demo_store, None)
    at.run()
    if page != "map_explorer":
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception
    shown = "\n".join(str(el.proto) for el in at.get("component_instance")) + str(at.dataframe)
    assert "Harare Library" in shown or page == "profile"  # the scan reads what the page drew
    assert "retired nurse" not in shown and "playgroup" not in shown


def test_public_pack_and_the_public_export_show_no_person(demo_store):
    from pipelines.act.pack import build_pack, render_html

    html = render_html(build_pack(demo_store, "KHA-HARARE-HOLOMISA", "2026-10", viewer=PUBLIC, public=True))
    assert "retired nurse" not in html and "Harare Library" in html
    assert "retired nurse" not in export.public_view(demo_store).to_json()


@pytest.mark.parametrize(
    ("written", "recorded"),
    [("Yes", "partners"), ("ACT only", "act"), ("officials", "act"), ("", None), ("maybe", None), ("no", "none")],
)
def test_consent_is_read_from_the_register_file(store, tmp_path, written, recorded):
    csv = write_csv(
        tmp_path,
        "people.csv",
        f"name,abcd_category,type,custodian,consent,latitude,longitude\nMs X,individuals,volunteer,Self,{written},"
        "-34.05,18.67\n",
    )
    registers.ingest_assets(store, csv, user="tests")
    stored = store.read_table("assets")
    assert stored["sharing_consent"].iloc[0] == recorded or (
        recorded is None and stored["sharing_consent"].isna().all()
    )
    partner = Viewer(username="c", role="cso", org="O")
    assert len(privacy.read_table(store, partner, "assets")) == (recorded == "partners")
    assert json.loads(export.public_view(store).to_json())["features"] == []  # no areas, no incidents

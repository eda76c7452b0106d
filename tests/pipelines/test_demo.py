"""The demo store built from data/demo through the real pipelines: planted numbers come out exactly."""

from __future__ import annotations

import json

import pytest

from pipelines.demo import build_demo
from pipelines.settings import DEMO_DIR

PLANTED = json.loads((DEMO_DIR / "planted.json").read_text())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from pipelines.store import open_store

    store = open_store(tmp_path_factory.mktemp("demo-core") / "demo.gpkg")
    batches = {b.file_name: b for b in build_demo(store)}
    yield store, batches
    store.close()


def test_municipal_dirty_rows_are_accounted_for(built):
    _, batches = built
    batch = batches["incidents_municipal.csv"]
    planted = PLANTED["incidents_municipal"]
    dirty = planted["dirty_rows"]
    assert batch.rows_read == planted["rows"]
    assert batch.rows_read == batch.accepted + batch.rejected + batch.duplicates
    assert batch.rejections == {
        "missing_location": dirty["empty_coordinates"],
        "invalid_coordinates": dirty["zero_coordinates"],
    }
    assert batch.duplicates == dirty["duplicate_rows"]
    assert batch.warnings["swapped_coordinates"] == dirty["swapped_coordinates"]


def test_kobo_survey_dirty_rows_pii_and_categories(built):
    store, batches = built
    batch = batches["cso_survey_kobo.csv"]
    planted = PLANTED["cso_survey_kobo"]
    dirty = planted["dirty_rows"]
    assert batch.rows_read == planted["rows"]
    assert batch.rejections == {
        "missing_location": dirty["missing_location"],
        "future_date": dirty["future_date"],
        "invalid_date": dirty["unparseable_date"],
    }
    assert batch.duplicates == dirty["duplicate_submission"]
    assert batch.warnings["swapped_coordinates"] == dirty["swapped_coordinates"]
    assert batch.warnings["unknown_category"] == sum(planted["unmatched_types"].values())
    incidents = store.read_table("incidents", where={"source": "community"})
    kept = store.read_source_rows()
    incidents["raw"] = incidents["incident_id"].map(lambda i: kept.loc[i].to_json())  # the row as the file gave it
    incidents = incidents.set_index("external_id")
    for kind, uuids in planted["pii_uuids"].items():
        for uid in uuids:
            text = incidents.loc[uid, "description"] + incidents.loc[uid, "raw"]
            if kind == "html":
                assert "<b>tsotsis</b>" in incidents.loc[uid, "description"]  # stored literally, escaped on display
            else:
                assert any(token in text for token in ("[PHONE]", "[EMAIL]", "[ID NUMBER]")), (kind, uid)
    raw = " ".join(incidents["raw"])
    assert "reporter_name" not in raw and "reporter_phone" not in raw
    misspelt = incidents[incidents["raw_category"].isin(list(planted["misspelled_types"]))]
    assert len(misspelt) == sum(planted["misspelled_types"].values())
    assert (misspelt["category"] != "other").all()


def test_areas_registers_and_counts(built):
    store, batches = built
    assert len(store.read_areas("precinct")) == 6 and len(store.read_areas("neighbourhood")) == 30
    assert store.read_areas("precinct")["population"].notna().all()
    # one log entry per intervention at ingest, plus the dated history of intervention_updates.csv
    assert store.count("interventions") == 12 and store.count("intervention_log") == 12 + 11
    assert batches["schools.csv"].rejections == {"missing_location": 2}
    assert store.count("area_counts") == 162 * 11


def test_planted_hotspot_is_in_the_right_areas(built):
    store, _ = built
    from pipelines.store import IncidentQuery

    hotspot = PLANTED["emerging_hotspot"]
    incidents = store.read_incidents(IncidentQuery(neighbourhood=hotspot["neighbourhood_code"]))
    assert (incidents["precinct_code"] == hotspot["precinct_code"]).mean() > 0.5
    months = incidents["occurred_at"].dt.tz_convert("Africa/Johannesburg").dt.strftime("%Y-%m")
    near = incidents.to_crs(32734).distance(
        incidents.iloc[:1]
        .to_crs(32734)
        .geometry.iloc[0]
        .__class__(
            *__import__("pyproj")
            .Transformer.from_crs(4326, 32734, always_xy=True)
            .transform(hotspot["lon"], hotspot["lat"])
        )
    )
    in_cluster = months[(near < hotspot["radius_m"]).to_numpy()].value_counts()
    for month, expected in hotspot["incidents_per_month"].items():
        assert in_cluster.get(month, 0) >= expected


def test_building_twice_adds_nothing(built):
    store, _ = built
    tables = ("incidents", "rejections", "areas", "assets", "interventions", "intervention_log")
    before = {t: store.count(t) for t in (*tables, "meetings", "actions", "action_log")}
    build_demo(store)
    assert {t: store.count(t) for t in before} == before

"""pipelines.ingest.forms: save_asset / save_intervention check, place and commit one record."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import shapely

from pipelines.ingest import forms as registers
from pipelines.ingest.forms import RecordError

HARARE = "KHA-HARARE-HOLOMISA"
IN_HARARE = {"lon": 18.674, "lat": -34.0592}  # the planted demo hot spot, inside Harare


@pytest.fixture
def store(any_demo_copy):
    """A private copy of the demo store, on each backend: these tests write to it."""
    return any_demo_copy


def _stalled(store):
    interventions = store.read_interventions()
    return interventions[interventions["status"] == "stalled"].iloc[0]


def test_save_asset_places_and_commits_one_batch(store):
    before = store.count("assets")
    batch = registers.save_asset(
        store, {"name": " Harare Library ", "abcd_category": "Institution", "type": "Library", **IN_HARARE}, user="ana"
    )
    assert (batch.kind, batch.file_name, batch.rows_read, batch.accepted, batch.user) == ("assets", "form", 1, 1, "ana")
    assert len(batch.sha256) == 64 and batch.outside_areas == 0
    assets = store.read_assets()
    assert len(assets) == before + 1
    row = assets[assets["batch_id"] == batch.batch_id].iloc[0]
    assert (row["name"], row["abcd_category"], row["type"]) == ("Harare Library", "institutions", "library")
    assert row["neighbourhood_code"] == HARARE and row["precinct_code"] == "PD199011"
    assert row.geometry.equals(shapely.Point(18.674, -34.0592))
    assert store.read_table("batches", where={"batch_id": batch.batch_id})["file_name"].tolist() == ["form"]


def test_editing_an_asset_keeps_its_id_and_point(store):
    first = store.read_assets().iloc[0]
    record = registers.record_for_form(store.read_assets(), "asset_id", first["asset_id"])
    record.update(name="Renamed", lon=None, lat=None)
    registers.save_asset(store, record)
    assets = store.read_assets().set_index("asset_id")
    assert len(assets) == store.count("assets")
    assert assets.loc[first["asset_id"], "name"] == "Renamed"
    assert assets.loc[first["asset_id"]].geometry.equals(first.geometry)


def test_changing_an_intervention_status_logs_a_dated_entry(store):
    stalled = _stalled(store)
    record = registers.record_for_form(store.read_interventions(), "intervention_id", stalled["intervention_id"])
    assert record["geometry_type"] == "LineString" and "lon" not in record  # a line keeps its geometry
    now = dt.datetime(2026, 10, 20, 9, 0, tzinfo=dt.UTC)
    log_before = store.count("intervention_log")
    batch = registers.save_intervention(
        store, {**record, "status": "In progress"}, user="ana", note="Eskom connected the feeder", now=now
    )
    interventions = store.read_interventions().set_index("intervention_id")
    row = interventions.loc[stalled["intervention_id"]]
    assert row["status"] == "in_progress" and row.geometry.equals(stalled.geometry)
    assert len(interventions) == store.count("interventions")
    log = store.read_table("intervention_log", where={"batch_id": batch.batch_id})
    assert store.count("intervention_log") == log_before + 1
    assert log[["intervention_id", "status", "note", "user"]].to_dict("records") == [
        {
            "intervention_id": stalled["intervention_id"],
            "status": "in_progress",
            "note": "Eskom connected the feeder",
            "user": "ana",
        }
    ]
    assert pd.to_datetime(log["changed_at"], utc=True).iloc[0] == pd.Timestamp(now)


def test_same_status_logs_only_when_there_is_a_note(store):
    stalled = _stalled(store)
    record = registers.record_for_form(store.read_interventions(), "intervention_id", stalled["intervention_id"])
    before = store.count("intervention_log")
    registers.save_intervention(store, record)
    assert store.count("intervention_log") == before
    registers.save_intervention(store, record, note="Still waiting for the cable")
    assert store.count("intervention_log") == before + 1


def test_new_intervention_gets_an_id_its_neighbourhood_and_a_first_log_entry(store):
    record = {
        "name": "Harare walkway lights",
        "status": "planned",
        "budget_zar": "R 350 000",
        "start": "2026-11-01",
        **IN_HARARE,
    }
    batch = registers.save_intervention(store, record)
    row = store.read_interventions().query("batch_id == @batch.batch_id").iloc[0]
    assert row["intervention_id"].startswith("I-") and row["neighbourhood_code"] == HARARE
    assert row["budget_zar"] == 350_000.0
    log = store.read_table("intervention_log", where={"batch_id": batch.batch_id})
    assert log["status"].tolist() == ["planned"]


ASSET = {"name": "Library", "abcd_category": "institutions", **IN_HARARE}
INTERVENTION = {"name": "Walkway lights", "status": "planned", **IN_HARARE}


@pytest.mark.parametrize(
    ("save", "record", "match"),
    [
        pytest.param("asset", {**ASSET, "name": "  "}, "name is required", id="asset-no-name"),
        pytest.param("asset", {**ASSET, "abcd_category": "famous"}, "abcd_category must be one of", id="bad-abcd"),
        pytest.param("asset", {**ASSET, "lon": None, "lat": None}, "no location; click the map", id="no-point"),
        pytest.param("asset", {**ASSET, "lat": -134.0}, "not a valid location", id="lat-out-of-range"),
        pytest.param("asset", {**ASSET, "lon": 0.0, "lat": 0.0}, "not a valid location", id="null-island"),
        pytest.param("asset", {**ASSET, "lat": "south"}, "must both be numbers", id="lat-not-a-number"),
        pytest.param("asset", {**ASSET, "asset_id": "A-nope"}, "'A-nope' is not stored", id="unknown-asset-id"),
        pytest.param("intervention", {**INTERVENTION, "status": "sleeping"}, "status must be one of", id="bad-status"),
        pytest.param("intervention", {**INTERVENTION, "name": None}, "name is required", id="intervention-no-name"),
        pytest.param(
            "intervention", {**INTERVENTION, "budget_zar": "lots"}, "budget_zar must be a number", id="budget"
        ),
        pytest.param("intervention", {**INTERVENTION, "budget_zar": -5}, "zero or more", id="negative-budget"),
        pytest.param("intervention", {**INTERVENTION, "start": "01/11/2026"}, "start must be a date", id="date-format"),
        pytest.param("intervention", {**INTERVENTION, "end": "2026-02-30"}, "end must be a date", id="no-such-day"),
        pytest.param(
            "intervention",
            {**INTERVENTION, "start": "2026-05-01", "end": "2026-04-01"},
            "is before start",
            id="end-first",
        ),
        pytest.param(
            "intervention",
            {**INTERVENTION, "name": "Ncumo Road street lighting upgrade"},
            "already registered.*choose it under Edit",
            id="duplicate-name",
        ),
    ],
)
def test_invalid_records_are_refused_and_nothing_is_stored(store, save, record, match):
    batches = store.count("batches")
    function = registers.save_asset if save == "asset" else registers.save_intervention
    with pytest.raises(RecordError, match=match):
        function(store, record)
    assert store.count("batches") == batches

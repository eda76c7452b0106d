"""Chunked ingest: a file validated, placed and written in chunks gives exactly what one chunk gives,
still as one all-or-nothing batch."""

from __future__ import annotations

import dataclasses
import sqlite3

import pandas as pd
import pytest

from pipelines import settings
from pipelines.ingest import incidents as ingest
from pipelines.ingest.incidents import ingest_incidents, prepare_incidents
from pipelines.store import IncidentQuery, StoreError
from pipelines.store.base import Store
from tests._helpers import load_areas, write_csv
from tests._stores import explode_on, writer_threads

# 23 rows: repeats across chunk borders (ids 3 and 4 come back later), an identical unnamed row twice,
# a missing location, a bad date, an unknown category, a phone number, swapped coordinates, a point
# outside both precincts and a malformed row.
ROWS = [
    "1,2025-03-04,Robbery,-34.05,18.55,near the rank",
    "2,2025-03-05,Robbery,-34.05,18.65,call 082 555 1234",
    "3,2025-03-06,Housebreaking,-34.03,18.58,",
    "4,2025-03-07,Stray goats,-34.04,18.62,",
    "5,2025-03-08,Robbery,,,no point",
    "6,not a date,Robbery,-34.05,18.55,",
    "7,2025-03-09,Robbery,18.57,-34.06,swapped",
    "8,2025-03-10,Robbery,-33.50,18.10,far away",
    "3,2025-03-06,Housebreaking,-34.03,18.58,",
    ",2025-03-11,Robbery,-34.02,18.56,same row twice",
    "9,2025-03-12,Robbery,-34.07,18.68,",
    "10,2025-03-13,Robbery,-34.08,18.52,",
    ",2025-03-11,Robbery,-34.02,18.56,same row twice",
    "11,2025-03-14,Robbery,-34.01,18.60,on the border",
    "12,2025-03-15,Robbery,-34.09,18.69,",
    "4,2025-03-07,Stray goats,-34.04,18.62,",
    "13,2025-03-16,Robbery,-34.05,18.57,",
    "14,2025-03-17,Robbery,-34.05,18.58,x,extra,fields",
    "15,2025-03-18,Robbery,-34.05,18.59,",
    "16,2025-03-19,Robbery,0,0,placeholder",
    "17,2025-03-20,Robbery,-34.06,18.61,",
    "18,2025-03-21,Robbery,-34.06,18.63,",
    "19,2025-03-22,Robbery,-34.06,18.64,",
]
NOW = "2025-06-01T00:00:00+00:00"


def _file(tmp_path, rows=ROWS, name="c.csv"):
    return write_csv(tmp_path, name, "id,date,category,latitude,longitude,description\n" + "\n".join(rows) + "\n")


def _chunks(monkeypatch, rows: int) -> None:
    monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, chunk_rows=rows))


def _stored(store: Store) -> tuple[list, list]:
    columns = ["external_id", "occurred_at", "category", "description", "precinct_code", "neighbourhood_code"]
    incidents = store.read_table("incidents")
    incidents = incidents.assign(x=incidents.geometry.x.round(6), y=incidents.geometry.y.round(6))
    keep = [*columns, "raw", "dedupe_key", "incident_id", "x", "y"]
    rejections = store.read_table("rejections")[["row_number", "reason", "message", "raw"]]
    return (
        incidents[keep].astype(str).sort_values("dedupe_key").values.tolist(),
        rejections.astype(str).sort_values("row_number").values.tolist(),
    )


def _records(frame) -> list[dict]:
    """Rows as plain records, missing values as None (pandas mixes None and NaN across concat)."""
    return [
        {k: (None if not isinstance(v, list) and v != v or v is None else v) for k, v in r.items()}
        for r in frame.to_dict("records")
    ]


def _summary(batch) -> dict:
    return {k: v for k, v in batch.summary().items() if k != "batch_id"}


@pytest.fixture
def two_stores(new_store, tmp_path):
    """Two stores of one backend (each test runs on both backends) holding the test areas."""
    stores = []
    for name in ("one", "many"):
        folder = tmp_path / name
        folder.mkdir()
        store = new_store()
        load_areas(store, folder)
        stores.append(store)
    return stores


@pytest.mark.parametrize("chunk_rows", [pytest.param(1, id="one-row"), pytest.param(4, id="four-rows")])
def test_chunked_ingest_stores_what_one_chunk_stores(two_stores, tmp_path, monkeypatch, chunk_rows):
    import pandas as pd

    one, many = two_stores
    path = _file(tmp_path)
    whole = ingest_incidents(one, path, source="community", org="A", now=pd.Timestamp(NOW))
    _chunks(monkeypatch, chunk_rows)
    chunked = ingest_incidents(many, path, source="community", org="A", now=pd.Timestamp(NOW))
    assert _summary(chunked) == _summary(whole)
    assert whole.duplicates == 3 and whole.rejected >= 4 and whole.outside_areas == 1  # the file checks something
    assert whole.rejections.get("malformed_row") == 1
    assert {"swapped_coordinates", "unknown_category", "redacted_pii"} <= set(whole.warnings)
    assert _stored(many) == _stored(one)
    assert many.count("batches") == 3 and many.count("incidents") == whole.accepted  # 2 area batches + this one


def test_chunked_dry_run_matches_one_chunk(two_stores, tmp_path, monkeypatch):
    import pandas as pd

    one, _ = two_stores
    path = _file(tmp_path)
    whole = prepare_incidents(one, path, source="community", org="A", now=pd.Timestamp(NOW))
    _chunks(monkeypatch, 3)
    chunked = prepare_incidents(one, path, source="community", org="A", now=pd.Timestamp(NOW))
    assert _summary(chunked.batch) == _summary(whole.batch)
    assert _records(chunked.rows) == _records(whole.rows)
    assert _records(chunked.rejections) == _records(whole.rejections)
    assert chunked.incidents["dedupe_key"].tolist() == whole.incidents["dedupe_key"].tolist()
    assert chunked.rows["row_number"].is_monotonic_increasing


def test_chunked_reupload_finds_stored_rows_in_every_chunk(any_area_store, tmp_path, monkeypatch):
    """The second file overlaps the first: every chunk is checked against the stored keys inside the
    transaction, with the GeoPackage bulk (packed R-tree) path on."""
    from pipelines.store import _gpkg_write, gpkg

    monkeypatch.setattr(_gpkg_write, "RTREE_BULK_MIN_ROWS", 10)
    _chunks(monkeypatch, 25)
    first = [f"{i},2025-03-04,Robbery,-34.0{i % 9 + 1},18.5{i % 9 + 1}," for i in range(100)]
    second = [f"{i},2025-03-04,Robbery,-34.0{i % 9 + 1},18.6{i % 9 + 1}," for i in range(50, 250)]
    a = ingest_incidents(any_area_store, _file(tmp_path, first, "a.csv"), source="community", org="A")
    b = ingest_incidents(any_area_store, _file(tmp_path, second, "b.csv"), source="community", org="A")
    assert (a.accepted, a.duplicates) == (100, 0)
    assert (b.accepted, b.duplicates) == (150, 50)
    assert any_area_store.count("incidents") == 250
    assert len(any_area_store.read_incidents(IncidentQuery(bbox=(18.6, -34.1, 18.7, -34.0)))) == 150  # ids 100..249
    if not isinstance(any_area_store, gpkg.GeoPackageStore):
        return
    conn = sqlite3.connect(any_area_store.url)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT rtreecheck('rtree_incidents_geometry')").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM rtree_incidents_geometry").fetchone()[0] == 250
    extent = "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'incidents'"
    tree = "SELECT MIN(minx), MIN(miny), MAX(maxx), MAX(maxy) FROM rtree_incidents_geometry"
    assert conn.execute(extent).fetchone() == conn.execute(tree).fetchone()  # QGIS zooms to this extent
    names = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'")
    }
    assert {"ux_incidents_0", "ix_incidents_batch_id"} <= names


def test_failure_in_a_later_chunk_stores_nothing(any_area_store, tmp_path, monkeypatch):
    _chunks(monkeypatch, 5)
    before = {t: any_area_store.count(t) for t in ("incidents", "rejections", "batches")}
    calls = explode_on(monkeypatch, any_area_store, "incidents", call=3)
    rows = [f"{i},2025-03-04,Robbery,-34.05,18.55," for i in range(40)]
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_incidents(any_area_store, _file(tmp_path, rows), source="community", org="A")
    assert len(calls) == 3
    assert {t: any_area_store.count(t) for t in before} == before
    assert not writer_threads()


def test_writer_left_without_finish_stores_nothing(any_area_store, tmp_path):
    prepared = prepare_incidents(any_area_store, _file(tmp_path), source="community", org="A")
    before = any_area_store.count("incidents")
    with any_area_store.batch_writer(expected_rows=len(prepared.incidents)) as writer:
        writer.add(incidents=prepared.incidents.assign(batch_id=prepared.batch.batch_id))
    assert any_area_store.count("incidents") == before
    assert not writer_threads()


def test_default_writer_collects_chunks_into_one_commit(any_area_store, tmp_path):
    """The interface's fallback (for stores without a streaming writer) commits once at ``finish``."""
    prepared = prepare_incidents(any_area_store, _file(tmp_path), source="community", org="A")
    incidents = prepared.incidents.assign(batch_id=prepared.batch.batch_id)
    with Store.batch_writer(any_area_store) as writer:
        writer.add(incidents=incidents.iloc[:5])
        assert any_area_store.count("incidents") == 0
        writer.add(incidents=incidents.iloc[5:])
        stored = writer.finish(prepared.batch)
    assert stored.accepted == len(incidents) == any_area_store.count("incidents")
    with pytest.raises(TypeError, match="unknown frame"):
        Store.batch_writer(any_area_store).add(people=incidents)
    with pytest.raises(TypeError, match="unknown frame"), any_area_store.batch_writer() as writer:
        writer.add(people=incidents)


def test_placing_writer_only_where_the_store_places(any_area_store, tmp_path):
    """``place=True`` hands placement to the store; a store that cannot place refuses it up front."""
    if not any_area_store.places_in_database:
        with pytest.raises(StoreError, match="cannot place incidents itself"):
            any_area_store.batch_writer(place=True)
        return
    prepared = prepare_incidents(any_area_store, _file(tmp_path), source="community", org="A")
    # The dry run placed the rows in Python; give the store the same rows as validated (unplaced, the
    # swapped point still swapped) and compare what it makes of them.
    unplaced = prepared.validated.incidents.assign(batch_id=prepared.batch.batch_id)
    assert unplaced["precinct_code"].isna().all()
    python_counts = prepared.batch
    batch = prepared.batch.with_counts(
        outside_areas=0,
        warnings={
            k: v
            for k, v in python_counts.warnings.items()
            if k not in ("outside_areas", "near_boundary", "swapped_coordinates")
        },
    )
    with any_area_store.batch_writer(expected_rows=len(unplaced), place=True) as writer:
        writer.add(incidents=unplaced.iloc[:7])
        writer.add(incidents=unplaced.iloc[7:])
        stored = writer.finish(batch)
    assert stored.warnings == python_counts.warnings and stored.outside_areas == python_counts.outside_areas
    placed = any_area_store.read_incidents().sort_values("incident_id")
    expected = prepared.incidents.sort_values("incident_id")
    for column in ("precinct_code", "neighbourhood_code"):
        assert placed[column].tolist() == [None if pd.isna(v) else v for v in expected[column]]
    assert placed.geometry.geom_equals(expected.geometry.set_axis(placed.index)).all()  # the swap, made in SQL


@pytest.mark.parametrize(
    ("rows", "step", "expected"),
    [
        (0, 100, [(0, 0)]),  # an empty file still gets one (empty) chunk, so its batch is stored
        (80, 100, [(0, 80)]),
        (100, 100, [(0, 100)]),
        (250, 100, [(0, 20), (20, 100), (100, 150), (150, 190), (190, 220), (220, 240), (240, 250)]),
        (110, 100, [(0, 10), (10, 50), (50, 80), (80, 100), (100, 110)]),
        (
            1_000_000,
            100_000,
            [
                (0, 20_000),
                (20_000, 100_000),
                *((k, k + 100_000) for k in range(100_000, 900_000, 100_000)),
                (900_000, 940_000),
                (940_000, 970_000),
                (970_000, 990_000),
                (990_000, 1_000_000),
            ],
        ),
        (7, 1, [(k, k + 1) for k in range(7)]),
    ],
)
def test_chunks_cover_every_row_once_and_taper_at_the_end(rows, step, expected):
    """The first chunk of a multi-chunk file is cut small, so the writer starts sooner, and the last
    ``step`` rows go in shrinking pieces, so the writer has little left once the last piece is
    prepared; every row is in exactly one chunk, in order."""
    assert list(ingest._chunk_bounds(rows, step)) == expected

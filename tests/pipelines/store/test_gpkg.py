"""What only the GeoPackage store has: a real file that GDAL/QGIS open, its packed R-tree, in-place
upgrades. The interface tests (both backends) are in test_store.py."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pyogrio
import pytest
import shapely

from pipelines.ingest.incidents import ingest_incidents
from pipelines.store import IncidentQuery, StoreError, open_store
from pipelines.store._gpkg_schema import SCHEMA_VERSION
from pipelines.store.gpkg import GeoPackageStore
from tests._helpers import write_csv


def _csv(tmp_path, name: str, ids: range, org_col: str = "") -> object:
    rows = "".join(f"{i},2025-03-04,Robbery,-34.05,18.{55 + i % 10:02d},row {i}{org_col}\n" for i in ids)
    return write_csv(tmp_path, name, "id,date,category,latitude,longitude,description\n" + rows)


def test_file_is_a_geopackage_gdal_reads(area_store, tmp_path):
    ingest_incidents(area_store, _csv(tmp_path, "a.csv", range(20)), source="community", org="A")
    path = area_store.url
    with open(path, "rb") as fh:
        header = fh.read(100)
    assert header[68:72] == b"GPKG"  # application_id
    layers = dict((str(n), str(t)) for n, t in pyogrio.list_layers(path))
    assert layers["incidents"] == "Point" and layers["areas"] == "MultiPolygon"
    frame = pyogrio.read_dataframe(path, layer="incidents")
    assert len(frame) == 20 and frame.crs.to_epsg() == 4326
    # the R-tree index answers a bbox query through GDAL
    box = pyogrio.read_dataframe(path, layer="incidents", bbox=(18.549, -34.06, 18.555, -34.04))
    assert set(box["external_id"]) == {"0", "10"}
    info = pyogrio.read_info(path, layer="incidents")
    assert info["features"] == 20
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM rtree_incidents_geometry").fetchone()[0] == 20


def test_gdal_edit_keeps_index_in_sync(area_store, tmp_path):
    """An edit made through plain SQL (as QGIS does) fires the R-tree triggers, which need ST_* functions."""
    ingest_incidents(area_store, _csv(tmp_path, "a.csv", range(3)), source="community", org="A")
    area_store._conn.execute("DELETE FROM incidents WHERE external_id = '0'")
    conn = sqlite3.connect(area_store.url)
    assert conn.execute("SELECT COUNT(*) FROM rtree_incidents_geometry").fetchone()[0] == 2


@pytest.mark.parametrize("name", ["store.txt", "store", "store.gpkg.bak"])
def test_paths_that_are_not_geopackages_are_refused(tmp_path, name):
    with pytest.raises(StoreError, match=r"must end in \.gpkg \(or be a postgresql://"):
        open_store(tmp_path / name)


def test_store_errors_are_areasafe_errors_that_pages_show(tmp_path):
    """The dashboard's pages catch the AreaSafeError family only: a store error must be one of it."""
    from pipelines.errors import AreaSafeError

    with pytest.raises(AreaSafeError, match=r"must end in \.gpkg"):
        open_store(tmp_path / "store.txt")


def test_non_geopackage_file_is_refused(tmp_path):
    path = tmp_path / "x.gpkg"
    path.write_text("not a database at all " * 100)
    with pytest.raises(StoreError, match="not a GeoPackage"):
        open_store(path)


def _scattered_csv(tmp_path, name: str, ids: range) -> object:
    # Points spread over the test areas on a deterministic grid, so bbox answers are checkable.
    rows = "".join(
        f"{i},2025-03-04,Robbery,-34.{(i * 7919) % 100:02d}{i % 7},18.{(i * 104729) % 100:02d}{i % 3},row {i}\n"
        for i in ids
    )
    return write_csv(tmp_path, name, "id,date,category,latitude,longitude,description\n" + rows)


@pytest.mark.parametrize(
    ("batches", "chunk_rows"),
    [
        pytest.param([3000], None, id="packed-into-empty"),
        pytest.param([3000], 700, id="packed-chunk-by-chunk"),
        pytest.param([3000, 40, 700], None, id="packed-then-row-by-row-then-rebuilt"),
        pytest.param([3000, 40, 700], 300, id="chunk-by-chunk-then-row-by-row-then-rebuilt"),
        pytest.param([120, 2500], None, id="row-by-row-then-rebuilt"),
    ],
)
def test_packed_rtree_matches_brute_force_and_gdal(area_store, tmp_path, monkeypatch, batches, chunk_rows):
    """Large batches rebuild the R-tree as a packed tree (written into its shadow tables, leaves
    chunk by chunk); it must stay a valid SQLite R*Tree that SQLite, GDAL and later row-by-row edits
    agree on."""
    import dataclasses

    from pipelines import settings
    from pipelines.store import _gpkg_write, gpkg

    monkeypatch.setattr(_gpkg_write, "RTREE_BULK_MIN_ROWS", 500)
    if chunk_rows:  # one override reaches the uploader's chunks and the writer's
        monkeypatch.setattr(settings, "SETTINGS", dataclasses.replace(settings.SETTINGS, chunk_rows=chunk_rows))
    start = 0
    for i, n in enumerate(batches):
        ingest_incidents(
            area_store, _scattered_csv(tmp_path, f"b{i}.csv", range(start, start + n)), source="community", org="A"
        )
        start += n
    # an edit through plain SQL after the packed build goes through the triggers
    area_store._conn.execute("DELETE FROM incidents WHERE external_id IN ('1', '2', '3')")
    conn = sqlite3.connect(area_store.url)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT rtreecheck('rtree_incidents_geometry')").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM rtree_incidents_geometry").fetchone()[0] == start - 3
    # every index is back after the bulk path dropped and rebuilt them
    names = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'")
    }
    assert {"ux_incidents_0", "ix_incidents_batch_id"} <= names
    stored = area_store.read_incidents()
    x, y = shapely.get_x(stored.geometry.to_numpy()), shapely.get_y(stored.geometry.to_numpy())
    for bbox in [(18.1, -34.5, 18.3, -34.2), (18.55, -34.06, 18.7, -34.0), (18.0, -34.99, 18.999, -34.0)]:
        minx, miny, maxx, maxy = bbox
        expected = set(stored.loc[(x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy), "external_id"])
        assert expected, "a bbox with no points checks nothing"
        got = area_store.read_incidents(gpkg.IncidentQuery(bbox=bbox))
        assert set(got["external_id"]) == expected
        through_gdal = pyogrio.read_dataframe(area_store.url, layer="incidents", bbox=bbox)
        assert set(through_gdal["external_id"]) == expected


@pytest.mark.parametrize(("rows", "located"), [(600, 30), (600, 0)], ids=["one-leaf", "no-entries"])
def test_packed_rtree_with_one_leaf_or_none_is_a_valid_tree(area_store, tmp_path, monkeypatch, rows, located):
    """A large batch whose rows mostly fail leaves a tree of one leaf (that leaf is the root) or an
    empty root; SQLite and the row-by-row edits that follow must accept either."""
    from pipelines.store import _gpkg_write

    monkeypatch.setattr(_gpkg_write, "RTREE_BULK_MIN_ROWS", 500)
    body = "".join(
        f"{i},2025-03-04,Robbery,{'-34.05' if i < located else ''},{'18.6' if i < located else ''},row {i}\n"
        for i in range(rows)
    )
    batch = ingest_incidents(
        area_store,
        write_csv(tmp_path, "few.csv", "id,date,category,latitude,longitude,description\n" + body),
        source="community",
        org="A",
    )
    assert (batch.accepted, batch.rejected) == (located, rows - located)
    ingest_incidents(area_store, _scattered_csv(tmp_path, "more.csv", range(1000, 1020)), source="community", org="A")
    conn = sqlite3.connect(area_store.url)
    assert conn.execute("SELECT rtreecheck('rtree_incidents_geometry')").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM rtree_incidents_geometry").fetchone()[0] == located + 20
    assert conn.execute("SELECT COUNT(*) FROM rtree_incidents_geometry_node").fetchone()[0] >= 1
    hits = conn.execute(
        "SELECT COUNT(*) FROM rtree_incidents_geometry WHERE minx <= 18.61 AND maxx >= 18.59 AND miny <= -34.04"
        " AND maxy >= -34.06"
    ).fetchone()[0]
    assert hits == located


def test_packed_rebuild_after_deletions_keeps_every_stored_row(area_store, tmp_path, monkeypatch):
    """Stored rows with gaps in their fids (deleted rows) go back into the rebuilt tree through the
    sorting path, not the unbroken-range one; the tree must still hold exactly the rows there are."""
    from pipelines.store import _gpkg_write

    monkeypatch.setattr(_gpkg_write, "RTREE_BULK_MIN_ROWS", 500)
    ingest_incidents(area_store, _scattered_csv(tmp_path, "a.csv", range(0, 900)), source="community", org="A")
    area_store._conn.execute("DELETE FROM incidents WHERE CAST(external_id AS INTEGER) % 7 = 0")
    ingest_incidents(area_store, _scattered_csv(tmp_path, "b.csv", range(900, 1500)), source="community", org="A")
    conn = sqlite3.connect(area_store.url)
    assert conn.execute("SELECT rtreecheck('rtree_incidents_geometry')").fetchone()[0] == "ok"
    fids = {r[0] for r in conn.execute("SELECT fid FROM incidents")}
    assert {r[0] for r in conn.execute("SELECT id FROM rtree_incidents_geometry")} == fids
    assert len(fids) == 1500 - len(range(0, 900, 7))


def test_packed_commit_with_duplicate_key_rolls_back_everything(area_store, tmp_path, monkeypatch):
    from pipelines.store import _gpkg_write, gpkg

    monkeypatch.setattr(_gpkg_write, "RTREE_BULK_MIN_ROWS", 10)
    ingest_incidents(area_store, _scattered_csv(tmp_path, "a.csv", range(50)), source="community", org="A")
    conn = sqlite3.connect(area_store.url)
    before = conn.execute("SELECT COUNT(*), (SELECT COUNT(*) FROM rtree_incidents_geometry) FROM incidents").fetchone()
    incidents = area_store.read_incidents(gpkg.IncidentQuery(columns=list(gpkg.schemas.INCIDENTS.columns)))
    incidents["dedupe_key"] = ["same-key"] * len(incidents)  # the unique index is rebuilt at the end and refuses
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"), area_store._transaction() as tx:
        area_store._insert(tx, gpkg.schemas.INCIDENTS, incidents)
    after = conn.execute("SELECT COUNT(*), (SELECT COUNT(*) FROM rtree_incidents_geometry) FROM incidents").fetchone()
    assert after == before
    assert conn.execute("SELECT rtreecheck('rtree_incidents_geometry')").fetchone()[0] == "ok"
    names = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'")
    }
    assert "ux_incidents_0" in names


def test_columns_too_big_to_stage_are_bound_row_by_row_and_a_tree_goes_in_in_parts(area_store, tmp_path, monkeypatch):
    """SQLite refuses a value over 1 GB: a chunk whose staged column would pass ``MAX_PARAM_BYTES`` is bound
    row by row instead, and the R-tree's nodes and rowid map go in parts of at most that size; the store
    holds the same rows and a valid tree either way."""
    from pipelines import schemas
    from pipelines.store import _gpkg_stage, _gpkg_write

    monkeypatch.setattr(_gpkg_write, "RTREE_BULK_MIN_ROWS", 10)
    monkeypatch.setattr(_gpkg_stage, "MAX_PARAM_BYTES", 64)
    batch = ingest_incidents(area_store, _scattered_csv(tmp_path, "a.csv", range(300)), source="community", org="A")
    assert batch.accepted == 300
    stored = area_store.read_incidents(IncidentQuery(columns=list(schemas.INCIDENTS.columns)))
    assert _gpkg_write.bind(schemas.INCIDENTS, stored) is None
    conn = sqlite3.connect(area_store.url)
    assert conn.execute("SELECT rtreecheck('rtree_incidents_geometry')").fetchone()[0] == "ok"
    fids = {r[0] for r in conn.execute("SELECT fid FROM incidents WHERE geometry IS NOT NULL")}
    assert {r[0] for r in conn.execute("SELECT id FROM rtree_incidents_geometry")} == fids
    assert len(fids) == 300


@pytest.mark.parametrize("large", [True, False])
def test_a_large_batch_writes_its_log_out_while_it_runs(area_store, tmp_path, monkeypatch, large):
    """A batch of at least ``RTREE_BULK_MIN_ROWS`` rows writes its write-ahead log out to disk from a thread of
    its own while it runs, so the checkpoint after ``COMMIT`` does not wait for every page at once (never the
    store file: closing a descriptor of it would drop SQLite's locks); the thread ends with the batch. A small
    batch starts none."""
    import os
    import threading

    from pipelines.store import _gpkg_write

    written = []
    fdatasync = os.fdatasync

    def recorded(fd):
        written.append(os.readlink(f"/proc/self/fd/{fd}"))
        fdatasync(fd)

    monkeypatch.setattr(os, "fdatasync", recorded)
    monkeypatch.setattr(_gpkg_write, "LOG_FLUSH_EVERY_S", 0.001)
    monkeypatch.setattr(_gpkg_write, "RTREE_BULK_MIN_ROWS", 10 if large else 10_000)
    batch = ingest_incidents(area_store, _scattered_csv(tmp_path, "a.csv", range(300)), source="community", org="A")
    assert batch.accepted == 300
    assert (f"{area_store.path.resolve()}-wal" in written) is large
    assert str(area_store.path.resolve()) not in written
    assert not [t for t in threading.enumerate() if t.name == "areasafe-gpkg-log-flush"]


def test_another_process_closing_the_store_during_a_large_batch_loses_nothing(area_store, tmp_path, monkeypatch):
    """The log flusher never opens and closes the store file itself: on Linux closing any descriptor of a file
    drops every POSIX lock the process holds on it, SQLite's among them. Without its lock, another process that
    closes its connection mid-batch believes it is the last one, checkpoints and deletes the write-ahead log the
    batch is writing to: the batch commits into a deleted file and is gone."""
    import subprocess
    import sys
    import time

    from pipelines.store import _gpkg_write, gpkg

    monkeypatch.setattr(_gpkg_write, "LOG_FLUSH_EVERY_S", 0.001)
    monkeypatch.setattr(_gpkg_write, "RTREE_BULK_MIN_ROWS", 10)
    finish = gpkg.GeoPackageStore._finish_batch
    count = (
        f"import sqlite3; c = sqlite3.connect({str(area_store.path)!r}); "
        "print(c.execute('SELECT COUNT(*) FROM incidents').fetchone()[0]); c.close()"
    )

    def finish_while_a_dashboard_reads(self, session, batch):
        time.sleep(0.05)  # the flusher has run
        subprocess.run([sys.executable, "-c", count], check=True, capture_output=True)
        return finish(self, session, batch)

    monkeypatch.setattr(gpkg.GeoPackageStore, "_finish_batch", finish_while_a_dashboard_reads)
    batch = ingest_incidents(area_store, _scattered_csv(tmp_path, "a.csv", range(300)), source="community", org="A")
    assert batch.accepted == 300
    stored = subprocess.run([sys.executable, "-c", count], check=True, capture_output=True, text=True).stdout
    assert stored.strip() == "300"


# --- schema upgrade in place (the PostGIS store uses migrations instead) ---
def _user(name, role, now):
    return pd.DataFrame({"username": [name], "role": [role], "disabled": [False], "created_at": [now]})


def test_older_store_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.gpkg"
    GeoPackageStore(path).close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE users; DELETE FROM gpkg_contents WHERE table_name = 'users';"
        "DROP TABLE login_failures; DELETE FROM gpkg_contents WHERE table_name = 'login_failures';"
        "DELETE FROM areasafe_meta WHERE key = 'login_salt';"
        "ALTER TABLE interventions DROP COLUMN funding_sphere;"
        "ALTER TABLE batches DROP COLUMN withdrawn_at;"
        "UPDATE areasafe_meta SET value = '1' WHERE key = 'schema_version';"
    )
    conn.close()
    store = GeoPackageStore(path)
    assert "funding_sphere" in store.read_table("interventions").columns
    assert "withdrawn_at" in store.read_table("batches").columns
    store.save(users=_user("ann", "admin", pd.Timestamp("2025-06-01T10:00Z")))
    assert store.count("users") == 1
    assert store.count("login_failures") == 0
    meta = dict(store._conn.execute("SELECT key, value FROM areasafe_meta"))
    assert meta["schema_version"] == SCHEMA_VERSION and len(meta["login_salt"]) == 64


def test_area_indexes_leave_out_rows_without_that_area_and_serve_area_reads(tmp_path):
    path = tmp_path / "old.gpkg"
    GeoPackageStore(path).close()
    conn = sqlite3.connect(path)  # a version-3 file: full indexes
    conn.executescript(
        "DROP INDEX ix_incidents_neighbourhood_code_occurred_at;"
        "CREATE INDEX ix_incidents_neighbourhood_code_occurred_at ON incidents (neighbourhood_code, occurred_at);"
        "UPDATE areasafe_meta SET value = '3' WHERE key = 'schema_version';"
    )
    conn.close()
    store = GeoPackageStore(path)
    sql = dict(store._conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    assert sql["ix_incidents_neighbourhood_code_occurred_at"].endswith('WHERE "neighbourhood_code" IS NOT NULL')
    assert sql["ix_incidents_precinct_code_occurred_at"].endswith('WHERE "precinct_code" IS NOT NULL')
    assert "WHERE" not in sql["ix_incidents_batch_id"]  # batch_id is never empty
    for column in ("neighbourhood_code", "precinct_code"):
        plan = " ".join(
            str(row[-1])
            for row in store._conn.execute(
                f"EXPLAIN QUERY PLAN SELECT fid FROM incidents WHERE {column} = ? AND occurred_at >= ?", ("X", "2025")
            )
        )
        assert f"ix_incidents_{column}_occurred_at" in plan


def test_new_store_uses_large_pages_and_an_older_file_keeps_its_own(tmp_path):
    assert GeoPackageStore(tmp_path / "new.gpkg")._conn.execute("PRAGMA page_size").fetchone()[0] == 65536
    old = tmp_path / "old.gpkg"
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("CREATE TABLE t (x)")  # any file written before: its page size is fixed
    conn.close()
    store = GeoPackageStore(old)  # an existing (here: foreign, empty) SQLite file gets the tables
    assert store.count("batches") == 0
    assert store._conn.execute("PRAGMA page_size").fetchone()[0] == 4096


def test_point_blobs_built_in_bulk_are_the_standard_encoding():
    import numpy as np
    import shapely

    from pipelines.store import _gpkg_binary as gpb

    points = np.array([shapely.Point(18.5, -34.1), shapely.Point(-0.0, 1e-300), shapely.Point(180, 90)], dtype=object)
    wkb = shapely.to_wkb(points, byte_order=1, flavor="iso")
    assert gpb.encode(points, 4326) == [b"GP\x00\x01" + (4326).to_bytes(4, "little") + w for w in wkb]
    assert shapely.equals(gpb.decode(gpb.encode(points, 4326)), points).all()
    mixed = np.array([shapely.Point(1, 2), None, shapely.Point(1, 2, 3), shapely.LineString([(0, 0), (1, 1)])])
    blobs = gpb.encode(mixed, 4326)  # anything but plain points takes the general path
    assert blobs[1] is None and shapely.equals(gpb.decode(blobs)[[0, 2, 3]], mixed[[0, 2, 3]]).all()


def test_point_blobs_from_coordinates_match_the_geometry_encoding():
    import numpy as np
    import shapely

    from pipelines.store import _gpkg_binary as gpb

    x, y = np.array([18.5, np.nan, 180.0, 18.6]), np.array([-34.1, -34.0, 90.0, np.nan])
    points = np.array([shapely.Point(18.5, -34.1), None, shapely.Point(180, 90), None], dtype=object)
    assert gpb.encode_xy(x, y, 4326) == gpb.encode(points, 4326)  # a missing coordinate is a null geometry


def test_incidents_given_as_coordinates_store_like_geometries(tmp_path):
    """The writer takes a point table as longitude/latitude columns (what the ingest hands it) and
    stores the same rows, blobs and R-tree entries as from a GeoDataFrame."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from pipelines import schemas
    from pipelines.store import open_store
    from pipelines.store.base import Batch

    rng = np.random.default_rng(3)
    n = 500
    frame = pd.DataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "source": "community",
            "org": "o",
            "external_id": None,
            "occurred_at": pd.Timestamp("2025-01-01", tz="UTC"),
            "category": "robbery",
            "raw_category": None,
            "description": None,
            "sensitive": False,
            "precinct_code": None,
            "neighbourhood_code": None,
            "raw": "{}",
            "row_number": np.arange(1, n + 1),
            schemas.LON: rng.uniform(18, 19, n),
            schemas.LAT: rng.uniform(-34.5, -33.5, n),
        }
    )
    stored = {}
    for form in ("coordinates", "geometry"):
        incidents = frame.assign(batch_id=form, dedupe_key=[f"{form}|{i}" for i in range(n)])
        if form == "geometry":
            incidents = schemas.as_geoframe(incidents)
            assert isinstance(incidents, gpd.GeoDataFrame) and schemas.LON not in incidents.columns
        store = open_store(tmp_path / f"{form}.gpkg")
        batch = Batch(form, "incidents", f"{form}.csv", "0" * 64, pd.Timestamp.now(tz="UTC"), rows_read=n, accepted=n)
        store.commit(batch, incidents=incidents)
        stored[form] = store.read_incidents().sort_values("incident_id", ignore_index=True)
        tree = store._conn.execute('SELECT count(*), min(minx), max(maxy) FROM "rtree_incidents_geometry"').fetchone()
        # R-tree boxes are 32-bit floats rounded outwards
        assert tree[0] == n and tree[1] <= frame[schemas.LON].min() < tree[1] + 1e-5
        assert tree[2] - 1e-5 < frame[schemas.LAT].max() <= tree[2]
        store.close()
    assert shapely.equals(stored["coordinates"].geometry.to_numpy(), stored["geometry"].geometry.to_numpy()).all()
    expected = frame.sort_values("incident_id", ignore_index=True)
    # A point missing one coordinate is stored as a missing geometry, with no R-tree entry.
    half = frame.iloc[:2].assign(batch_id="half", dedupe_key=["half|0", "half|1"], incident_id=["h0", "h1"])
    half.loc[0, schemas.LAT] = np.nan
    store = open_store(tmp_path / "coordinates.gpkg")
    store.commit(Batch("half", "incidents", "h.csv", "1" * 64, pd.Timestamp.now(tz="UTC"), rows_read=2), incidents=half)
    got = store.read_incidents().set_index("incident_id")
    assert got.loc["h0", "geometry"] is None and got.loc["h1", "geometry"] is not None
    assert store._conn.execute('SELECT count(*) FROM "rtree_incidents_geometry"').fetchone()[0] == n + 1
    store.close()
    np.testing.assert_array_equal(stored["coordinates"].geometry.x.to_numpy(), expected[schemas.LON].to_numpy())


def _summary_rows(path) -> pd.DataFrame:
    with sqlite3.connect(path) as conn:
        return pd.read_sql("SELECT batch_id, month, category, incidents FROM incident_months", conn)


def _counted(store) -> pd.DataFrame:
    from pipelines.store.base import Store

    return Store.incident_months(store)  # counted from every stored incident


def test_month_summary_is_stored_and_kept_with_uploads_erasure_and_remapping(area_store, tmp_path):
    from pipelines import access, terms
    from pipelines.privacy import operator

    first = ingest_incidents(area_store, _csv(tmp_path, "a.csv", range(30)), source="community", org="A")
    second = ingest_incidents(area_store, _csv(tmp_path, "b.csv", range(100, 112)), source="municipal", org="B")
    rows = _summary_rows(area_store.url)
    assert rows.groupby("batch_id")["incidents"].sum().to_dict() == {first.batch_id: 30, second.batch_id: 12}
    assert area_store.incident_months().equals(_counted(area_store))

    access.delete_batch(area_store, operator("tests"), first.batch_id, reason="test")  # erasure
    assert set(_summary_rows(area_store.url)["batch_id"]) == {second.batch_id}
    assert area_store.incident_months().equals(_counted(area_store))
    assert area_store.incident_months()["incidents"].sum() == 12

    # An unmapped term is mapped later: the summary follows the new category in the same transaction
    odd = "id,date,category,latitude,longitude,description\n900,2025-03-04,Zxqwv flumph,-34.05,18.55,odd\n"
    ingest_incidents(area_store, write_csv(tmp_path, "odd.csv", odd), source="community", org="A")
    assert area_store.incident_months().equals(_counted(area_store))
    terms.map_term(area_store, operator("tests"), "Zxqwv flumph", "anti_social_behaviour")
    assert "anti_social_behaviour" in set(area_store.read_incidents()["category"])
    assert set(_summary_rows(area_store.url)["category"]) == set(area_store.read_incidents()["category"])
    assert area_store.incident_months().equals(_counted(area_store))


def test_an_older_store_gets_its_month_summary_when_upgraded(area_store, tmp_path):
    ingest_incidents(area_store, _csv(tmp_path, "a.csv", range(25)), source="community", org="A")
    expected = area_store.incident_months()
    path = area_store.url
    area_store.close()
    with sqlite3.connect(path) as conn:  # as version 8 wrote it: no summary
        conn.execute("DROP TABLE incident_months")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'incident_months'")
        conn.execute("UPDATE areasafe_meta SET value = '8' WHERE key = 'schema_version'")
    upgraded = open_store(path)
    upgraded.initialise()
    assert _summary_rows(path)["incidents"].sum() == 25
    assert upgraded.incident_months().equals(expected)
    upgraded.close()


@pytest.mark.parametrize("points", ["coordinates", "geometries"])
def test_staged_rows_store_what_rows_bound_one_by_one_store(tmp_path, points):
    """A chunk staged in the caller's thread (``_gpkg_write.bind``: each column's bytes end to end, sliced
    back by one ``INSERT ... SELECT``) stores the same values, of the same SQLite types, with the same fids
    and R-tree entries, as the same rows bound one by one: numeric-looking text stays text, missing stays
    NULL (and empty text stays empty text, even in a column of nothing else), a value that is not text is
    stored as its text, multi-byte and NUL characters survive, and a column with one value (or none) is bound
    once."""
    import geopandas as gpd
    import numpy as np

    from pipelines import schemas
    from pipelines.store import _gpkg_write

    n = 10
    frame = pd.DataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "source": "community",
            "org": "Ikhaya Lethu (Khayelitsha) — ‘CSO’",
            "batch_id": "b1",
            "external_id": pd.Series(
                ["00123", "1e5", None, "", "x'); DROP TABLE incidents; --", "7", b"\xc3\xb1", 12345, "a\x00b", "😀"],
                dtype=object,
            ),
            "occurred_at": pd.to_datetime(
                ["2025-01-01T10:00Z", None, *["2026-06-30T23:59:59.123456Z"] * 8], utc=True, format="ISO8601"
            ),
            "category": "robbery",
            "raw_category": ["Robbery", None, "12", "3.50", "NULL", "", "robo", "x" * 5000, "ǃXóõ", "n"],
            "description": [None, "a\nb", "«quoted»", "0", "-1", "true", " ", "", "Molo, ndiphilile", "ñ"],
            "sensitive": [True, False, True, True, False, True, False, False, True, False],
            "precinct_code": ["0012", None, "12", "X", "X", "X", "X", "X", "X", "X"],
            "neighbourhood_code": ["", None] * 5,  # no value but empty ones: no bytes to slice
            "raw": None,
            "dedupe_key": [f"k{i}" for i in range(n)],
            schemas.LON: [18.5, 18.6, np.nan, 18.7, 18.8, 18.9, 19.0, 19.1, 19.2, 19.3],
            schemas.LAT: [-34.0, -33.9, -33.8, np.nan, -33.7, -33.6, -33.5, -33.4, -33.3, -33.2],
        }
    )
    if points == "geometries":
        xy = frame.pop(schemas.LON), frame.pop(schemas.LAT)
        geometry = gpd.points_from_xy(*xy)
        geometry[xy[0].isna().to_numpy() | xy[1].isna().to_numpy()] = None
        frame = gpd.GeoDataFrame(frame, geometry=geometry, crs=schemas.STORE_CRS)
    stored = {}
    for form in ("staged", "one by one"):
        store = GeoPackageStore(tmp_path / f"{form}.gpkg")
        with store._transaction() as conn:
            insert = _gpkg_write.TableInsert(conn, schemas.INCIDENTS, n, keep_unique=False)
            insert.write(frame, _gpkg_write.bind(schemas.INCIDENTS, frame) if form == "staged" else None)
            insert.write(frame.assign(incident_id=frame.incident_id + "b", dedupe_key=frame.dedupe_key + "b"))
            insert.finish()
        columns = ["fid", *schemas.INCIDENTS.columns, "geometry"]
        typed = ", ".join(f'typeof("{c}"), "{c}"' for c in columns)
        stored[form] = (
            store._conn.execute(f"SELECT {typed} FROM incidents ORDER BY fid").fetchall(),
            store._conn.execute('SELECT * FROM "rtree_incidents_geometry" ORDER BY id').fetchall(),
        )
        store.close()
    rows, tree = stored["staged"]
    assert len(rows) == 2 * n and len(tree) == 2 * (n - 2)
    assert _gpkg_write.bind(schemas.INCIDENTS, frame) is not None  # the staged form was the one tested
    assert stored["staged"] == stored["one by one"]
    position = 2 * columns.index("external_id")
    assert rows[0][position : position + 2] == ("text", "00123")  # numeric-looking text stays text
    assert rows[2][position : position + 2] == ("null", None)
    position = 2 * columns.index("neighbourhood_code")
    assert [r[position : position + 2] for r in rows[:2]] == [("text", ""), ("null", None)]


def test_a_bulk_insert_lowers_the_page_cache_for_its_transaction_only(tmp_path):
    """A batch large enough to rebuild its indexes writes through a small page cache (its pages reach the
    write-ahead log as it goes); the connection has its own cache back afterwards, committed or not."""
    import numpy as np

    from pipelines import schemas
    from pipelines.store import _gpkg_write
    from pipelines.store.base import Batch

    n = _gpkg_write.RTREE_BULK_MIN_ROWS
    incidents = pd.DataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "source": "community",
            "org": "o",
            "batch_id": "b1",
            "occurred_at": pd.Timestamp("2025-01-01", tz="UTC"),
            "category": "robbery",
            "sensitive": False,
            "dedupe_key": [f"k{i}" for i in range(n)],
            schemas.LON: np.linspace(18, 19, n),
            schemas.LAT: np.linspace(-34, -33, n),
        }
    ).reindex(columns=[*schemas.INCIDENTS.columns, schemas.LON, schemas.LAT])
    store = GeoPackageStore(tmp_path / "s.gpkg")
    own = store._conn.execute("PRAGMA cache_size").fetchone()[0]
    seen = []
    store._conn.set_trace_callback(lambda sql: seen.append(sql) if "cache_size" in sql else None)
    batch = Batch("b1", "incidents", "f.csv", "0" * 64, pd.Timestamp.now(tz="UTC"), rows_read=n, accepted=n)
    store.commit(batch, incidents=incidents)
    assert f"PRAGMA cache_size = {_gpkg_write.BULK_CACHE_SIZE}" in seen
    assert store._conn.execute("PRAGMA cache_size").fetchone()[0] == own
    with pytest.raises(sqlite3.IntegrityError):  # the same keys again: the unique index refuses them, rolled back
        store.commit(batch, incidents=incidents.assign(incident_id=incidents.incident_id + "x", batch_id="b2"))
    assert store._conn.execute("PRAGMA cache_size").fetchone()[0] == own
    assert store.count("incidents") == n
    store.close()


def test_a_bulk_insert_outside_a_batch_gives_the_page_cache_back_too(tmp_path):
    """``save`` of a feature table large enough to rebuild its indexes (a record transaction, not a batch's)
    lowers the page cache as a batch does; the connection has its own cache back afterwards, saved or not."""
    import numpy as np

    from pipelines import schemas
    from pipelines.store import _gpkg_write

    n = _gpkg_write.RTREE_BULK_MIN_ROWS
    assets = pd.DataFrame(
        {
            "asset_id": [f"a{i}" for i in range(n)],
            "name": "school",
            "abcd_category": "institutions",
            "batch_id": "b1",
            schemas.LON: np.linspace(18, 19, n),
            schemas.LAT: np.linspace(-34, -33, n),
        }
    )
    store = GeoPackageStore(tmp_path / "s.gpkg")
    own = store._conn.execute("PRAGMA cache_size").fetchone()[0]
    seen = []
    store._conn.set_trace_callback(lambda sql: seen.append(sql) if "cache_size" in sql else None)
    store.save(assets=assets)
    assert f"PRAGMA cache_size = {_gpkg_write.BULK_CACHE_SIZE}" in seen  # the bulk path ran
    assert store._conn.execute("PRAGMA cache_size").fetchone()[0] == own
    with pytest.raises(sqlite3.IntegrityError):  # a required column empty: rolled back
        store.save(assets=assets.assign(asset_id=assets.asset_id + "x", name=None))
    assert store._conn.execute("PRAGMA cache_size").fetchone()[0] == own
    assert store.count("assets") == n
    store.close()

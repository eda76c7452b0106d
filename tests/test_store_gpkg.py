"""The GeoPackage store: a real file that GDAL/QGIS open, with all-or-nothing batches."""

from __future__ import annotations

import multiprocessing
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pyogrio
import pytest
import shapely

from pipelines.ingest import ingest_incidents
from pipelines.store import StoreError, open_store
from pipelines.store.gpkg import GeoPackageStore
from tests._helpers import load_areas, write_csv


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


def test_failed_commit_leaves_store_unchanged(area_store, tmp_path, monkeypatch):
    from pipelines.store import gpkg

    before = {t: area_store.count(t) for t in ("incidents", "rejections", "batches")}
    original = gpkg.GeoPackageStore._insert

    def explode(self, conn, table, frame):
        if table.name == "rejections":
            raise RuntimeError("disk full")
        return original(self, conn, table, frame)

    monkeypatch.setattr(gpkg.GeoPackageStore, "_insert", explode)
    path = write_csv(
        tmp_path,
        "r.csv",
        "id,date,category,latitude,longitude\n1,2025-03-04,Robbery,-34.05,18.55\n2,2025-03-04,Robbery,,\n",
    )
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_incidents(area_store, path, source="community", org="A")
    assert {t: area_store.count(t) for t in before} == before


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pipelines.store import gpkg, open_store
    from pipelines.ingest import ingest_incidents
    original = gpkg.GeoPackageStore._insert
    def slow(self, conn, table, frame):
        original(self, conn, table, frame)
        if table.name == "incidents":
            print("INSERTED", flush=True)
            time.sleep(60)  # killed here, inside the open transaction
    gpkg.GeoPackageStore._insert = slow
    ingest_incidents(open_store(sys.argv[1]), sys.argv[2], source="community", org="A")
    """
)


def test_sigkill_during_commit_leaves_store_as_before(area_store, tmp_path):
    csv = _csv(tmp_path, "k.csv", range(500))
    before = {t: area_store.count(t) for t in ("incidents", "rejections", "batches")}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, area_store.url, str(csv)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "INSERTED"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    reopened = open_store(area_store.url)
    assert {t: reopened.count(t) for t in before} == before
    assert sqlite3.connect(area_store.url).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # and the file is still fully usable afterwards
    batch = ingest_incidents(reopened, csv, source="community", org="A")
    assert batch.accepted == 500 and reopened.count("incidents") == 500


def test_parallel_uploads_threads_lose_and_duplicate_nothing(area_store, tmp_path):
    files = [_csv(tmp_path, f"t{i}.csv", range(i * 50, i * 50 + 100)) for i in range(8)]  # overlapping halves
    results, errors = [], []

    def upload(path):
        try:
            store = open_store(area_store.url)
            results.append(ingest_incidents(store, path, source="community", org="A"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert area_store.count("incidents") == 450  # ids 0..449
    assert sum(b.accepted for b in results) == 450
    assert sum(b.duplicates for b in results) == 8 * 100 - 450


def _process_upload(url: str, path: str, org: str) -> tuple[int, int]:
    batch = ingest_incidents(open_store(url), path, source="community", org=org)
    return batch.accepted, batch.duplicates


def test_parallel_uploads_processes_two_orgs_stay_separate(area_store, tmp_path):
    files = [str(_csv(tmp_path, f"p{i}.csv", range(i * 50, i * 50 + 100))) for i in range(8)]
    jobs = [(area_store.url, f, "A" if i % 2 else "B") for i, f in enumerate(files)]
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        outcomes = pool.starmap(_process_upload, jobs)
    incidents = area_store.read_incidents()
    # org A uploaded files 1,3,5,7 (ids 50..149, 150..249, 250..349, 350..449); org B 0,2,4,6 (ids 0..399)
    assert incidents.groupby("org").size().to_dict() == {"A": 400, "B": 400}
    assert sum(a for a, _ in outcomes) == 800 and sum(d for _, d in outcomes) == 0
    assert not incidents["incident_id"].duplicated().any()


def test_reader_never_sees_half_a_batch(area_store, tmp_path):
    csv = _csv(tmp_path, "big.csv", range(3000))
    seen, stop = set(), threading.Event()

    def watch():
        reader = open_store(area_store.url)
        while not stop.is_set():
            seen.add(reader.count("incidents"))
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    ingest_incidents(area_store, csv, source="community", org="A")
    time.sleep(0.05)
    stop.set()
    watcher.join()
    assert seen <= {0, 3000}


def test_delete_batch_removes_every_row(area_store, tmp_path):
    path = write_csv(
        tmp_path,
        "d.csv",
        "id,date,category,latitude,longitude\n1,2025-03-04,Robbery,-34.05,18.55\n2,2025-03-04,Robbery,,\n",
    )
    batch = ingest_incidents(area_store, path, source="community", org="A")
    assert area_store.delete_batch(batch.batch_id) == 3  # incident, rejection, batch record
    assert area_store.count("incidents") == 0 and area_store.count("rejections") == 0


def test_incident_query_filters(area_store, tmp_path):
    from pipelines.store import IncidentQuery

    path = write_csv(
        tmp_path,
        "q.csv",
        "id,date,category,latitude,longitude\n1,2025-01-10,Robbery,-34.05,18.55\n"
        "2,2025-02-10,Murder,-34.05,18.65\n3,2025-03-10,Robbery,-34.03,18.62\n",
    )
    ingest_incidents(area_store, path, source="municipal", org="M")
    import datetime as dt

    q = IncidentQuery(start=dt.datetime(2025, 2, 1, tzinfo=dt.UTC), end=dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
    assert sorted(area_store.read_incidents(q)["external_id"]) == ["2", "3"]
    assert list(area_store.read_incidents(IncidentQuery(precinct="P-WEST"))["external_id"]) == ["1"]
    assert sorted(area_store.read_incidents(IncidentQuery(neighbourhood="N-1"))["external_id"]) == ["1", "2", "3"]
    assert list(area_store.read_incidents(IncidentQuery(categories=["murder"]))["external_id"]) == ["2"]
    assert area_store.read_incidents(IncidentQuery(sources=["community"])).empty
    bbox = area_store.read_incidents(IncidentQuery(bbox=(18.6, -34.06, 18.7, -34.0)))
    assert sorted(bbox["external_id"]) == ["2", "3"]
    assert all(shapely.get_type_id(bbox.geometry.to_numpy()) == 0)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        pytest.param("store.txt", "must end in .gpkg", id="suffix"),
        pytest.param("postgresql://localhost/x", "PostGIS stores are not available", id="postgis-not-yet"),
    ],
)
def test_bad_store_urls(tmp_path, url, match):
    with pytest.raises(StoreError, match=match):
        open_store(url if "://" in url else tmp_path / url)


def test_non_geopackage_file_is_refused(tmp_path):
    path = tmp_path / "x.gpkg"
    path.write_text("not a database at all " * 100)
    with pytest.raises(StoreError, match="not a GeoPackage"):
        open_store(path)


def test_load_areas_twice_replaces(store, tmp_path):
    load_areas(store, tmp_path)
    load_areas(store, tmp_path)
    assert store.count("areas") == 3


def _scattered_csv(tmp_path, name: str, ids: range) -> object:
    # Points spread over the test areas on a deterministic grid, so bbox answers are checkable.
    rows = "".join(
        f"{i},2025-03-04,Robbery,-34.{(i * 7919) % 100:02d}{i % 7},18.{(i * 104729) % 100:02d}{i % 3},row {i}\n"
        for i in ids
    )
    return write_csv(tmp_path, name, "id,date,category,latitude,longitude,description\n" + rows)


@pytest.mark.parametrize(
    "batches",
    [
        pytest.param([3000], id="packed-into-empty"),
        pytest.param([3000, 40, 700], id="packed-then-row-by-row-then-rebuilt"),
        pytest.param([120, 2500], id="row-by-row-then-rebuilt"),
    ],
)
def test_packed_rtree_matches_brute_force_and_gdal(area_store, tmp_path, monkeypatch, batches):
    """Large batches rebuild the R-tree as a packed tree (written into its shadow tables); it must
    stay a valid SQLite R*Tree that SQLite, GDAL and later row-by-row edits agree on."""
    from pipelines.store import gpkg

    monkeypatch.setattr(gpkg, "_RTREE_BULK_MIN_ROWS", 500)
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


def test_packed_commit_with_duplicate_key_rolls_back_everything(area_store, tmp_path, monkeypatch):
    from pipelines.store import gpkg

    monkeypatch.setattr(gpkg, "_RTREE_BULK_MIN_ROWS", 10)
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


# --- record tables: Store.save, append-only, schema upgrade ---
def _user(name, role, now):
    return pd.DataFrame({"username": [name], "role": [role], "disabled": [False], "created_at": [now]})


def test_save_replaces_rows_by_key_and_appends_elsewhere(store):
    now = pd.Timestamp("2025-06-01T10:00Z")
    store.save(users=_user("ann", "planner", now), audit_log=pd.DataFrame({"at": [now], "event": ["login"]}))
    store.save(users=_user("ann", "analyst", now), audit_log=pd.DataFrame({"at": [now], "event": ["logout"]}))
    users = store.read_table("users")
    assert users["role"].tolist() == ["analyst"]
    assert store.read_table("audit_log")["event"].tolist() == ["login", "logout"]


def test_save_is_one_transaction(store):
    now = pd.Timestamp("2025-06-01T10:00Z")
    bad = pd.DataFrame({"at": [now], "event": [None]})  # event is NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        store.save(users=_user("ann", "planner", now), audit_log=bad)
    assert store.count("users") == 0


@pytest.mark.parametrize("statement", ["DELETE FROM audit_log", "UPDATE audit_log SET event = 'edit'"])
def test_audit_log_is_append_only_in_the_database(store, statement):
    store.save(audit_log=pd.DataFrame({"at": [pd.Timestamp("2025-06-01T10:00Z")], "event": ["login"]}))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._conn.execute(statement)
    assert store.count("audit_log") == 1


def test_older_store_is_upgraded_in_place(tmp_path):
    path = tmp_path / "old.gpkg"
    GeoPackageStore(path).close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE users; DELETE FROM gpkg_contents WHERE table_name = 'users';"
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
    assert store._conn.execute("SELECT value FROM areasafe_meta WHERE key = 'schema_version'").fetchone()[0] == "3"

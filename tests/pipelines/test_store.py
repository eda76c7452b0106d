"""The Store interface on both backends (``[gpkg]`` and ``[postgis]``): all-or-nothing batches,
concurrency, crash safety, queries, record tables, and placement with the same codes everywhere."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pandas as pd
import pytest
import shapely

from pipelines.ingest.incidents import ingest_incidents
from pipelines.schemas import INCIDENTS, TABLES
from pipelines.store import IncidentQuery, open_store
from pipelines.store.base import Store
from pipelines.store.gpkg import GeoPackageStore
from tests import _stores
from tests._helpers import load_areas, write_csv


def _csv(tmp_path, name: str, ids: range) -> object:
    rows = "".join(f"{i},2025-03-04,Robbery,-34.05,18.{55 + i % 10:02d},row {i}\n" for i in ids)
    return write_csv(tmp_path, name, "id,date,category,latitude,longitude,description\n" + rows)


def _counts(store: Store) -> dict[str, int]:
    return {t: store.count(t) for t in ("incidents", "rejections", "batches")}


# -- all or nothing ---------------------------------------------------------------------------------
def test_failed_commit_leaves_store_unchanged(any_area_store, tmp_path, monkeypatch):
    before = _counts(any_area_store)
    _stores.explode_on(monkeypatch, any_area_store, "rejections")
    path = write_csv(
        tmp_path,
        "r.csv",
        "id,date,category,latitude,longitude\n1,2025-03-04,Robbery,-34.05,18.55\n2,2025-03-04,Robbery,,\n",
    )
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_incidents(any_area_store, path, source="community", org="A")
    assert _counts(any_area_store) == before
    assert not _stores.writer_threads()


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pipelines.store import gpkg, open_store, postgis
    from pipelines.ingest.incidents import ingest_incidents
    store = open_store(sys.argv[1])
    if isinstance(store, gpkg.GeoPackageStore):
        original = gpkg.GeoPackageStore._insert
        def slow(self, conn, table, frame):
            original(self, conn, table, frame)
            if table.name == "incidents":
                print("INSERTED", flush=True)
                time.sleep(60)  # killed here, inside the open transaction
        gpkg.GeoPackageStore._insert = slow
    else:
        original = postgis.PostGISStore._write_incidents
        def slow(self, session, frame):
            original(self, session, frame)
            print("INSERTED", flush=True)
            time.sleep(60)  # killed here, inside the open transaction
        postgis.PostGISStore._write_incidents = slow
    ingest_incidents(store, sys.argv[2], source="community", org="A")
    """
)


def test_sigkill_during_commit_leaves_store_as_before(any_area_store, tmp_path):
    csv = _csv(tmp_path, "k.csv", range(500))
    before = _counts(any_area_store)
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, any_area_store.url, str(csv)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "INSERTED"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    reopened = open_store(any_area_store.url)
    assert _counts(reopened) == before
    # and the store is still fully usable afterwards (PostGIS: once the server has noticed the
    # dead client, its transaction and locks are gone)
    batch = ingest_incidents(reopened, csv, source="community", org="A")
    assert batch.accepted == 500 and reopened.count("incidents") == 500
    reopened.close()


def _upload_and_report(url: str, csv: str, started) -> None:
    """Child of the kill test: ingest in small chunks and say when the first chunk goes to the writer."""
    from pipelines import settings

    def progress(step: str, fraction: float) -> None:
        if step == "validating and placing":
            started.set()

    with settings.override(chunk_rows=400):
        ingest_incidents(open_store(url), csv, source="community", org="A", progress=progress)


def _consistent(store: Store) -> tuple[int, int]:
    """Stored rows agree with the batch records: nothing partial. Returns (incident batches, incidents)."""
    batches = store.read_batches()
    incident_batches = batches[batches["kind"] == "incidents"]
    assert store.count("incidents") == int(incident_batches["accepted"].sum())
    assert store.count("rejections") == int(batches["rejected"].sum())
    assert not batches["batch_id"].duplicated().any()
    if isinstance(store, GeoPackageStore):
        import sqlite3

        conn = sqlite3.connect(store.url)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM rtree_incidents_geometry").fetchone()[0] == store.count("incidents")
    else:
        months = store.incident_months()["incidents"].sum()
        assert months == store.count("incidents")  # the derived summary moved with the batch, or not at all
    return len(incident_batches), store.count("incidents")


@pytest.mark.slow
def test_sigkill_at_random_points_of_many_commits(any_area_store, tmp_path):
    """Kill an uploader (SIGKILL) at a random moment of its write transaction, again and again."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pipelines.ingest", "pipelines.store.gpkg", "pipelines.store.postgis"])
    rng = random.Random(6)
    files = [str(_csv(tmp_path, f"k{i}.csv", range(i * 700, i * 700 + 4000))) for i in range(13)]
    started = ctx.Event()

    # One run to the end measures how long a commit takes here.
    t0 = time.perf_counter()
    child = ctx.Process(target=_upload_and_report, args=(any_area_store.url, files[0], started))
    child.start()
    assert started.wait(60)
    t1 = time.perf_counter()
    child.join(120)
    assert child.exitcode == 0, "the reference upload failed"
    duration = time.perf_counter() - t1
    assert duration > 0.05, f"a commit took {duration:.3f} s here, too short to kill inside"
    outcomes = []
    for csv in files[1:]:
        started.clear()
        child = ctx.Process(target=_upload_and_report, args=(any_area_store.url, csv, started))
        child.start()
        assert started.wait(60)
        time.sleep(rng.uniform(0, 1.1 * duration))
        child.kill()
        child.join(30)
        outcomes.append(child.exitcode)
        _consistent(any_area_store)
    batches, _ = _consistent(any_area_store)
    killed = sum(code == -signal.SIGKILL for code in outcomes)
    assert killed >= len(files) // 2, f"only {killed} of {len(outcomes)} uploads were killed before they finished"
    assert batches - 1 < len(files) - 1, "every killed upload still committed: the kills never hit a transaction"
    # After all that, an upload goes through and counts what the earlier ones left.
    final = ingest_incidents(any_area_store, _csv(tmp_path, "last.csv", range(0, 13_000)), source="community", org="A")
    assert final.accepted + final.duplicates == 13_000
    assert any_area_store.count("incidents") == 13_000
    _consistent(any_area_store)
    assert time.perf_counter() - t0 < 600


# -- concurrency ------------------------------------------------------------------------------------
def test_parallel_uploads_threads_lose_and_duplicate_nothing(any_area_store, tmp_path):
    files = [_csv(tmp_path, f"t{i}.csv", range(i * 50, i * 50 + 100)) for i in range(8)]  # overlapping halves
    results, errors = [], []

    def upload(path):
        try:
            store = open_store(any_area_store.url)
            results.append(ingest_incidents(store, path, source="community", org="A"))
            store.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert any_area_store.count("incidents") == 450  # ids 0..449
    assert sum(b.accepted for b in results) == 450
    assert sum(b.duplicates for b in results) == 8 * 100 - 450
    _consistent(any_area_store)


def _process_upload(url: str, path: str, org: str) -> tuple[int, int]:
    batch = ingest_incidents(open_store(url), path, source="community", org=org)
    return batch.accepted, batch.duplicates


def test_parallel_uploads_processes_two_orgs_stay_separate(any_area_store, tmp_path):
    files = [str(_csv(tmp_path, f"p{i}.csv", range(i * 50, i * 50 + 100))) for i in range(8)]
    jobs = [(any_area_store.url, f, "A" if i % 2 else "B") for i, f in enumerate(files)]
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        outcomes = pool.starmap(_process_upload, jobs)
    incidents = any_area_store.read_incidents()
    # org A uploaded files 1,3,5,7 (ids 50..149, 150..249, 250..349, 350..449); org B 0,2,4,6 (ids 0..399)
    assert incidents.groupby("org").size().to_dict() == {"A": 400, "B": 400}
    assert sum(a for a, _ in outcomes) == 800 and sum(d for _, d in outcomes) == 0
    assert not incidents["incident_id"].duplicated().any()
    _consistent(any_area_store)


def test_reader_never_sees_half_a_batch(any_area_store, tmp_path):
    csv = _csv(tmp_path, "big.csv", range(3000))
    seen, stop = set(), threading.Event()

    def watch():
        reader = open_store(any_area_store.url)
        while not stop.is_set():
            seen.add((reader.count("incidents"), reader.count("batches")))
            time.sleep(0.001)
        reader.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    ingest_incidents(any_area_store, csv, source="community", org="A")
    time.sleep(0.05)
    stop.set()
    watcher.join()
    # 2 boundary batches before; the incidents arrive with their batch. The two counts are two reads,
    # incidents first: a commit between them shows as (0, 3), never as part of the rows or as (3000, 2).
    assert seen <= {(0, 2), (0, 3), (3000, 3)}
    assert (3000, 3) in seen


# -- deletes, queries, areas ------------------------------------------------------------------------
def test_delete_batch_removes_every_row(any_area_store, tmp_path):
    path = write_csv(
        tmp_path,
        "d.csv",
        "id,date,category,latitude,longitude\n1,2025-03-04,Robbery,-34.05,18.55\n2,2025-03-04,Robbery,,\n",
    )
    batch = ingest_incidents(any_area_store, path, source="community", org="A")
    assert any_area_store.delete_batch(batch.batch_id) == 3  # incident, rejection, batch record
    assert any_area_store.count("incidents") == 0 and any_area_store.count("rejections") == 0
    assert any_area_store.incident_months().empty


def test_incident_query_filters(any_area_store, tmp_path):
    path = write_csv(
        tmp_path,
        "q.csv",
        "id,date,category,latitude,longitude\n1,2025-01-10,Robbery,-34.05,18.55\n"
        "2,2025-02-10,Murder,-34.05,18.65\n3,2025-03-10,Robbery,-34.03,18.62\n",
    )
    ingest_incidents(any_area_store, path, source="municipal", org="M")
    store = any_area_store
    q = IncidentQuery(start=dt.datetime(2025, 2, 1, tzinfo=dt.UTC), end=dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
    assert sorted(store.read_incidents(q)["external_id"]) == ["2", "3"]
    naive = IncidentQuery(start=dt.datetime(2025, 2, 1), end=dt.datetime(2025, 3, 1))  # naive means UTC
    assert sorted(store.read_incidents(naive)["external_id"]) == ["2"]
    assert list(store.read_incidents(IncidentQuery(precinct="P-WEST"))["external_id"]) == ["1"]
    assert sorted(store.read_incidents(IncidentQuery(neighbourhood="N-1"))["external_id"]) == ["1", "2", "3"]
    assert list(store.read_incidents(IncidentQuery(categories=["murder"]))["external_id"]) == ["2"]
    assert store.read_incidents(IncidentQuery(categories=[])).empty
    assert store.read_incidents(IncidentQuery(sources=["community"])).empty
    assert len(store.read_incidents(IncidentQuery(orgs=["M"], columns=["org"]))) == 3
    bbox = store.read_incidents(IncidentQuery(bbox=(18.6, -34.06, 18.7, -34.0)))
    assert sorted(bbox["external_id"]) == ["2", "3"]
    assert all(shapely.get_type_id(bbox.geometry.to_numpy()) == 0)
    only = store.read_incidents(IncidentQuery(columns=["category"]))
    assert list(only.columns) == ["category", "geometry"] and only.crs.to_epsg() == 4326
    with pytest.raises(KeyError, match="has no column 'nope'"):
        store.read_incidents(IncidentQuery(columns=["nope"]))


def test_read_table_where_and_unknown_table(any_area_store):
    store = any_area_store
    batches = store.read_batches()
    one = store.read_table("batches", where={"batch_id": batches["batch_id"].iloc[0]})
    assert len(one) == 1 and one["batch_id"].iloc[0] == batches["batch_id"].iloc[0]
    assert store.read_table("batches", where={"rows_read": 2})["kind"].tolist() == ["boundaries"]
    assert store.read_table("batches", where={"org": None}).empty  # = NULL matches nothing, on both
    assert sorted(store.read_areas("precinct")["code"]) == ["P-EAST", "P-WEST"]
    with pytest.raises(KeyError, match="has no column"):
        store.read_table("batches", where={"nope": 1})
    with pytest.raises(Exception, match="unknown table 'people'"):
        store.read_table("people")
    with pytest.raises(Exception, match="unknown table 'people'"):
        store.count("people")


def test_load_areas_twice_replaces(any_store, tmp_path):
    load_areas(any_store, tmp_path)
    load_areas(any_store, tmp_path)
    assert any_store.count("areas") == 3
    assert sorted(any_store.read_areas()["code"]) == ["N-1", "P-EAST", "P-WEST"]


def test_existing_dedupe_keys(any_area_store, tmp_path):
    ingest_incidents(any_area_store, _csv(tmp_path, "e.csv", range(5)), source="community", org="A")
    keys = any_area_store.read_table("incidents")["dedupe_key"].tolist()
    assert any_area_store.existing_dedupe_keys([*keys[:2], "community|A|id:999", "other|x|id:1"]) == set(keys[:2])
    assert any_area_store.existing_dedupe_keys([]) == set()


HOSTILE = [
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash \\N \\. end",
    "quote \" and 'single'",
    "comma, semicolon; pipe |",
    "unicode: Café “x” – €5, isiXhosa: Molo, emoji 🚓, 𝕏",
    "",
    "   spaced   ",
    "\\",
]


def test_hostile_text_comes_back_exactly(any_store):
    now = pd.Timestamp("2025-06-01T10:00:00.123456Z")
    audit = pd.DataFrame(
        {"at": [now] * len(HOSTILE), "event": ["edit"] * len(HOSTILE), "detail": HOSTILE, "target": [None] * 10}
    )
    any_store.save(audit_log=audit)
    back = any_store.read_table("audit_log")
    assert back["detail"].tolist() == HOSTILE
    assert back["target"].tolist() == [None] * len(HOSTILE)
    # datetimes are kept to the millisecond, on both backends
    assert (back["at"] == pd.Timestamp("2025-06-01T10:00:00.123Z")).all()
    assert str(back["at"].dtype) == "datetime64[us, UTC]"


# -- record tables: Store.save, append-only ---------------------------------------------------------
def _user(name, role, now):
    return pd.DataFrame({"username": [name], "role": [role], "disabled": [False], "created_at": [now]})


def test_save_replaces_rows_by_key_and_appends_elsewhere(any_store):
    now = pd.Timestamp("2025-06-01T10:00Z")
    any_store.save(users=_user("ann", "planner", now), audit_log=pd.DataFrame({"at": [now], "event": ["login"]}))
    any_store.save(users=_user("ann", "analyst", now), audit_log=pd.DataFrame({"at": [now], "event": ["logout"]}))
    users = any_store.read_table("users")
    assert users["role"].tolist() == ["analyst"]
    assert users["disabled"].tolist() == [False] and users["failed_logins"].isna().all()
    assert any_store.read_table("audit_log")["event"].tolist() == ["login", "logout"]


def test_save_is_one_transaction(any_store):
    now = pd.Timestamp("2025-06-01T10:00Z")
    bad = pd.DataFrame({"at": [now], "event": [None]})  # event is NOT NULL
    with pytest.raises(_stores.integrity_error(any_store)):
        any_store.save(users=_user("ann", "planner", now), audit_log=bad)
    assert any_store.count("users") == 0


def test_save_refuses_unknown_tables_and_missing_columns(any_store):
    with pytest.raises(Exception, match="unknown table 'people'"):
        any_store.save(people=pd.DataFrame({"a": [1]}))
    with pytest.raises(Exception, match=r"columns \['role'\] are missing"):
        any_store.save(users=pd.DataFrame({"username": ["x"], "disabled": [False], "created_at": ["2025-01-01"]}))


@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM audit_log", "UPDATE audit_log SET event = 'edit'"],
    ids=["delete", "update"],
)
def test_audit_log_is_append_only_in_the_database(any_store, statement):
    any_store.save(audit_log=pd.DataFrame({"at": [pd.Timestamp("2025-06-01T10:00Z")], "event": ["login"]}))
    with pytest.raises(_stores.database_error(any_store), match="append-only"):
        _stores.execute_sql(any_store, statement)
    assert any_store.count("audit_log") == 1


def test_delete_batch_keeps_append_only_rows(any_store):
    # action_log has no batch_id; audit rows survive a batch delete because they are history
    any_store.save(audit_log=pd.DataFrame({"at": [pd.Timestamp("2025-06-01T10:00Z")], "event": ["delete_batch"]}))
    assert any_store.delete_batch("no-such-batch") == 0
    assert any_store.count("audit_log") == 1


# -- placement: the same codes on both backends -----------------------------------------------------
# (lat, lon, precinct, neighbourhood, flag) on the test areas: WEST [18.5, 18.6] and EAST [18.6, 18.7]
# x [-34.1, -34.0], HOOD [18.55, 18.65] x [-34.08, -34.02]; snapped within 150 m = 0.001347 degrees.
TRICKY = [
    (-34.05, 18.55, "P-WEST", "N-1", None),  # plainly inside
    (-34.05, 18.6, "P-EAST", "N-1", None),  # on the shared border: the smaller code
    (-34.0, 18.6, "P-EAST", None, None),  # on the corner of both precincts, outside the hood
    (-34.0195, 18.6, "P-EAST", None, None),  # inside a precinct, 55 m from the hood: no snapping
    (-34.1005, 18.6, "P-EAST", None, "near_boundary"),  # 55 m below both precincts: tie, smaller code
    (-34.05, 18.4995, "P-WEST", None, "near_boundary"),  # 46 m west of WEST
    (-34.05, 18.4988, "P-WEST", None, "near_boundary"),  # 111 m west: still within 150 m
    (-34.05, 18.4980, None, None, "outside_areas"),  # 185 m west: beyond the tolerance
    (18.65, -34.05, "P-EAST", "N-1", "swapped_coordinates"),  # latitude and longitude exchanged
    (18.6, -34.1005, None, None, "outside_areas"),  # swapped and only near: not fixed, stays outside
    (-33.0, 19.5, None, None, "outside_areas"),  # far away
]


def _tricky_file(tmp_path):
    rows = "".join(f"{i},2025-03-04,Robbery,{lat},{lon},\n" for i, (lat, lon, *_) in enumerate(TRICKY))
    return write_csv(tmp_path, "tricky.csv", "id,date,category,latitude,longitude,description\n" + rows)


def test_tricky_points_get_the_same_codes(any_area_store, tmp_path):
    batch = ingest_incidents(any_area_store, _tricky_file(tmp_path), source="community", org="A", snap_m=150)
    stored = any_area_store.read_incidents().assign(i=lambda f: f["external_id"].astype(int)).sort_values("i")
    assert stored["precinct_code"].tolist() == [t[2] for t in TRICKY]
    assert stored["neighbourhood_code"].tolist() == [t[3] for t in TRICKY]
    flags = pd.Series([t[4] for t in TRICKY]).value_counts().to_dict()
    assert batch.warnings == flags
    assert batch.outside_areas == flags["outside_areas"] == 3
    swapped = stored.geometry.iloc[8]
    assert (round(swapped.x, 6), round(swapped.y, 6)) == (18.65, -34.05)


def test_same_file_gives_the_same_batch_and_rows_on_both_backends(pg_url, tmp_path):
    """The placement inside PostGIS and the Python placement agree row by row, with chunks and re-uploads."""
    from tests.pipelines.ingest.test_incidents_streaming import ROWS, _file, _stored, _summary

    gpkg, postgis = open_store(tmp_path / "g.gpkg"), open_store(pg_url)
    rows = [*ROWS, *(f"{100 + i},2025-03-04,Robbery,{lat},{lon}," for i, (lat, lon, *_) in enumerate(TRICKY))]
    for folder, store in (("g", gpkg), ("p", postgis)):
        (tmp_path / folder).mkdir()
        load_areas(store, tmp_path / folder)
    first = {
        k: ingest_incidents(s, _file(tmp_path, rows), source="community", org="A", snap_m=150)
        for k, s in (("g", gpkg), ("p", postgis))
    }
    again = _file(tmp_path, rows[5:] + ["500,2025-03-04,Robbery,-34.05,18.55,new"], name="again.csv")
    second = {
        k: ingest_incidents(s, again, source="community", org="A", snap_m=150) for k, s in (("g", gpkg), ("p", postgis))
    }
    assert _summary(first["g"]) == _summary(first["p"])
    assert _summary(second["g"]) == _summary(second["p"])
    assert second["p"].duplicates > 10 and first["p"].warnings["near_boundary"] == 3
    assert _stored(gpkg) == _stored(postgis)
    assert gpkg.incident_months().equals(Store.incident_months(postgis))
    gpkg.close()
    postgis.close()


def test_both_backends_return_the_same_dtypes(pg_url, tmp_path):
    from pipelines.demo import build_demo

    gpkg, postgis = open_store(tmp_path / "g.gpkg"), open_store(pg_url)
    for store in (gpkg, postgis):
        build_demo(store)
    for name in TABLES:
        g, p = gpkg.read_table(name), postgis.read_table(name)
        assert list(g.columns) == list(p.columns), name
        if len(g):
            assert g.dtypes.astype(str).to_dict() == p.dtypes.astype(str).to_dict(), name
        assert len(g) == len(p), name
    g, p = gpkg.read_incidents(), postgis.read_incidents()
    assert g.dtypes.astype(str).to_dict() == p.dtypes.astype(str).to_dict()
    assert p.crs.to_epsg() == 4326 and str(p["occurred_at"].dtype) == "datetime64[us, UTC]"
    columns = [c for c in INCIDENTS.columns if c not in ("raw", "dedupe_key", "batch_id")]
    pd.testing.assert_frame_equal(
        pd.DataFrame(g[columns]).sort_values("incident_id", ignore_index=True),
        pd.DataFrame(p[columns]).sort_values("incident_id", ignore_index=True),
    )
    keys = ["month", "neighbourhood_code", "category", "source", "org"]
    months = gpkg.incident_months().sort_values(keys, ignore_index=True)
    assert months["incidents"].sum() == len(g) and months["month"].notna().all()
    pd.testing.assert_frame_equal(months, postgis.incident_months().sort_values(keys, ignore_index=True))
    pd.testing.assert_frame_equal(months, Store.incident_months(postgis).sort_values(keys, ignore_index=True))
    gpkg.close()
    postgis.close()


def test_data_version_moves_with_uploads_and_deletions_not_with_audit(any_area_store, tmp_path):
    """Dashboards key their caches on it: a deleted batch must disappear from every replica at once."""
    from pipelines import access, audit
    from pipelines.privacy import Viewer

    admin = Viewer("root", "admin")
    start = any_area_store.data_version()
    batch = ingest_incidents(any_area_store, _csv(tmp_path, "v.csv", range(5)), source="community", org="A")
    uploaded = any_area_store.data_version()
    assert uploaded != start
    audit.record(any_area_store, "view_sensitive", viewer=admin, target="incidents")
    assert any_area_store.data_version() == uploaded  # reading (and auditing it) is not a data change
    access.delete_batch(any_area_store, admin, batch.batch_id, reason="consent withdrawn")
    assert any_area_store.data_version() not in (start, uploaded)
    assert any_area_store.count("batches") == 3  # the tombstone keeps the count: it alone was not enough


def test_a_deletion_and_its_tombstone_are_one_transaction(any_area_store, tmp_path):
    """The rows, the tombstone and the audit entry of a deleted batch change together or not at all."""
    from pipelines import access
    from pipelines.privacy import Viewer

    batch = ingest_incidents(any_area_store, _csv(tmp_path, "t.csv", range(5)), source="community", org="A")
    before = _counts(any_area_store)

    def fail(removed: int) -> dict:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        any_area_store.delete_batch(batch.batch_id, then=fail)
    assert _counts(any_area_store) == before
    assert access.delete_batch(any_area_store, Viewer("root", "admin"), batch.batch_id, reason="asked") == 5
    record = any_area_store.read_table("batches", where={"batch_id": batch.batch_id})
    assert record["withdrawn_by"].tolist() == ["root"] and any_area_store.count("incidents") == 0
    logged = any_area_store.read_table("audit_log", where={"event": "delete_batch"})
    assert len(logged) == 1 and '"rows_deleted": 5' in logged["detail"].iloc[0]


def test_a_writer_failing_while_it_finishes_the_batch_raises_instead_of_hanging():
    """The writer thread takes the batch, then fails (say, on the month summary): the caller's finish()
    gets the error. It used to wait for one more item that never came, and hung the upload."""
    from pipelines.store.base import Batch, ThreadedWriter

    def write_stream(items):
        for item in items:
            if isinstance(item, Batch):
                raise ValueError("failed while finishing")
        raise AssertionError("no batch")

    writer = ThreadedWriter(write_stream, name="test-writer")
    writer.add(incidents=pd.DataFrame({"a": [1]}))
    outcome: list[BaseException] = []

    def finish() -> None:
        try:
            writer.finish(Batch.__new__(Batch))
        except ValueError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=finish, daemon=True)
    caller.start()
    caller.join(timeout=20)
    assert not caller.is_alive(), "finish() hung"
    assert [str(e) for e in outcome] == ["failed while finishing"]


def test_the_month_summary_counted_while_writing_equals_a_recount_from_the_stored_rows(tmp_path):
    """A batch's month summary is counted from its chunks as they are written, not read back: it must be
    what counting the stored rows gives (duplicates already stored left out)."""
    from pipelines.store import _gpkg_schema

    store = open_store(tmp_path / "s.gpkg")
    load_areas(store, tmp_path)
    ingest_incidents(store, _csv(tmp_path, "a.csv", range(0, 6_000)), source="community", org="A")
    second = ingest_incidents(store, _csv(tmp_path, "b.csv", range(3_000, 9_000)), source="community", org="A")
    assert second.duplicates >= 3_000  # the stored half is skipped, and must not be counted again
    written = store.incident_months().sort_values(list(store.incident_months().columns)).reset_index(drop=True)
    with store._transaction() as conn:
        _gpkg_schema.summarise(conn, None)
    recounted = store.incident_months().sort_values(list(written.columns)).reset_index(drop=True)
    store.close()
    assert written["incidents"].sum() > 0
    pd.testing.assert_frame_equal(written, recounted)

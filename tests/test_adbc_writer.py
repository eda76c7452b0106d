"""The writer process binds Arrow columns through ADBC: large uploads must store exactly what the
sqlite3 path stores, keep a valid GeoPackage (indexes, R-tree), and fail the same way."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pandas as pd
import pytest

from pipelines.ingest.incidents import ingest_incidents
from pipelines.store import _adbc
from pipelines.store.gpkg import GeoPackageStore
from tests._helpers import write_csv
from tests.test_process_writer import ingest_by_thread_then_process, stores  # noqa: F401 (fixture)
from tests.test_streaming import NOW, _chunks, _stored, _summary

BULK = 6_000  # above the store's bulk threshold (5,000 rows): packed R-tree, index strategy by connection


def _big_csv(tmp_path, name="big.csv", *, first_id=0, seed=3):
    """Rows around the fixture precincts, with every kind of outcome mixed in."""
    rng = np.random.default_rng(seed)
    n = BULK
    lat = (-34.05 + rng.normal(0, 0.02, n)).round(6).astype(str).astype(object)
    lon = (18.6 + rng.normal(0, 0.03, n)).round(6).astype(str).astype(object)
    ids = np.array([f"{rng.integers(1 << 62):x}-{i}" for i in range(first_id, first_id + n)], dtype=object)
    day = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 150, n), unit="D")
    dates = day.strftime("%d/%m/%Y").to_numpy(dtype=object)
    categories = np.array(["Robbery", "housebreaking", "Stray goats", "rape"], dtype=object)[rng.integers(0, 4, n)]
    text = np.array(["", "near the rank", "call 082 555 1234", "<b>lights</b> out", 'Café, "quoted"'], dtype=object)
    descriptions = text[rng.integers(0, len(text), n)]
    lat[::97], lon[::97] = "", ""  # missing location
    dates[::89] = "31/02/2025"  # invalid date
    ids[::53] = ""  # no id: keyed by content
    ids[7::101] = ids[6::101][: len(ids[7::101])]  # repeated in the file
    lines = [
        ",".join([i, d, c, la, lo, f'"{t.replace(chr(34), chr(34) * 2)}"'])
        for i, d, c, la, lo, t in zip(ids, dates, categories, lat, lon, descriptions, strict=True)
    ]
    return write_csv(tmp_path, name, "id,date,category,latitude,longitude,description\n" + "\n".join(lines) + "\n")


def _column_types(store: GeoPackageStore) -> list[tuple]:
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute(
            "SELECT typeof(fid), typeof(occurred_at), typeof(sensitive), typeof(geometry), typeof(batch_id), "
            "typeof(neighbourhood_code), count(*) FROM incidents GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 7"
        ).fetchall()
    finally:
        conn.close()


def _check_file(store: GeoPackageStore) -> None:
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT rtreecheck('rtree_incidents_geometry')").fetchone() == ("ok",)
        rows, cells = conn.execute(
            "SELECT (SELECT count(*) FROM incidents WHERE geometry IS NOT NULL), "
            "(SELECT count(*) FROM rtree_incidents_geometry)"
        ).fetchone()
        assert rows == cells
        indexes = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'")
        }
        assert {"ux_incidents_0", "ix_incidents_precinct_code_occurred_at", "ix_incidents_batch_id"} <= indexes
        # the GeoPackage insert trigger is back for editors such as QGIS
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'rtree_incidents_geometry_insert'").fetchone()
    finally:
        conn.close()


def test_large_upload_through_adbc_stores_what_sqlite3_stores(stores, tmp_path, monkeypatch):  # noqa: F811
    by_thread, by_process = stores
    path = _big_csv(tmp_path)
    _chunks(monkeypatch, 1_500)
    threaded, processed = ingest_by_thread_then_process(stores, path, monkeypatch)
    assert threaded.rejected > 0 and threaded.duplicates > 0 and threaded.accepted > 5_000
    assert _summary(processed) == _summary(threaded)
    assert _stored(by_process) == _stored(by_thread)
    assert _column_types(by_process) == _column_types(by_thread)
    _check_file(by_process)
    # A second large upload into the now-filled table: old R-tree entries are read back through ADBC.
    more = _big_csv(tmp_path, "more.csv", first_id=BULK, seed=4)
    ingest_incidents(by_thread, more, source="community", org="A", now=pd.Timestamp(NOW))
    ingest_incidents(by_process, more, source="community", org="A", now=pd.Timestamp(NOW))
    assert _stored(by_process) == _stored(by_thread)
    _check_file(by_process)


def test_adbc_errors_are_sqlite3_errors_and_roll_back(tmp_path):
    GeoPackageStore(tmp_path / "s.gpkg").close()  # the schema, through sqlite3
    conn = _adbc.Connection(tmp_path / "s.gpkg")
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO areasafe_meta VALUES ('k', ?)", ("v",))
        assert conn.execute("SELECT value FROM areasafe_meta WHERE key = ?", ("k",)).fetchone() == ("v",)
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
            conn.execute("INSERT INTO areasafe_meta VALUES ('k', 'again')")
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            conn.execute("SELECT * FROM missing")
        conn.execute("ROLLBACK")
        assert conn.execute("SELECT value FROM areasafe_meta WHERE key = 'k'").fetchone() is None
        assert conn.execute("SELECT 1 WHERE 0").fetchall() == []
    finally:
        conn.close()


def test_wal_flusher_flushes_the_log_until_stopped(tmp_path, monkeypatch):
    from pipelines.store import _process_writer

    wal = tmp_path / "s.gpkg-wal"
    flushed: list[int] = []
    real_fsync = _process_writer.os.fsync
    monkeypatch.setattr(_process_writer.os, "fsync", lambda fd: (flushed.append(fd), real_fsync(fd)))
    flusher = _process_writer._WalFlusher(wal, every_s=0.01)
    flusher.start()
    time.sleep(0.05)  # no log yet: nothing to flush, and no error
    assert flushed == [] and flusher.is_alive()
    wal.write_bytes(b"frames")
    deadline = time.monotonic() + 5
    while not flushed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert flushed, "the log was never flushed"
    flusher.stop()
    assert not flusher.is_alive()
    count = len(flushed)
    time.sleep(0.05)
    assert len(flushed) == count  # stopped means stopped

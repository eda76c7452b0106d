"""What the backend-neutral store tests need to know about each backend: raw SQL, its error types,
and where to inject a failure inside a write transaction."""

from __future__ import annotations

import sqlite3
import threading

import psycopg

from pipelines.store.base import Store
from pipelines.store.gpkg import GeoPackageStore
from pipelines.store.postgis import PostGISStore

WRITER_THREADS = ("areasafe-gpkg-writer", "areasafe-postgis-writer")


def execute_sql(store: Store, statement: str) -> None:
    """Run one statement on the store's database outside the store's API (as QGIS or psql would)."""
    if isinstance(store, GeoPackageStore):
        store._conn.execute(statement)
        return
    with store._pool.connection() as conn:
        conn.execute(statement)


def database_error(store: Store) -> type[Exception]:
    """The base class of errors the store's database driver raises."""
    return sqlite3.DatabaseError if isinstance(store, GeoPackageStore) else psycopg.Error


def integrity_error(store: Store) -> type[Exception]:
    return sqlite3.IntegrityError if isinstance(store, GeoPackageStore) else psycopg.IntegrityError


def writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in WRITER_THREADS]


def explode_on(monkeypatch, store: Store, table: str, *, call: int = 1, message: str = "disk full") -> list[int]:
    """Make the ``call``-th write of ``table`` inside a store transaction raise ``RuntimeError(message)``.

    Returns the list of row counts of each write of ``table`` seen so far.
    """
    calls: list[int] = []

    def check(name: str, frame) -> None:
        if name == table:
            calls.append(len(frame))
            if len(calls) == call:
                raise RuntimeError(message)

    if isinstance(store, GeoPackageStore):
        original = GeoPackageStore._insert

        def insert(self, conn, spec, frame):
            check(spec.name, frame)
            return original(self, conn, spec, frame)

        monkeypatch.setattr(GeoPackageStore, "_insert", insert)
        return calls
    original_incidents, original_append = PostGISStore._write_incidents, PostGISStore._append

    def write_incidents(self, session, frame):
        check("incidents", frame)
        return original_incidents(self, session, frame)

    def append(self, session, spec, frame):
        check(spec.name, frame)
        return original_append(self, session, spec, frame)

    monkeypatch.setattr(PostGISStore, "_write_incidents", write_incidents)
    monkeypatch.setattr(PostGISStore, "_append", append)
    return calls

"""The embedded store: one GeoPackage file that QGIS opens as it is.

Place in the data flow: the last step of every ingest (``commit``) and the first of every analysis
(``read_*``). The file is written through SQLite directly rather than through GDAL so that a whole
batch (the batch record, its incidents and its rejections) is one SQLite transaction: a process
killed mid-commit leaves the file as it was. The tables, the ``gpkg_*`` metadata and the R-tree
spatial indexes (with the standard triggers) follow the GeoPackage 1.4 specification, so GDAL and
QGIS read and edit the file normally. The database runs in WAL mode so readers see the last
committed state while a writer works.

:class:`GeoPackageStore` owns the connections and the transactions; the statements live in three
private modules: :mod:`._gpkg_schema` (create and upgrade), :mod:`._gpkg_write` (inserts, the packed
R-tree, duplicate keys) and :mod:`._gpkg_read` (queries back to frames).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from pipelines import private_files, schemas, settings
from pipelines.schemas import COLUMNS, TABLES, Table
from pipelines.store import _gpkg_binary as gpb
from pipelines.store import _gpkg_read as _read
from pipelines.store import _gpkg_schema as _schema
from pipelines.store import _gpkg_write as _write
from pipelines.store.base import (
    DATA_VERSION_SQL,
    Batch,
    BatchWriter,
    IncidentQuery,
    LoginCount,
    Prepared,
    Store,
    StoreError,
    ThreadedWriter,
    claim_login_in,
)
from pipelines.store.frames import check_table, format_datetime, outside_areas

_BUSY_TIMEOUT_S = 120
_NO_WAIT_MS = 50  # how long a write that may be skipped (a session's page view) waits for the lock
_PAGE_SIZE = 65536


class GeoPackageStore(Store):
    """AreaSafe's tables in one GeoPackage file.

    Parameters
    ----------
    path
        The ``.gpkg`` file; created with its schema when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.url = str(self.path)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Password hashes and incidents: owner-only, with the -wal and -shm files SQLite makes beside it.
        if not private_files.create(self.path):
            private_files.restrict(*(Path(f"{self.path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")))
        self.initialise()

    # -- connection --------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_S * 1000}")
        # Only takes effect while the file is still empty (a new store): 64 KiB pages make bulk inserts,
        # index builds and checkpoints of large batches ~30% faster than SQLite's default 4 KiB.
        conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a killed process never corrupts or half-applies a transaction.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # A large page cache keeps the unique-key index in memory while a batch looks its keys up (a bulk
        # insert that drops the indexes lowers it for its transaction: _gpkg_write.TableInsert).
        conn.execute("PRAGMA cache_size = -524288")
        # Sorts too big for memory (an index rebuild's) spill to SQLite's temporary files, unlinked as soon as
        # they are made (in SQLITE_TMPDIR, else /var/tmp), holding what the store's own indexes hold: the
        # rebuild after a 1M-row batch took 0.5 s longer with them in memory (temp_store = MEMORY).
        conn.execute("PRAGMA temp_store = FILE")
        # Index builds (a large batch rebuilds its table's indexes by sorting) may sort on a second thread.
        conn.execute(f"PRAGMA threads = {min(2, os.cpu_count() or 1)}")
        # The R-tree triggers of the GeoPackage spec call these SQL functions (GDAL provides them in
        # its own connections; plain SQLite needs them registered).
        conn.create_function(
            "ST_IsEmpty", 1, lambda b: None if b is None else int(gpb.envelope(b) is None), deterministic=True
        )
        for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
            conn.create_function(
                name, 1, lambda b, i=i: None if (e := gpb.envelope(b)) is None else e[i], deterministic=True
            )
        return conn

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        # A bulk insert lowers the page cache for its transaction (_gpkg_write.TableInsert), in a batch or
        # not (a large save): every transaction gives the connection its own back.
        cache = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            conn.execute(f"PRAGMA cache_size = {cache}")

    # -- schema ------------------------------------------------------------------------------------
    def initialise(self) -> None:
        try:
            conn = self._conn
            exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'areasafe_meta'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a GeoPackage or SQLite file ({exc}); point --store at a new or AreaSafe .gpkg file."
            ) from exc
        if exists:
            self._upgrade()
            return
        # These header pragmas do not take effect inside a transaction; they are idempotent.
        conn.execute(f"PRAGMA application_id = {_schema.APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {_schema.USER_VERSION}")
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'areasafe_meta'").fetchone():
                return  # another process created it while we waited for the lock
            _schema.create(conn)
        # GDAL reads the GeoPackage header bytes from the main file, not the WAL: checkpoint now.
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _upgrade(self) -> None:
        """Bring a store written by an older version up to date, in one transaction (:func:`._gpkg_schema.upgrade`)."""
        version = _schema.stored_version(self._conn)
        if version == _schema.SCHEMA_VERSION:
            return
        with self._transaction() as conn:
            _schema.upgrade(conn, version)

    def is_empty(self) -> bool:
        return self.count("areas") == 0 and self.count("incidents") == 0

    # -- writes (Store._write_stream runs a batch; these are its GeoPackage statements) -------------
    def batch_writer(
        self, *, expected_rows: int | None = None, place: bool = False, snap_m: float | None = None
    ) -> BatchWriter:
        # Preparing chunk k+1 and inserting chunk k overlap: the inserts run on a thread with its own
        # connection, closed when it ends.
        self._check_place(place)
        return ThreadedWriter(
            functools.partial(self._write_stream, expected_rows=expected_rows or 0),
            name="areasafe-gpkg-writer",
            prepare=self._prepare,
            on_exit=self.close,
        )

    def _prepare(self, frames: dict[str, pd.DataFrame | None]) -> dict | Prepared:
        frames = super()._prepare(frames)
        incidents = frames.get("incidents")
        if incidents is None or not len(incidents):
            return frames
        return Prepared(frames, {schemas.INCIDENTS.name: _write.bind(schemas.INCIDENTS, incidents)})

    @contextlib.contextmanager
    def _batch_session(self, *, expected_rows: int, place: bool, snap_m: float | None) -> Iterator[_write.BatchSession]:
        # the log written out to disk while the batch runs; never the store file itself: closing a descriptor of it
        # would drop SQLite's locks on it (_write.flushing)
        with _write.flushing(Path(f"{self.path}-wal"), expected_rows), self._transaction() as conn:
            session = self._local.session = _write.BatchSession(conn, expected_rows)
            try:
                yield session
            finally:
                self._local.session = None

    def _write_incidents(self, session: _write.BatchSession, incidents: pd.DataFrame) -> pd.DataFrame:
        stored = _write.existing_keys(session.conn, incidents[COLUMNS.dedupe_key], session.prefixes)
        if stored:
            fresh = ~incidents[COLUMNS.dedupe_key].isin(stored)
            session.count_stored(~fresh.to_numpy(), outside_areas(incidents))
            incidents = incidents.loc[fresh]
        self._insert(session.conn, schemas.INCIDENTS, incidents)
        if session.timezone is None:
            session.timezone = _schema.summary_timezone(session.conn)
        session.count_written(incidents, timezone=session.timezone)
        return incidents

    def _replace(self, session: _write.BatchSession, table: Table, frame: pd.DataFrame, key: Sequence[str]) -> None:
        """Rows of ``frame`` replace stored rows with the same ``key`` (an empty key value matches ``''``)."""
        if len(key) == 1:
            expr, values = f'"{key[0]}"', frame[key[0]]
        else:
            expr = " || '|' || ".join(f"COALESCE(\"{k}\", '')" for k in key)
            values = pd.Series(
                [
                    "|".join("" if pd.isna(v) else str(v) for v in row)
                    for row in frame[list(key)].itertuples(index=False)
                ]
            )
        _write.delete_where_in(session.conn, table.name, expr, values)
        self._insert(session.conn, table, frame)

    def _append(self, session: _write.BatchSession, table: Table, frame: pd.DataFrame) -> None:
        self._insert(session.conn, table, frame)

    @contextlib.contextmanager
    def _record_session(self) -> Iterator[_write.BatchSession]:
        with self._transaction() as conn:
            yield _write.BatchSession(conn, 0)  # not the thread's batch: inserts finish at once

    def _finish_batch(self, session: _write.BatchSession, batch: Batch) -> Batch:
        session.finish_inserts()
        conn = session.conn
        self._insert(conn, schemas.BATCHES, pd.DataFrame([batch.to_record()]))
        if session.months:  # the batch's rows in the month summary, in this transaction
            _schema.insert_summary(conn, batch.batch_id, session.month_counts())
        return batch

    def claim_login_attempt(
        self, username: str, *, at: dt.datetime, cutoffs: Sequence[dt.datetime | None]
    ) -> LoginCount:
        # One write transaction: SQLite runs these one claim at a time, whatever the process.
        with self._transaction() as conn:
            return claim_login_in(
                lambda statement, params: conn.execute(statement, params).fetchone(),
                username,
                stamp=format_datetime(at),
                cutoffs=[None if c is None else format_datetime(c) for c in cutoffs],
                salt_sql="SELECT value FROM areasafe_meta WHERE key = 'login_salt'",
                placeholder="?",
            )

    def clear_login_failures(self, username: str) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE users SET failed_logins = 0, last_failed_at = NULL WHERE username = ?", (username,))

    def _session_statement(self, statement: str, params: tuple, *, wait: bool = True) -> str | None:
        values = tuple(format_datetime(v) if isinstance(v, dt.datetime) else v for v in params)
        conn = self._conn
        if not wait:  # the whole file is locked while a batch commits: do not hold up a page view for it
            conn.execute(f"PRAGMA busy_timeout = {_NO_WAIT_MS}")
        try:
            with self._transaction() as conn:
                row = conn.execute(statement.format(p="?"), values).fetchone()
        except sqlite3.OperationalError as exc:
            if wait or "locked" not in str(exc):
                raise
            return None
        finally:
            if not wait:
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_S * 1000}")
        return None if row is None else row[0]

    def existing_dedupe_keys(self, keys: Iterable[str]) -> set[str]:
        conn = self._conn
        conn.execute("BEGIN")  # a read transaction: one consistent snapshot, no write lock
        try:
            return _write.existing_keys(conn, keys)
        finally:
            conn.execute("ROLLBACK")

    def _insert(self, conn: sqlite3.Connection, table: Table, frame: pd.DataFrame) -> None:
        """Insert rows, in the open batch's session when there is one (see :func:`._gpkg_write.insert`)."""
        _write.insert(conn, table, frame, getattr(self._local, "session", None))

    def delete_batch(self, batch_id: str, *, then: Callable[[int], dict[str, pd.DataFrame]] | None = None) -> int:
        removed = 0
        conn = self._conn
        # Erasure: overwrite the deleted rows' pages with zeros instead of leaving them in the file's
        # free list, and copy the WAL back so no old page survives there either.
        conn.execute("PRAGMA secure_delete = ON")
        try:
            with self._record_session() as session:
                conn = session.conn
                for table in TABLES.values():
                    if COLUMNS.batch_id in table.columns and not table.append_only:
                        deleted = conn.execute(f'DELETE FROM "{table.name}" WHERE batch_id = ?', (batch_id,)).rowcount
                        removed += 0 if table.copies else deleted
                        if table.geometry_type and removed:
                            _write.touch_contents(conn, table.name)
                conn.execute(f"DELETE FROM {_schema.SUMMARY} WHERE batch_id = ?", (batch_id,))
                if then is not None:
                    self._save(session, then(removed))
        finally:
            conn.execute("PRAGMA secure_delete = OFF")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def reclassify_incidents(
        self, changes: pd.DataFrame, *, then: Callable[[int], dict[str, pd.DataFrame]] | None = None
    ) -> int:
        rows = zip(
            changes[COLUMNS.incident_id].astype(str),
            changes[COLUMNS.category].astype(str),
            changes[COLUMNS.sensitive].astype(bool).astype(int),
            strict=True,
        )
        with self._record_session() as session:
            conn = session.conn
            conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _reclassify "
                "(incident_id TEXT PRIMARY KEY, category TEXT NOT NULL, sensitive INTEGER NOT NULL)"
            )
            conn.execute("DELETE FROM _reclassify")
            conn.executemany("INSERT OR REPLACE INTO _reclassify VALUES (?, ?, ?)", rows)
            changed = conn.execute(
                "UPDATE incidents SET category = r.category, sensitive = r.sensitive FROM _reclassify AS r "
                "WHERE incidents.incident_id = r.incident_id "
                "AND (incidents.category IS NOT r.category OR incidents.sensitive IS NOT r.sensitive)"
            ).rowcount
            if changed:  # the categories moved between the month summary's rows: count those batches again
                batches = conn.execute(
                    "SELECT DISTINCT batch_id FROM incidents WHERE incident_id IN (SELECT incident_id FROM _reclassify)"
                ).fetchall()
                _schema.summarise(conn, [b for (b,) in batches])
            conn.execute("DELETE FROM _reclassify")
            if changed:
                _write.touch_contents(conn, "incidents")
            if then is not None:
                self._save(session, then(changed))
        return changed

    # -- reads -------------------------------------------------------------------------------------
    def count(self, table: str) -> int:
        check_table(table)
        return self._conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]

    def data_version(self) -> tuple[int, int]:
        return tuple(self._conn.execute(DATA_VERSION_SQL).fetchone())

    def read_areas(self, kind: str | None = None) -> gpd.GeoDataFrame:
        return self.read_table("areas", where={"kind": kind} if kind else None)

    def incident_months(self) -> pd.DataFrame:
        months = _read.summary_months(self._conn, settings.SETTINGS.local_timezone)
        if months is None:  # kept in another time zone: count the incidents (slower, still right)
            return super().incident_months()
        return months

    def read_table(self, table: str, *, where: dict[str, object] | None = None) -> pd.DataFrame:
        spec = check_table(table)
        sql_where, params = _read.table_where(spec, where)
        return _read.select(self._conn, spec, list(spec.columns), sql_where, params)

    def read_incidents(self, query: IncidentQuery | None = None) -> gpd.GeoDataFrame:
        columns, sql_where, params = _read.incidents_where(query or IncidentQuery())
        return _read.select(self._conn, schemas.INCIDENTS, columns, sql_where, params)

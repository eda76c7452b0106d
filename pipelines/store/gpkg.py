"""The embedded store: one GeoPackage file that QGIS opens as it is.

Place in the data flow: the last step of every ingest (``commit``) and the first of every analysis
(``read_*``). The file is written through SQLite directly rather than through GDAL so that a whole
batch (the batch record, its incidents and its rejections) is one SQLite transaction: a process
killed mid-commit leaves the file as it was. The tables, the ``gpkg_*`` metadata and the R-tree
spatial indexes (with the standard triggers) follow the GeoPackage 1.4 specification, so GDAL and
QGIS read and edit the file normally. The database runs in WAL mode so readers see the last
committed state while a writer works.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from pipelines import private_files, schemas
from pipelines.schemas import GEOMETRY, STORE_CRS, STORE_SRID, TABLES, Table
from pipelines.settings import SETTINGS
from pipelines.store import _gpkg_binary as gpb
from pipelines.store import _rtree as _rt
from pipelines.store.base import (
    DATA_VERSION_SQL,
    MONTH_KEYS,
    Batch,
    BatchWriter,
    IncidentQuery,
    LoginCount,
    Store,
    StoreError,
    ThreadedWriter,
    WriteSession,
    claim_login_in,
    count_months,
)
from pipelines.store.frames import (
    DEDUPE_PREFIX,
    check_frame,
    check_table,
    datetime_texts,
    format_datetime,
    outside_areas,
    text_values,
    with_optional_columns,
)
from pipelines.taxonomy import OTHER

_SQL_TYPES = {
    "text": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "BOOLEAN",
    "datetime": "DATETIME",
    "date": "DATE",
}
_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10400  # GeoPackage 1.4.0
# 2: users, audit_log, meetings, actions, action_log, funding_sphere; 3: batch tombstones;
# 4: area-and-period indexes leave out rows without that area (partial indexes);
# 5: login_failures and the login salt (throttling of names without an account);
# 6: term_mappings, and incidents stored under the fallback category made sensitive (fail closed);
# 7: assets.sharing_consent (people's assets by consent);
# 8: area_aliases (station renames and merges) and batches.notes
# 9: boundary_versions (ward demarcations), wards as an area kind; sessions (kept across reloads)
_SCHEMA_VERSION = "9"
_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
_BUSY_TIMEOUT_S = 120
_NO_WAIT_MS = 50  # how long a write that may be skipped (a session's page view) waits for the lock
_PAGE_SIZE = 65536
# Batches of at least this many rows, and at least 1/ratio of the rows already indexed, rebuild the
# R-tree as a packed tree and the table's indexes by sorting, instead of inserting row by row.
_RTREE_BULK_MIN_ROWS = 5_000
_RTREE_REBUILD_RATIO = 10


def _rtree(table: str) -> str:
    return f"rtree_{table}_{GEOMETRY}"


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
        # A large page cache keeps the unique-key and R-tree indexes in memory during bulk commits.
        conn.execute("PRAGMA cache_size = -524288")
        conn.execute("PRAGMA temp_store = MEMORY")
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
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

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
        conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {_USER_VERSION}")
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'areasafe_meta'").fetchone():
                return  # another process created it while we waited for the lock
            for statement in _gpkg_core_ddl():
                conn.execute(statement)
            for table in TABLES.values():
                for statement in _table_ddl(table):
                    conn.execute(statement)
            conn.execute("CREATE TABLE areasafe_meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("INSERT INTO areasafe_meta VALUES ('schema_version', ?)", (_SCHEMA_VERSION,))
            _add_login_salt(conn)
            _create_summary(conn)
        # GDAL reads the GeoPackage header bytes from the main file, not the WAL: checkpoint now.
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _upgrade(self) -> None:
        """Bring a store written by an older version up to date: add missing tables and columns.

        Only additions happen here (new tables, new nullable columns, indexes rebuilt to their
        current definition), so an older file is upgraded in place, in one transaction, the first
        time a newer AreaSafe opens it.
        """
        version = self._conn.execute("SELECT value FROM areasafe_meta WHERE key = 'schema_version'").fetchone()
        if version and version[0] == _SCHEMA_VERSION:
            return
        before = int(version[0]) if version and version[0].isdigit() else 0
        with self._transaction() as conn:
            for table in TABLES.values():
                present = [r[1] for r in conn.execute(f'PRAGMA table_info("{table.name}")')]
                if not present:
                    for statement in _table_ddl(table):
                        conn.execute(statement)
                    continue
                for f in table.fields:
                    if f.name not in present:
                        conn.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{f.name}" {_SQL_TYPES[f.dtype]}')
                stored = dict(
                    conn.execute(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table.name,)
                    )
                )
                for name, statement in _index_ddl(table).items():
                    if stored.get(name) != statement:
                        conn.execute(f'DROP INDEX IF EXISTS "{name}"')
                        conn.execute(statement)
            _add_login_salt(conn)
            if before < 6:
                # Unmapped terms were stored as 'other' and not sensitive; they are sensitive until mapped.
                conn.execute("UPDATE incidents SET sensitive = 1 WHERE category = ? AND NOT sensitive", (OTHER,))
            if before < 9:
                _create_summary(conn)
                _summarise(conn, None)
            conn.execute("UPDATE areasafe_meta SET value = ? WHERE key = 'schema_version'", (_SCHEMA_VERSION,))

    def is_empty(self) -> bool:
        return self.count("areas") == 0 and self.count("incidents") == 0

    # -- writes ------------------------------------------------------------------------------------
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
            on_exit=self.close,
        )

    @contextlib.contextmanager
    def _batch_session(self, *, expected_rows: int, place: bool, snap_m: float | None) -> Iterator[_Session]:
        with self._transaction() as conn:
            session = self._local.session = _Session(conn, expected_rows)
            try:
                yield session
            finally:
                self._local.session = None

    def _write_incidents(self, session: _Session, incidents: pd.DataFrame) -> None:
        stored = self._existing_keys(session.conn, incidents["dedupe_key"], session.prefixes)
        if stored:
            fresh = ~incidents["dedupe_key"].isin(stored)
            session.count_stored(~fresh.to_numpy(), outside_areas(incidents))
            incidents = incidents.loc[fresh]
        self._insert(session.conn, schemas.INCIDENTS, incidents)

    def _replace(self, session: _Session, table: Table, frame: pd.DataFrame, key: Sequence[str]) -> None:
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
        self._delete_where_in(session.conn, table.name, expr, values)
        self._insert(session.conn, table, frame)

    def _append(self, session: _Session, table: Table, frame: pd.DataFrame) -> None:
        self._insert(session.conn, table, frame)

    def save(self, **frames: pd.DataFrame | None) -> None:
        for name in frames:
            check_table(name)
        with self._transaction() as conn:
            self._save(conn, frames)

    def _save(self, conn: sqlite3.Connection, frames: dict[str, pd.DataFrame | None]) -> None:
        for name, frame in frames.items():
            if frame is None or not len(frame):
                continue
            table = check_table(name)
            frame = with_optional_columns(table, frame)
            if table.key:
                self._delete_where_in(conn, name, f'"{table.key}"', frame[table.key])
            self._insert(conn, table, frame)

    def _finish_batch(self, session: _Session, batch: Batch) -> Batch:
        for pending in session.inserts.values():
            pending.finish()
        session.inserts.clear()
        conn = session.conn
        self._insert(conn, schemas.BATCHES, pd.DataFrame([batch.to_record()]))
        _summarise(conn, [batch.batch_id])  # the batch's rows in the month summary, in this transaction
        return batch

    def _existing_keys(
        self, conn: sqlite3.Connection, keys: pd.Series | Iterable[str], prefixes: dict[str, bool] | None = None
    ) -> set[str]:
        """Which ``keys`` are stored. ``prefixes`` caches, per "source|org|" prefix, whether any key
        with it was stored when first asked in this transaction: a batch then never probes again
        (its own rows would answer yes, and the index may be dropped for a bulk build)."""
        # Arrow text as it comes (a chunk's keys: no Python string per key unless they are looked up)
        values = pa.array(keys if isinstance(keys, pd.Series) else list(keys), pa.large_string())
        if isinstance(values, pa.ChunkedArray):  # an Arrow-backed column hands over its chunks
            values = values.combine_chunks()
        if not len(values):
            return set()
        prefixes = {} if prefixes is None else prefixes
        # Keys start with "source|org|": when no stored key has one of this file's prefixes (a new
        # organisation, an empty store) the per-key lookup is skipped entirely.
        matches = pc.extract_regex(values, DEDUPE_PREFIX)
        found_prefixes = [p for p in pc.unique(matches.field(0)).to_pylist() if p]
        probe = "SELECT 1 FROM incidents WHERE dedupe_key >= ? AND dedupe_key < ? LIMIT 1"
        for p in found_prefixes:
            if p not in prefixes:
                prefixes[p] = conn.execute(probe, (p, p + "\uffff")).fetchone() is not None
        if not any(prefixes[p] for p in found_prefixes):
            return set()
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _keys (k TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM _keys")
        conn.executemany("INSERT OR IGNORE INTO _keys VALUES (?)", ((k,) for k in values.to_pylist()))
        found = {r[0] for r in conn.execute("SELECT k FROM _keys JOIN incidents ON incidents.dedupe_key = _keys.k")}
        conn.execute("DELETE FROM _keys")
        return found

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
            return self._existing_keys(conn, keys)
        finally:
            conn.execute("ROLLBACK")

    def _delete_where_in(self, conn: sqlite3.Connection, table: str, expr: str, values: pd.Series) -> None:
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _del (k TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM _del")
        conn.executemany("INSERT OR IGNORE INTO _del VALUES (?)", ((str(v),) for v in values))
        conn.execute(f'DELETE FROM "{table}" WHERE {expr} IN (SELECT k FROM _del)')
        conn.execute("DELETE FROM _del")

    def _insert(self, conn: sqlite3.Connection, table: Table, frame: pd.DataFrame) -> None:
        """Insert rows. Inside a batch writer, a feature table's index work is left open across
        chunks and finished once, with the batch; otherwise it is finished here."""
        if not len(frame):
            return
        session = getattr(self._local, "session", None)
        if session is None or not table.geometry_type:
            pending = _TableInsert(self, conn, table, len(frame), keep_unique=False)
            pending.write(frame)
            pending.finish()
            return
        pending = session.inserts.get(table.name)
        if pending is None:
            expected = max(len(frame), session.expected_rows if table is schemas.INCIDENTS else 0)
            keep_unique = any(session.prefixes.values())  # later chunks still look keys up
            pending = session.inserts[table.name] = _TableInsert(self, conn, table, expected, keep_unique=keep_unique)
        pending.write(frame)

    @staticmethod
    def _column_values(table: Table, name: str, values: pd.Series) -> list:
        kind = table.field(name).dtype
        if kind == "datetime":
            text, missing = datetime_texts(values)
            text = text.astype(object)
            text[missing] = None
            return text.tolist()
        if kind == "text" and isinstance(values.dtype, pd.StringDtype):
            return values.to_numpy(dtype=object, na_value=None).tolist()  # already str or missing
        missing = values.isna().to_numpy(dtype=bool)
        if kind == "bool":
            out = values.fillna(False).astype(bool).astype(int).astype(object).to_numpy()
        elif kind == "int":
            out = pd.to_numeric(values, errors="coerce").astype("Int64").astype(object).to_numpy()
        elif kind == "float":
            out = pd.to_numeric(values, errors="coerce").astype(float).astype(object).to_numpy()
        else:
            return text_values(values).tolist()
        if missing.any():
            out = out.copy()
            out[missing] = None
        return out.tolist()

    def _touch_contents(
        self, conn: sqlite3.Connection, table: str, extent: tuple[float, float, float, float] | None = None
    ) -> None:
        """Record the change time and the extent in ``gpkg_contents``: ``extent`` (min x, min y, max
        x, max y) when it covers every entry of the R-tree, else read back from the tree."""
        if extent is None:
            extent = conn.execute(
                f'SELECT MIN(minx), MIN(miny), MAX(maxx), MAX(maxy) FROM "{_rtree(table)}"'
            ).fetchone()
        conn.execute(
            "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
            (format_datetime(dt.datetime.now(dt.UTC)), *extent, table),
        )

    def delete_batch(self, batch_id: str, *, then: Callable[[int], dict[str, pd.DataFrame]] | None = None) -> int:
        removed = 0
        conn = self._conn
        # Erasure: overwrite the deleted rows' pages with zeros instead of leaving them in the file's
        # free list, and copy the WAL back so no old page survives there either.
        conn.execute("PRAGMA secure_delete = ON")
        try:
            with self._transaction() as conn:
                for table in TABLES.values():
                    if "batch_id" in table.columns and not table.append_only:
                        removed += conn.execute(f'DELETE FROM "{table.name}" WHERE batch_id = ?', (batch_id,)).rowcount
                        if table.geometry_type and removed:
                            self._touch_contents(conn, table.name)
                conn.execute(f"DELETE FROM {_SUMMARY} WHERE batch_id = ?", (batch_id,))
                if then is not None:
                    self._save(conn, then(removed))
        finally:
            conn.execute("PRAGMA secure_delete = OFF")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def reclassify_incidents(
        self, changes: pd.DataFrame, *, then: Callable[[int], dict[str, pd.DataFrame]] | None = None
    ) -> int:
        rows = zip(
            changes["incident_id"].astype(str),
            changes["category"].astype(str),
            changes["sensitive"].astype(bool).astype(int),
            strict=True,
        )
        with self._transaction() as conn:
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
                _summarise(conn, [b for (b,) in batches])
            conn.execute("DELETE FROM _reclassify")
            if changed:
                self._touch_contents(conn, "incidents")
            if then is not None:
                self._save(conn, then(changed))
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
        conn = self._conn
        stored = conn.execute(f"SELECT value FROM areasafe_meta WHERE key = '{_SUMMARY_TIMEZONE}'").fetchone()
        if stored is None or stored[0] != SETTINGS.local_timezone:
            return super().incident_months()  # kept in another time zone: count the incidents (slower, still right)
        keys = ", ".join(f'"{k}"' for k in MONTH_KEYS)
        rows = conn.execute(
            f"SELECT month, {keys}, SUM(incidents) FROM {_SUMMARY} GROUP BY month, {keys} HAVING SUM(incidents) > 0"
        ).fetchall()
        frame = pd.DataFrame(rows, columns=["month", *MONTH_KEYS, "incidents"], dtype=object)
        frame["month"] = pd.to_datetime(frame["month"], format="%Y-%m").dt.to_period("M")  # vectorised parse
        # In the order of the counted default (pandas' groupby: missing keys last), so both compare equal.
        frame = frame.sort_values(["month", *MONTH_KEYS], na_position="last", ignore_index=True)
        return frame.astype({"incidents": "int64"})

    def read_table(self, table: str, *, where: dict[str, object] | None = None) -> pd.DataFrame:
        spec = check_table(table)
        clauses, params = [], []
        for column, value in (where or {}).items():
            spec.field(column)
            clauses.append(f'"{column}" = ?')
            params.append(value)
        sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._select(spec, list(spec.columns), sql_where, params)

    def read_incidents(self, query: IncidentQuery | None = None) -> gpd.GeoDataFrame:
        query = query or IncidentQuery()
        table = schemas.INCIDENTS
        columns = list(query.columns) if query.columns else [c for c in table.columns if c not in ("raw", "dedupe_key")]
        for c in columns:
            table.field(c)
        clauses, params = [], []
        for column, value in (
            ("neighbourhood_code", query.neighbourhood),
            ("precinct_code", query.precinct),
            ("batch_id", query.batch_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if query.start is not None:
            clauses.append("occurred_at >= ?")
            params.append(format_datetime(query.start))
        if query.end is not None:
            clauses.append("occurred_at < ?")
            params.append(format_datetime(query.end))
        for column, values in (("category", query.categories), ("source", query.sources), ("org", query.orgs)):
            if values is not None:
                values = list(values)
                clauses.append(f"{column} IN ({', '.join('?' for _ in values)})" if values else "0")
                params.extend(values)
        if query.bbox is not None:
            minx, miny, maxx, maxy = query.bbox
            clauses.append(
                f"fid IN (SELECT id FROM {_rtree('incidents')} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"
            )
            params.extend([minx, maxx, miny, maxy])
        sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._select(table, columns, sql_where, params)

    def _select(self, table: Table, columns: list[str], sql_where: str, params: list) -> pd.DataFrame:
        names = [f'"{c}"' for c in columns]
        if table.geometry_type:
            names.append(f'"{GEOMETRY}"')
        rows = self._conn.execute(f'SELECT {", ".join(names)} FROM "{table.name}"{sql_where}', params).fetchall()
        data = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
        frame = pd.DataFrame({c: _from_sql(table, c, data[i]) for i, c in enumerate(columns)})
        if not table.geometry_type:
            return frame
        return gpd.GeoDataFrame(frame, geometry=gpb.decode(data[-1]), crs=STORE_CRS)


class _Session(WriteSession):
    """State of one write transaction: its connection, feature-table inserts whose index work is
    still open, and the dedupe-prefix probes."""

    def __init__(self, conn: sqlite3.Connection, expected_rows: int) -> None:
        super().__init__()
        self.conn = conn
        self.expected_rows = expected_rows
        self.inserts: dict[str, _TableInsert] = {}
        self.prefixes: dict[str, bool] = {}


class _TableInsert:
    """Rows appended to one table, in chunks, inside an open transaction.

    A feature table's R-tree is maintained in bulk instead of through the per-row insert trigger: a
    large insert rebuilds the whole index as a packed tree, each chunk's leaves as it is written and
    the levels above them at :meth:`finish` (row-by-row R*Tree inserts cost tens of microseconds
    each and grow with the tree); a small one inserts its cells row by row. A large
    insert through ``sqlite3`` also drops the table's indexes and rebuilds them by sorting at
    :meth:`finish` (DDL is transactional, so a failure such as a duplicate key rolls the drop back
    too); with ``keep_unique`` the unique indexes stay, because later chunks still look keys up.
    """

    def __init__(
        self, store: GeoPackageStore, conn: sqlite3.Connection, table: Table, expected: int, *, keep_unique: bool
    ) -> None:
        self.store, self.conn, self.table = store, conn, table
        columns = list(table.columns)
        self.indexes: list[tuple[str, str]] = []
        self.tree: _rt.TreeBuilder | None = None
        self.bulk = False
        if table.geometry_type:
            columns = ["fid", *columns, GEOMETRY]
            self.next_fid = conn.execute(f'SELECT COALESCE(MAX(fid), 0) FROM "{table.name}"').fetchone()[0] + 1
            conn.execute(f'DROP TRIGGER "{_rtree(table.name)}_insert"')
            self.rtree = _rtree(table.name)
            self.stored = conn.execute(f'SELECT COUNT(*) FROM "{self.rtree}_rowid"').fetchone()[0]
            self.bulk = expected >= _RTREE_BULK_MIN_ROWS and expected * _RTREE_REBUILD_RATIO >= self.stored
            if self.bulk:
                self.indexes = conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                    (table.name,),
                ).fetchall()
                if keep_unique:
                    self.indexes = [(n, q) for n, q in self.indexes if not q.upper().startswith("CREATE UNIQUE")]
                for name, _ in self.indexes:
                    conn.execute(f'DROP INDEX "{name}"')
                old = _rt.read_entries(conn, self.rtree) if self.stored else None
                self.tree = _rt.TreeBuilder(conn, self.rtree)  # empties the tree: the stored rows go back in
                if old is not None:
                    self.tree.add(old)
        quoted = ", ".join(f'"{c}"' for c in columns)
        self.sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'

    def write(self, frame: pd.DataFrame) -> None:
        table, conn = self.table, self.conn
        check_frame(table, frame)
        # Convert and insert in chunks: Python objects for a million rows at once would need gigabytes.
        for offset in range(0, len(frame), SETTINGS.chunk_rows):
            chunk = frame.iloc[offset : offset + SETTINGS.chunk_rows]
            if table.geometry_type:
                geometry = _Geometry(chunk)
                fids = np.arange(self.next_fid, self.next_fid + len(chunk))
                self.next_fid += len(chunk)
            values = [self.store._column_values(table, name, chunk[name]) for name in table.columns]
            if table.geometry_type:
                values = [fids.tolist(), *values, geometry.blobs()]
            conn.executemany(self.sql, zip(*values, strict=True))
            del values
            if table.geometry_type:
                minx, miny, maxx, maxy = geometry.bounds()
                present = ~np.isnan(minx)
                if self.bulk:
                    self.tree.add(_rt.cells(fids[present], minx[present], maxx[present], miny[present], maxy[present]))
                else:
                    conn.executemany(
                        f'INSERT INTO "{self.rtree}" VALUES (?, ?, ?, ?, ?)',
                        zip(
                            fids[present].tolist(),
                            minx[present].tolist(),
                            maxx[present].tolist(),
                            miny[present].tolist(),
                            maxy[present].tolist(),
                            strict=True,
                        ),
                    )

    def finish(self) -> None:
        if not self.table.geometry_type:
            return
        conn = self.conn
        extent = None
        if self.bulk:
            extent = self.tree.finish()
            for _, index_sql in self.indexes:
                conn.execute(index_sql)
        conn.execute(_rtree_triggers(self.table.name)["insert"])
        self.store._touch_contents(conn, self.table.name, extent)


class _Geometry:
    """A chunk's geometry column as blobs and bounds, from shapely geometries or from the point
    coordinate columns of :func:`schemas.has_coordinates` (no geometry objects made)."""

    def __init__(self, chunk: pd.DataFrame) -> None:
        if schemas.has_coordinates(chunk):
            self.geoms = None
            x, y = chunk[schemas.LON].to_numpy(dtype=float), chunk[schemas.LAT].to_numpy(dtype=float)
            missing = np.isnan(x) | np.isnan(y)  # a point missing one coordinate is missing: no blob, no box
            self.x, self.y = np.where(missing, np.nan, x), np.where(missing, np.nan, y)
        else:
            self.geoms = chunk.geometry.to_numpy()

    def blobs(self) -> list[bytes | None]:
        if self.geoms is None:
            return gpb.encode_xy(self.x, self.y, STORE_SRID)
        return gpb.encode(self.geoms, STORE_SRID)

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """minx, miny, maxx, maxy (NaN for a missing or empty geometry)."""
        if self.geoms is None:
            return self.x, self.y, self.x, self.y
        return tuple(shapely.bounds(self.geoms).T)


def _add_login_salt(conn: sqlite3.Connection) -> None:
    """The random salt of :func:`login_key`, made once per store."""
    conn.execute("INSERT OR IGNORE INTO areasafe_meta VALUES ('login_salt', ?)", (secrets.token_hex(32),))


def _from_sql(table: Table, name: str, values) -> pd.Series:
    kind = table.field(name).dtype
    if kind == "datetime":  # microseconds, as from PostGIS, also when every value is missing
        return pd.to_datetime(pd.Series(values, dtype="object"), utc=True, format="ISO8601").astype(
            "datetime64[us, UTC]"
        )
    if kind == "bool":
        return (
            pd.Series(values, dtype="object").astype("boolean").astype(bool)
            if len(values)
            else pd.Series([], dtype=bool)
        )
    if kind == "int":
        return pd.Series(values, dtype="Int64")
    if kind == "float":
        return pd.Series(values, dtype="float64")
    return pd.Series(values, dtype="object")


#: The derived month summary behind :meth:`GeoPackageStore.incident_months` (as PostGIS keeps one): not one
#: of ``schemas.TABLES``. Rows are per batch, so erasing a batch deletes its rows in the same transaction.
_SUMMARY = "incident_months"
_SUMMARY_TIMEZONE = "incident_months_timezone"


def _create_summary(conn: sqlite3.Connection) -> None:
    keys = ", ".join(f'"{k}" TEXT' for k in MONTH_KEYS)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_SUMMARY} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
        f"batch_id TEXT NOT NULL, month TEXT, {keys}, incidents INTEGER NOT NULL)"
    )
    conn.execute(f'CREATE INDEX IF NOT EXISTS "ix_{_SUMMARY}_batch_id" ON {_SUMMARY} (batch_id)')
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES "
        f"('{_SUMMARY}', 'attributes', '{_SUMMARY}', 'Derived: incidents per batch, local month, neighbourhood, "
        "category, source and org (kept in step with incidents).')"
    )
    conn.execute(f"INSERT OR REPLACE INTO areasafe_meta VALUES ('{_SUMMARY_TIMEZONE}', ?)", (SETTINGS.local_timezone,))


def _summarise(conn: sqlite3.Connection, batch_ids: Sequence[str] | None) -> None:
    """(Re)count the month summary rows of ``batch_ids`` (``None``: every batch) from the stored incidents,
    in the summary's time zone, inside the caller's transaction."""
    timezone = conn.execute(f"SELECT value FROM areasafe_meta WHERE key = '{_SUMMARY_TIMEZONE}'").fetchone()[0]
    keys = ", ".join(f'"{k}"' for k in MONTH_KEYS)
    where, params = "", []
    if batch_ids is not None:
        if not batch_ids:
            return
        where = f" WHERE batch_id IN ({', '.join('?' for _ in batch_ids)})"
        params = list(batch_ids)
    conn.execute(f"DELETE FROM {_SUMMARY}{where}", params)
    rows = conn.execute(f"SELECT batch_id, occurred_at, {keys} FROM incidents{where}", params).fetchall()
    if not rows:
        return
    columns = ["batch_id", "occurred_at", *MONTH_KEYS]
    incidents = pd.DataFrame(rows, columns=columns, dtype=object)
    incidents["occurred_at"] = pd.to_datetime(incidents["occurred_at"], utc=True, format="ISO8601")
    parts = []
    for batch_id, part in incidents.groupby("batch_id", sort=False):
        parts.append(count_months(part, timezone=timezone).assign(batch_id=batch_id))
    counted = pd.concat(parts, ignore_index=True)
    months = counted["month"].astype(str).where(counted["month"].notna(), None)
    values = zip(
        counted["batch_id"],
        months,
        *(counted[k] for k in MONTH_KEYS),
        counted["incidents"].astype(int).tolist(),
        strict=True,
    )
    conn.executemany(
        f"INSERT INTO {_SUMMARY} (batch_id, month, {keys}, incidents) VALUES (?, ?, {', '.join('?' for _ in MONTH_KEYS)}, ?)",
        values,
    )


def _gpkg_core_ddl() -> list[str]:
    return [
        """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
           organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
           description TEXT)""",
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL)",
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL)",
        f"INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{_WGS84_WKT}', NULL)",
        """CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
           identifier TEXT UNIQUE, description TEXT DEFAULT '',
           last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
           CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
        """CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
           geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
           CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
        """CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
           definition TEXT NOT NULL, scope TEXT NOT NULL,
           CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
    ]


def _table_ddl(table: Table) -> list[str]:
    cols = ["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
    for f in table.fields:
        cols.append(
            f'"{f.name}" {_SQL_TYPES[f.dtype]}{"" if f.nullable else " NOT NULL"}'
            f"{' UNIQUE' if f.unique and table.name != 'incidents' else ''}"
        )
    if table.geometry_type:
        cols.append(f'"{GEOMETRY}" {table.geometry_type}')
    statements = [f'CREATE TABLE "{table.name}" ({", ".join(cols)})']
    for i, group in enumerate(table.unique_together):
        quoted = ", ".join(f'"{c}"' for c in group)
        statements.append(f'CREATE UNIQUE INDEX "ux_{table.name}_{i}" ON "{table.name}" ({quoted})')
    statements += _index_ddl(table).values()
    if table.append_only:
        for op in ("UPDATE", "DELETE"):
            statements.append(
                f'CREATE TRIGGER "{table.name}_append_only_{op.lower()}" BEFORE {op} ON "{table.name}" '
                f"BEGIN SELECT RAISE(ABORT, '{table.name} is append-only'); END"
            )
    data_type = "features" if table.geometry_type else "attributes"
    srs = STORE_SRID if table.geometry_type else None
    statements.append(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES "
        f"('{table.name}', '{data_type}', '{table.name}', '{table.description.replace(chr(39), chr(39) * 2)}', "
        f"{'NULL' if srs is None else srs})"
    )
    if table.geometry_type:
        rtree = _rtree(table.name)
        statements += [
            f"INSERT INTO gpkg_geometry_columns VALUES ('{table.name}', '{GEOMETRY}', '{table.geometry_type}', {srs}, 0, 0)",
            f"INSERT INTO gpkg_extensions VALUES ('{table.name}', '{GEOMETRY}', 'gpkg_rtree_index', "
            "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            f'CREATE VIRTUAL TABLE "{rtree}" USING rtree(id, minx, maxx, miny, maxy)',
            *_rtree_triggers(table.name).values(),
        ]
    return statements


def _index_ddl(table: Table) -> dict[str, str]:
    """``CREATE INDEX`` statements by index name. An index whose leading column may be empty leaves
    those rows out (most incidents lie in no Safe Neighbourhood); reads filter that column by
    equality, which lets SQLite use the partial index, and the index costs nothing for empty rows."""
    statements = {}
    for group in table.indexes:
        name = f"ix_{table.name}_{'_'.join(group)}"
        quoted = ", ".join(f'"{c}"' for c in group)
        where = f' WHERE "{group[0]}" IS NOT NULL' if table.field(group[0]).nullable else ""
        statements[name] = f'CREATE INDEX "{name}" ON "{table.name}" ({quoted}){where}'
    return statements


def _rtree_triggers(table: str) -> dict[str, str]:
    """The R-tree maintenance triggers from the GeoPackage spec (F.3), as GDAL writes them."""
    r, g, t = _rtree(table), GEOMETRY, table
    return {
        "insert": f"""CREATE TRIGGER "{r}_insert" AFTER INSERT ON "{t}" WHEN (new."{g}" NOT NULL AND NOT ST_IsEmpty(NEW."{g}"))
            BEGIN INSERT OR REPLACE INTO "{r}" VALUES (NEW.fid, ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),
            ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END""",
        "update1": f"""CREATE TRIGGER "{r}_update1" AFTER UPDATE OF "{g}" ON "{t}"
            WHEN OLD.fid = NEW.fid AND (NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}"))
            BEGIN INSERT OR REPLACE INTO "{r}" VALUES (NEW.fid, ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"),
            ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END""",
        "update2": f"""CREATE TRIGGER "{r}_update2" AFTER UPDATE OF "{g}" ON "{t}"
            WHEN OLD.fid = NEW.fid AND (NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}"))
            BEGIN DELETE FROM "{r}" WHERE id = OLD.fid; END""",
        "update3": f"""CREATE TRIGGER "{r}_update3" AFTER UPDATE ON "{t}"
            WHEN OLD.fid != NEW.fid AND (NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}"))
            BEGIN DELETE FROM "{r}" WHERE id = OLD.fid; INSERT OR REPLACE INTO "{r}" VALUES (NEW.fid,
            ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"), ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}")); END""",
        "update4": f"""CREATE TRIGGER "{r}_update4" AFTER UPDATE ON "{t}"
            WHEN OLD.fid != NEW.fid AND (NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}"))
            BEGIN DELETE FROM "{r}" WHERE id IN (OLD.fid, NEW.fid); END""",
        "delete": f"""CREATE TRIGGER "{r}_delete" AFTER DELETE ON "{t}" WHEN old."{g}" NOT NULL
            BEGIN DELETE FROM "{r}" WHERE id = OLD.fid; END""",
    }

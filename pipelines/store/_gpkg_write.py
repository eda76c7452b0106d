"""The GeoPackage store's inserts: rows bound through ``sqlite3``, the packed R-tree and the index
rebuild of a large batch, the duplicate-key lookup, and the ``gpkg_contents`` bookkeeping.

Private to :mod:`pipelines.store.gpkg`: every function runs inside a transaction the store opened.
A batch's chunks share one :class:`BatchSession`, so a feature table's index work (R-tree upper
levels, dropped indexes) is done once, when the batch finishes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from pipelines import schemas, settings
from pipelines.schemas import GEOMETRY, STORE_SRID, Table
from pipelines.store import _gpkg_binary as gpb
from pipelines.store import _gpkg_stage as _stage
from pipelines.store import _rtree as _rt
from pipelines.store._gpkg_schema import rtree_name, rtree_triggers
from pipelines.store.base import WriteSession
from pipelines.store.frames import DEDUPE_PREFIX, check_frame, datetime_texts, format_datetime, text_values

# Batches of at least this many rows, and at least 1/ratio of the rows already indexed, rebuild the
# R-tree as a packed tree and the table's indexes by sorting, instead of inserting row by row.
RTREE_BULK_MIN_ROWS = 5_000
RTREE_REBUILD_RATIO = 10
#: The page cache of a bulk insert (``PRAGMA cache_size``, negative: KiB; the store restores its own when the
#: transaction ends). A small one writes the pages to the write-ahead log while the caller prepares the next
#: chunk, instead of all of them at COMMIT, after the last (1.5-3 s of a 1M-row ingest).
BULK_CACHE_SIZE = -65536


#: How often a large batch's write-ahead log is written out to disk while the batch runs (seconds).
LOG_FLUSH_EVERY_S = 0.25


@contextlib.contextmanager
def flushing(log: Path, rows: int) -> Iterator[None]:
    """While a batch of at least :data:`RTREE_BULK_MIN_ROWS` ``rows`` runs (its transaction and the
    checkpoint after its ``COMMIT``), write its write-ahead ``log`` out to disk every
    :data:`LOG_FLUSH_EVERY_S`, from a thread of its own.

    The pages a large batch writes to the log stay in the operating system's cache (Linux writes dirty
    pages back after 30 s, or past a tenth of memory), so the checkpoint after ``COMMIT`` waited for all
    of them, then for the same pages copied into the file: 1.2 GB for a million incidents. Written out
    while the batch still prepares rows, the disk is otherwise idle. Durability is unchanged: this only
    writes sooner what SQLite syncs anyway.

    Only the log, never the database file: on Linux, closing any descriptor of a file releases every
    POSIX lock the process holds on it, so SQLite's connections would lose their shared lock on the store,
    and another process closing its last connection would checkpoint and delete the log a batch is writing
    (the batch is lost). SQLite holds no lock on the log itself (WAL locks live in the ``-shm`` file)."""
    if rows < RTREE_BULK_MIN_ROWS:
        yield
        return
    stop = threading.Event()

    def flush() -> None:
        while not stop.wait(LOG_FLUSH_EVERY_S):
            with contextlib.suppress(OSError):  # no log yet, or one being reset: nothing to write out
                fd = os.open(log, os.O_RDONLY)
                try:
                    os.fdatasync(fd)
                finally:
                    os.close(fd)

    thread = threading.Thread(target=flush, name="areasafe-gpkg-log-flush", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


class BatchSession(WriteSession):
    """State of one write transaction: its connection, feature-table inserts whose index work is
    still open, and the dedupe-prefix probes."""

    def __init__(self, conn: sqlite3.Connection, expected_rows: int) -> None:
        super().__init__()
        self.conn = conn
        self.expected_rows = expected_rows
        self.inserts: dict[str, TableInsert] = {}
        self.prefixes: dict[str, bool] = {}
        self.timezone: str | None = None  # the month summary's, read once per batch

    def finish_inserts(self) -> None:
        """Finish the index work of every feature table this batch wrote to."""
        for pending in self.inserts.values():
            pending.finish()
        self.inserts.clear()


def insert(conn: sqlite3.Connection, table: Table, frame: pd.DataFrame, session: BatchSession | None = None) -> None:
    """Insert rows. Inside a batch (``session``), a feature table's index work is left open across
    chunks and finished once, with the batch (:meth:`BatchSession.finish_inserts`); otherwise it is finished here."""
    if not len(frame):
        return
    if session is None or not table.geometry_type:
        pending = TableInsert(conn, table, len(frame), keep_unique=False)
        pending.write(frame)
        pending.finish()
        return
    bound = session.bound.get(table.name)
    pending = session.inserts.get(table.name)
    if pending is None:
        expected = max(len(frame), session.expected_rows if table is schemas.INCIDENTS else 0)
        keep_unique = any(session.prefixes.values())  # later chunks still look keys up
        pending = session.inserts[table.name] = TableInsert(conn, table, expected, keep_unique=keep_unique)
    pending.write(frame, bound)


def column_values(table: Table, name: str, values: pd.Series) -> list:
    """A column as the values ``sqlite3`` binds: GeoPackage text for datetimes, 0/1 for booleans, ``None`` for missing."""
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


def existing_keys(
    conn: sqlite3.Connection, keys: pd.Series | Iterable[str], prefixes: dict[str, bool] | None = None
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


def delete_where_in(conn: sqlite3.Connection, table: str, expr: str, values: pd.Series) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _del (k TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM _del")
    conn.executemany("INSERT OR IGNORE INTO _del VALUES (?)", ((str(v),) for v in values))
    conn.execute(f'DELETE FROM "{table}" WHERE {expr} IN (SELECT k FROM _del)')
    conn.execute("DELETE FROM _del")


def touch_contents(
    conn: sqlite3.Connection, table: str, extent: tuple[float, float, float, float] | None = None
) -> None:
    """Record the change time and the extent in ``gpkg_contents``: ``extent`` (min x, min y, max
    x, max y) when it covers every entry of the R-tree, else read back from the tree."""
    if extent is None:
        extent = conn.execute(
            f'SELECT MIN(minx), MIN(miny), MAX(maxx), MAX(maxy) FROM "{rtree_name(table)}"'
        ).fetchone()
    conn.execute(
        "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
        (format_datetime(dt.datetime.now(dt.UTC)), *extent, table),
    )


class TableInsert:
    """Rows appended to one table, in chunks, inside an open transaction.

    A feature table's R-tree is maintained in bulk instead of through the per-row insert trigger: a
    large insert rebuilds the whole index as a packed tree, each chunk's leaves as it is written and
    the levels above them at :meth:`finish` (row-by-row R*Tree inserts cost tens of microseconds
    each and grow with the tree); a small one inserts its cells row by row. A large
    insert through ``sqlite3`` also drops the table's indexes and rebuilds them by sorting at
    :meth:`finish` (DDL is transactional, so a failure such as a duplicate key rolls the drop back
    too); with ``keep_unique`` the unique indexes stay, because later chunks still look keys up.
    """

    def __init__(self, conn: sqlite3.Connection, table: Table, expected: int, *, keep_unique: bool) -> None:
        self.conn, self.table = conn, table
        columns = list(table.columns)
        self.indexes: list[tuple[str, str]] = []
        self.tree: _rt.TreeBuilder | None = None
        self.bulk = False
        if table.geometry_type:
            columns = ["fid", *columns, GEOMETRY]
            self.next_fid = conn.execute(f'SELECT COALESCE(MAX(fid), 0) FROM "{table.name}"').fetchone()[0] + 1
            conn.execute(f'DROP TRIGGER "{rtree_name(table.name)}_insert"')
            self.rtree = rtree_name(table.name)
            self.stored = conn.execute(f'SELECT COUNT(*) FROM "{self.rtree}_rowid"').fetchone()[0]
            self.bulk = expected >= RTREE_BULK_MIN_ROWS and expected * RTREE_REBUILD_RATIO >= self.stored
            if self.bulk:
                self.indexes = conn.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                    (table.name,),
                ).fetchall()
                if keep_unique:
                    self.indexes = [(n, q) for n, q in self.indexes if not q.upper().startswith("CREATE UNIQUE")]
                for name, _ in self.indexes:
                    conn.execute(f'DROP INDEX "{name}"')
                if not keep_unique:  # no index left to look up: dirty pages go to the log as the chunks come
                    conn.execute(f"PRAGMA cache_size = {BULK_CACHE_SIZE}")
                old = _rt.read_entries(conn, self.rtree) if self.stored else None
                self.tree = _rt.TreeBuilder(conn, self.rtree)  # empties the tree: the stored rows go back in
                if old is not None:
                    self.tree.add(old)
        quoted = ", ".join(f'"{c}"' for c in columns)
        self.sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'
        self.columns = columns

    def write(self, frame: pd.DataFrame, bound: Bound | None = None) -> None:
        """Insert ``frame``, from the rows ``bound`` already holds for it (:func:`bind`) if any."""
        table, conn = self.table, self.conn
        if bound is not None and bound.frame is frame:
            staged = bound.staged
            fids = np.arange(self.next_fid, self.next_fid + staged.rows)
            # one statement: SQLite rebuilds the rows from the staged bytes, no interpreter lock held
            staged.insert(conn, table.name, self.columns, first=f"i + {self.next_fid}")
            self.next_fid += staged.rows
            self._index(fids, bound.bounds)
            return
        for piece in _pieces(table, frame):
            values = piece.values
            if table.geometry_type:
                fids = np.arange(self.next_fid, self.next_fid + piece.rows)
                self.next_fid += piece.rows
                values = [fids.tolist(), *values, piece.blobs]
            conn.executemany(self.sql, zip(*values, strict=True))
            del values
            if table.geometry_type:
                self._index(fids, piece.bounds)

    def _index(self, fids: np.ndarray, bounds: tuple[np.ndarray, ...]) -> None:
        """The R-tree cells of rows ``fids`` with their ``bounds`` (minx, miny, maxx, maxy; NaN: none)."""
        minx, miny, maxx, maxy = bounds
        present = ~np.isnan(minx)
        if self.bulk:
            self.tree.add(_rt.cells(fids[present], minx[present], maxx[present], miny[present], maxy[present]))
            return
        self.conn.executemany(
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
        conn.execute(rtree_triggers(self.table.name)["insert"])
        touch_contents(conn, self.table.name, extent)


@dataclass(frozen=True)
class _Piece:
    """Up to ``Settings.chunk_rows`` rows as ``sqlite3`` binds them: each column's values, and for a
    feature table each row's geometry blob and bounds (minx, miny, maxx, maxy; NaN where missing)."""

    rows: int
    values: list[list]
    blobs: list[bytes | None] | None = None
    bounds: tuple[np.ndarray, ...] | None = None


@dataclass(frozen=True)
class Bound:
    """A frame's rows staged for the writer (:func:`bind`, :mod:`._gpkg_stage`) and each row's bounds
    (minx, miny, maxx, maxy; NaN where missing) for the R-tree."""

    frame: pd.DataFrame
    staged: _stage.Staged
    bounds: tuple[np.ndarray, ...]


def _pieces(table: Table, frame: pd.DataFrame) -> Iterator[_Piece]:
    """``frame`` as bound values, a piece at a time: Python objects for a million rows at once would need gigabytes."""
    check_frame(table, frame)
    for offset in range(0, len(frame), settings.SETTINGS.chunk_rows):
        chunk = frame.iloc[offset : offset + settings.SETTINGS.chunk_rows]
        values = [column_values(table, name, chunk[name]) for name in table.columns]
        if not table.geometry_type:
            yield _Piece(len(chunk), values)
            continue
        geometry = _Geometry(chunk)
        yield _Piece(len(chunk), values, geometry.blobs(), geometry.bounds())


def bind(table: Table, frame: pd.DataFrame) -> Bound | None:
    """A feature table's rows of ``frame`` staged, in the caller's thread, for :meth:`TableInsert.write`
    (:mod:`._gpkg_stage`); ``None`` for a table whose columns cannot be staged (it is bound row by row).
    The writer thread then inserts them with one statement, during which it does not hold the
    interpreter lock; bound row by row, they cost whichever thread bound them about 5 µs a row with it."""
    check_frame(table, frame)
    geometry = _Geometry(frame)
    staged = _stage.stage(table, frame, geometry.column())
    return None if staged is None else Bound(frame, staged, geometry.bounds())


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

    def column(self) -> tuple[bytes, np.ndarray, np.ndarray]:
        """The blobs as one staged column (:func:`._gpkg_stage.blob_column`)."""
        if self.geoms is None:
            present = ~np.isnan(self.x)
            return _stage.fixed_blob_column(gpb.point_records(self.x, self.y, STORE_SRID), present)
        return _stage.blob_column(self.blobs())

    def blobs(self) -> list[bytes | None]:
        if self.geoms is None:
            return gpb.encode_xy(self.x, self.y, STORE_SRID)
        return gpb.encode(self.geoms, STORE_SRID)

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """minx, miny, maxx, maxy (NaN for a missing or empty geometry)."""
        if self.geoms is None:
            return self.x, self.y, self.x, self.y
        return tuple(shapely.bounds(self.geoms).T)

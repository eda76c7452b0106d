"""The PostGIS store: AreaSafe's tables in PostgreSQL, for many uploaders, readers and dashboard replicas.

Place in the data flow: the same place as the GeoPackage store (the last step of every ingest and
the first of every analysis), selected with a ``postgresql://`` URL. Every batch is one database
transaction, so readers (MVCC snapshots) never see part of one and a killed uploader leaves nothing.

Writing. Rows travel with ``COPY`` (text format, built column-wise by :mod:`._pg_copy`):

- incidents go straight into ``incidents``. Uploads of the same source and organisation take an
  advisory lock on their duplicate-key prefix, so they run one after the other (as every write does
  in SQLite) and never deadlock; uploads of different organisations run in parallel. Under that lock
  the keys already stored cannot change, so they are looked up (only when the organisation has any)
  and skipped before the COPY: the duplicate check inside the transaction, with the unique index as
  the backstop.
- with ``place=True`` (what ingest asks for, see :attr:`Store.places_in_database`) each chunk's
  points are first copied into a narrow temporary table with a spatial index and placed in SQL with
  the rules of :mod:`pipelines.place`: boundary-inclusive containment with the smallest code winning,
  then swapped coordinates, then the nearest area within the snap distance (``snap_m``). The
  containment join loops over the area polygons and looks their points up in the index (each polygon
  is prepared once), several times faster than a loop over points. The codes come back with the
  COPY-out of that table and go into the rows' COPY.
- areas, assets, interventions, area counts and keyed record tables go through a staging table and
  replace stored rows by key; append-only tables get plain COPYs.
- ``incident_months`` (a derived table, migration 0002) is kept in step in the same transaction.

Schema. Alembic migrations (:mod:`._pg_migrate`, ``areasafe db upgrade``); opening a database that
is not at the head revision raises a :class:`StoreError` that says to run the upgrade.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import shapely
from psycopg import sql

from pipelines import schemas, settings
from pipelines.place import snap_degrees
from pipelines.schemas import CODE_COLUMN, COLUMNS, STORE_SRID, TABLES, Table
from pipelines.store import _pg_copy
from pipelines.store._pg_conn import Pool, redact
from pipelines.store._pg_migrate import check_revision, upgrade
from pipelines.store.base import (
    DATA_VERSION_SQL,
    Batch,
    BatchWriter,
    IncidentQuery,
    LoginCount,
    Store,
    StoreError,
    ThreadedWriter,
    WriteSession,
    claim_login_in,
)
from pipelines.store.frames import (
    DEDUPE_PREFIX,
    check_frame,
    check_table,
    format_datetime,
    outside_areas,
)

_CASTS = {
    "text": "text",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "datetime": "timestamptz",
    "date": "date",
}
_SUMMARY = "incident_months"
_SUMMARY_KEYS = (COLUMNS.neighbourhood_code, COLUMNS.month, COLUMNS.category, COLUMNS.source, COLUMNS.org)
_STAGE_MONTHS = "_stage_months"
_STAGE_PLACED = "_stage_placed"
_STAGE_POINTS = "_stage_points"
_KEY_CHUNK = 100_000


def _ident(*names: str) -> sql.Identifier:
    return sql.Identifier(*names)


def _idents(names: Iterable[str], alias: str | None = None) -> sql.Composed:
    return sql.SQL(", ").join(_ident(alias, n) if alias else _ident(n) for n in names)


class PostGISStore(Store):
    """AreaSafe's tables in a PostgreSQL database with PostGIS.

    Parameters
    ----------
    url
        A libpq URL, ``postgresql://USER@HOST:PORT/DATABASE`` (options such as ``?sslmode=require``
        pass through). The database must be at the current schema revision: run
        ``areasafe db upgrade --store URL`` first.
    """

    places_in_database = True

    def __init__(self, url: str) -> None:
        self.url = str(url)
        self._pool = Pool(self.url)
        with self._pool.connection() as conn:
            check_revision(conn, self.url)

    def __repr__(self) -> str:
        return f"PostGISStore({redact(self.url)!r})"

    # -- lifecycle ---------------------------------------------------------------------------------
    def initialise(self) -> None:
        """Migrate the database to the current revision (what ``areasafe db upgrade`` does)."""
        upgrade(self.url)

    def close(self) -> None:
        self._pool.close()

    def is_empty(self) -> bool:
        with self._pool.connection() as conn:
            query = "SELECT NOT EXISTS (SELECT 1 FROM areas) AND NOT EXISTS (SELECT 1 FROM incidents)"
            return bool(conn.execute(query).fetchone()[0])

    # -- writes (Store._write_stream runs a batch; these are its PostGIS statements) ----------------
    def batch_writer(
        self, *, expected_rows: int | None = None, place: bool = False, snap_m: float | None = None
    ) -> BatchWriter:
        # The writer thread sends chunk k (COPY, placement and insert run in the server) while the
        # caller validates chunk k+1; the transaction lives on the thread's pooled connection.
        self._check_place(place)
        write = functools.partial(self._write_stream, place=place, snap_m=snap_m)
        return ThreadedWriter(write, name="areasafe-postgis-writer", prepare=self._prepare)

    @contextlib.contextmanager
    def _batch_session(self, *, expected_rows: int, place: bool, snap_m: float | None) -> Iterator[_Session]:
        with self._pool.connection() as conn, conn.transaction():
            yield _Session(conn, place=place, snap_m=snap_m)

    @contextlib.contextmanager
    def _record_session(self) -> Iterator[_Session]:
        with self._pool.connection() as conn, conn.transaction():
            yield _Session(conn, place=False)

    def _finish_batch(self, session: _Session, batch: Batch) -> Batch:
        if session.place:
            warnings = Counter(batch.warnings)
            warnings.update(
                swapped_coordinates=session.swapped, near_boundary=session.near, outside_areas=session.outside
            )
            batch = batch.with_counts(
                outside_areas=batch.outside_areas + session.outside,
                warnings=dict(sorted((k, v) for k, v in warnings.items() if v)),
            )
        if session.months:
            session.stage_months()
            self._add_to_summary(session.conn, sql.SQL("SELECT * FROM {}").format(_ident(_STAGE_MONTHS)), ())
        self._append(session, schemas.BATCHES, pd.DataFrame([batch.to_record()]))
        return batch

    def _copy_in(self, session: _Session, table: Table, target: str, frame: pd.DataFrame, **options) -> None:
        """COPY ``frame`` into ``target`` (the table itself or its staging table), in chunks."""
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(_ident(target), _idents(_pg_copy.copy_columns(table)))
        check_frame(table, frame)
        with session.conn.cursor().copy(statement) as copy:
            for offset in range(0, len(frame), settings.SETTINGS.chunk_rows):
                copy.write(
                    _pg_copy.encode(table, frame.iloc[offset : offset + settings.SETTINGS.chunk_rows], **options)
                )

    def _append(self, session: _Session, table: Table, frame: pd.DataFrame) -> None:
        self._copy_in(session, table, table.name, frame)

    def _replace(self, session: _Session, table: Table, frame: pd.DataFrame, key: Iterable[str]) -> None:
        """Rows of ``frame`` replace stored rows with the same ``key`` (missing key values match each other)."""
        session.lock(f"table:{table.name}")
        stage = session.stage(table)
        self._copy_in(session, table, stage, frame)
        same = sql.SQL(" AND ").join(
            sql.SQL("t.{0} = s.{0}" if not table.field(k).nullable else "t.{0} IS NOT DISTINCT FROM s.{0}").format(
                _ident(k)
            )
            for k in key
        )
        columns = _idents(_pg_copy.copy_columns(table))
        session.conn.execute(
            sql.SQL("DELETE FROM {} AS t USING {} AS s WHERE {}").format(_ident(table.name), _ident(stage), same)
        )
        session.conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(_ident(table.name), columns, columns, _ident(stage))
        )

    def _write_incidents(self, session: _Session, incidents: pd.DataFrame) -> pd.DataFrame:
        table = schemas.INCIDENTS
        incidents = schemas.as_geoframe(incidents)  # COPY and placement here work on geometries
        check_frame(table, incidents)
        keys = pd.Series(incidents[COLUMNS.dedupe_key].to_numpy(dtype=object))
        repeated = keys[keys.duplicated()]
        if len(repeated):
            raise StoreError(
                f"cannot store incidents: dedupe_key {repeated.iloc[0]!r} appears more than once in one batch; "
                "keep the first row of each key (validation does this for files)."
            )
        prefixes = sorted(set(keys.str.extract(DEDUPE_PREFIX, expand=False).fillna("")))
        for prefix in prefixes:
            session.lock(f"incidents:{prefix}")
        if session.place:
            incidents = self._place(session, incidents)
        outside = outside_areas(incidents)
        session.outside += int(outside.sum())
        # Under the prefix lock no other upload writes these keys, so the keys stored now are the
        # keys stored at commit: drop them here, then COPY (the unique index still guards).
        if any(session.prefix_stored(prefix) for prefix in prefixes):
            stored = keys.isin(_stored_keys(session.conn, keys.tolist())).to_numpy()
            session.count_stored(stored, outside)
            incidents = incidents.loc[~stored]
        if len(incidents):
            self._copy_in(session, table, table.name, incidents)
            session.count_written(incidents, timezone=session.timezone())
        return incidents

    def _place(self, session: _Session, incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``incidents`` with area codes and swapped points as the database placed them (the rules of
        :func:`pipelines.place.place_points`); the flags are counted in ``session``."""
        geoms = incidents.geometry.to_numpy()
        session.stage_points(geoms)
        statement = sql.SQL("COPY (SELECT _rn, {}, _swapped, _near FROM {} ORDER BY _rn) TO STDOUT (FORMAT csv)")
        codes = list(CODE_COLUMN.values())
        buffer = io.BytesIO()
        with session.conn.cursor().copy(statement.format(_idents(codes), _ident(_STAGE_PLACED))) as copy:
            for data in copy:
                buffer.write(data)
        types = {"_rn": pa.int64(), **dict.fromkeys(codes, pa.string()), "_swapped": pa.bool_(), "_near": pa.bool_()}
        placed = _pg_copy.read_csv(buffer.getvalue(), types)
        if placed.num_rows != len(incidents):
            raise StoreError(f"placement returned {placed.num_rows} rows for {len(incidents)} incidents")
        swapped = placed.column("_swapped").to_numpy(zero_copy_only=False)
        session.swapped += int(swapped.sum())
        session.near += int(placed.column("_near").to_numpy(zero_copy_only=False).sum())
        if swapped.any():
            geoms = geoms.copy()
            geoms[swapped] = shapely.points(shapely.get_y(geoms[swapped]), shapely.get_x(geoms[swapped]))
        # A row without a point keeps the codes it came with: placed by the area it names.
        no_point = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        out = incidents.assign(
            **{
                c: np.where(no_point & incidents[c].notna().to_numpy(), incidents[c].to_numpy(dtype=object),
                            placed.column(c).to_numpy(zero_copy_only=False))
                for c in codes
            }
        )  # fmt: skip
        return out.set_geometry(gpd.GeoSeries(geoms, index=incidents.index, crs=incidents.crs))

    def _add_to_summary(self, conn: psycopg.Connection, counts: sql.Composable, params: tuple) -> None:
        """Add ``counts`` (rows of the summary's key columns and a count, possibly negative) to
        ``incident_months``, in key order so that concurrent batches lock summary rows in the same order."""
        keys = _idents(_SUMMARY_KEYS)
        conn.execute(
            sql.SQL(
                "INSERT INTO {summary} AS m ({keys}, incidents) "
                "SELECT {keys}, sum(incidents) FROM ({counts}) AS c GROUP BY {keys} ORDER BY {keys} "
                "ON CONFLICT ON CONSTRAINT incident_months_key DO UPDATE SET incidents = m.incidents + EXCLUDED.incidents"
            ).format(summary=_ident(_SUMMARY), keys=keys, counts=counts),
            params,
        )
        conn.execute(sql.SQL("DELETE FROM {} WHERE incidents <= 0").format(_ident(_SUMMARY)))

    def claim_login_attempt(
        self, username: str, *, at: dt.datetime, cutoffs: Sequence[dt.datetime | None]
    ) -> LoginCount:
        # Each statement is atomic on its own: an UPDATE (or ON CONFLICT DO UPDATE) that waited for a
        # concurrent one re-checks its condition on the row that one left.
        with self._pool.connection() as conn, conn.transaction():
            return claim_login_in(
                lambda statement, params: conn.execute(statement, params).fetchone(),
                username,
                stamp=at,
                cutoffs=cutoffs,
                salt_sql="SELECT value FROM areasafe_settings WHERE key = 'login_salt'",
                placeholder="%s",
            )

    def clear_login_failures(self, username: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("UPDATE users SET failed_logins = 0, last_failed_at = NULL WHERE username = %s", (username,))

    def _session_statement(self, statement: str, params: tuple, *, wait: bool = True) -> str | None:
        # Row locks only: a page view never waits for an upload here, only for another view of its session.
        with self._pool.connection() as conn:
            cursor = conn.execute(statement.format(p="%s"), params)
            row = cursor.fetchone() if cursor.description else None
        return None if row is None else row[0]

    def existing_dedupe_keys(self, keys: Iterable[str]) -> set[str]:
        with self._pool.connection() as conn:
            return _stored_keys(conn, [str(k) for k in keys])

    def delete_batch(self, batch_id: str, *, then: Callable[[int], dict[str, pd.DataFrame]] | None = None) -> int:
        removed = 0
        with self._pool.connection() as conn, conn.transaction():
            session = _Session(conn, place=False)
            gone = sql.SQL(
                "SELECT neighbourhood_code, date_trunc('month', occurred_at AT TIME ZONE %s)::date AS month, "
                "category, source, org, -count(*) AS incidents FROM incidents WHERE batch_id = %s "
                "GROUP BY 1, 2, 3, 4, 5"
            )
            self._add_to_summary(conn, gone, (session.timezone(), batch_id))
            for table in TABLES.values():
                if COLUMNS.batch_id in table.columns and not table.append_only:
                    statement = sql.SQL("DELETE FROM {} WHERE batch_id = %s").format(_ident(table.name))
                    deleted = conn.execute(statement, (batch_id,)).rowcount
                    removed += 0 if table.copies else deleted
            if then is not None:
                self._save(session, then(removed))
        return removed

    def reclassify_incidents(
        self, changes: pd.DataFrame, *, then: Callable[[int], dict[str, pd.DataFrame]] | None = None
    ) -> int:
        with self._pool.connection() as conn, conn.transaction():
            session = _Session(conn, place=False)
            conn.execute(
                'CREATE TEMP TABLE _reclassify (incident_id text COLLATE "C" PRIMARY KEY, '
                'category text COLLATE "C" NOT NULL, sensitive boolean NOT NULL) ON COMMIT DROP'
            )
            with conn.cursor().copy("COPY _reclassify (incident_id, category, sensitive) FROM STDIN") as copy:
                for row in zip(
                    changes[COLUMNS.incident_id].astype(str),
                    changes[COLUMNS.category].astype(str),
                    changes[COLUMNS.sensitive].astype(bool),
                    strict=True,
                ):
                    copy.write_row(row)
            # The month summary loses the rows' old categories and gains their new ones.
            month = "date_trunc('month', i.occurred_at AT TIME ZONE %s)::date"
            moved = sql.SQL(
                f"SELECT i.neighbourhood_code, {month} AS month, i.category, i.source, i.org, -count(*) AS incidents "
                "FROM incidents AS i JOIN _reclassify AS r USING (incident_id) "
                "WHERE i.category IS DISTINCT FROM r.category GROUP BY 1, 2, 3, 4, 5 UNION ALL "
                f"SELECT i.neighbourhood_code, {month}, r.category, i.source, i.org, count(*) "
                "FROM incidents AS i JOIN _reclassify AS r USING (incident_id) "
                "WHERE i.category IS DISTINCT FROM r.category GROUP BY 1, 2, 3, 4, 5"
            )
            self._add_to_summary(conn, moved, (session.timezone(), session.timezone()))
            changed = conn.execute(
                "UPDATE incidents AS i SET category = r.category, sensitive = r.sensitive FROM _reclassify AS r "
                "WHERE i.incident_id = r.incident_id "
                "AND (i.category IS DISTINCT FROM r.category OR i.sensitive IS DISTINCT FROM r.sensitive)"
            ).rowcount
            if then is not None:
                self._save(session, then(changed))
        return changed

    # -- reads -------------------------------------------------------------------------------------
    def count(self, table: str) -> int:
        check_table(table)
        with self._pool.connection() as conn:
            return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(_ident(table))).fetchone()[0]

    def data_version(self) -> tuple[int, int]:
        with self._pool.connection() as conn:
            return tuple(conn.execute(DATA_VERSION_SQL).fetchone())

    def read_areas(self, kind: str | None = None) -> gpd.GeoDataFrame:
        return self.read_table("areas", where={"kind": kind} if kind else None)

    def read_table(self, table: str, *, where: dict[str, object] | None = None) -> pd.DataFrame:
        spec = check_table(table)
        clauses, params = [], []
        for column, value in (where or {}).items():
            kind = spec.field(column).dtype
            clauses.append(sql.SQL("{} = %s::{}").format(_ident(column), sql.SQL(_CASTS[kind])))
            params.append(value)
        statement = sql.SQL("SELECT {} FROM {}").format(
            _pg_copy.select_list(spec, list(spec.columns), geometry=bool(spec.geometry_type)), _ident(spec.name)
        )
        if clauses:
            statement += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)
        # In the order rows were written, as a GeoPackage table reads.
        data = self._copy_out(statement + sql.SQL(" ORDER BY fid"), params)
        return _pg_copy.decode(spec, list(spec.columns), data, geometry=bool(spec.geometry_type))

    def read_incidents(self, query: IncidentQuery | None = None) -> gpd.GeoDataFrame:
        columns, statement, params = _incidents_select(query or IncidentQuery())
        data = self._copy_out(statement, params)
        return _pg_copy.decode(schemas.INCIDENTS, columns, data, geometry=True)

    def explain_incidents(self, query: IncidentQuery | None = None, *, analyze: bool = True) -> str:
        """The server's plan for :meth:`read_incidents` with ``query`` (``EXPLAIN (ANALYZE, BUFFERS)``):
        which indexes answer it, and whether anything reads the whole table."""
        _, statement, params = _incidents_select(query or IncidentQuery())
        options = sql.SQL("ANALYZE, BUFFERS" if analyze else "COSTS")
        with self._pool.connection() as conn:
            rows = conn.execute(sql.SQL("EXPLAIN ({}) ").format(options) + statement, params).fetchall()
        return "\n".join(r[0] for r in rows)

    def _copy_out(self, query: sql.Composable, params: list) -> bytes:
        buffer = io.BytesIO()
        with self._pool.connection() as conn:
            statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT csv)").format(query)
            with conn.cursor().copy(statement, params or None) as copy:
                for data in copy:
                    buffer.write(data)
        return buffer.getvalue()

    def incident_months(self) -> pd.DataFrame:
        with self._pool.connection() as conn:
            stored = _summary_timezone(conn)
            if stored == settings.SETTINGS.local_timezone:
                rows = conn.execute(
                    sql.SQL("SELECT {}, incidents FROM {}").format(_idents(_SUMMARY_KEYS), _ident(_SUMMARY))
                ).fetchall()
            else:  # the summary was kept in another time zone: count from the incidents (slower, still right)
                rows = conn.execute(
                    "SELECT neighbourhood_code, date_trunc('month', occurred_at AT TIME ZONE %s)::date, "
                    "category, source, org, count(*) FROM incidents GROUP BY 1, 2, 3, 4, 5",
                    (settings.SETTINGS.local_timezone,),
                ).fetchall()
        frame = pd.DataFrame(rows, columns=[*_SUMMARY_KEYS, COLUMNS.incidents], dtype=object)
        months = pd.PeriodIndex(pd.to_datetime(frame[COLUMNS.month]), freq="M")
        frame[COLUMNS.month] = pd.Series(months, index=frame.index)
        order = [
            COLUMNS.month,
            COLUMNS.neighbourhood_code,
            COLUMNS.category,
            COLUMNS.source,
            COLUMNS.org,
            COLUMNS.incidents,
        ]
        return frame[order].astype({COLUMNS.incidents: "int64"})


def _incidents_select(query: IncidentQuery) -> tuple[list[str], sql.Composed, list]:
    """The columns, SELECT statement and parameters that answer ``query``."""
    table, columns, clauses, params = schemas.INCIDENTS, query.read_columns(), [], []
    for column, value in query.equal_to():
        clauses.append(sql.SQL("{} = %s").format(_ident(column)))
        params.append(value)
    # Bounds at millisecond precision, as stored (and as the GeoPackage store compares them).
    for bound, op in ((query.start, ">="), (query.end, "<")):
        if bound is not None:
            clauses.append(sql.SQL("occurred_at {} %s::timestamptz").format(sql.SQL(op)))
            params.append(format_datetime(bound))
    for column, values in (("category", query.categories), ("source", query.sources), ("org", query.orgs)):
        if values is not None:
            clauses.append(sql.SQL("{} = ANY(%s::text[])").format(_ident(column)))
            params.append([str(v) for v in values])
    if query.bbox is not None:
        clauses.append(sql.SQL("geometry && ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(STORE_SRID)))
        params.extend(float(v) for v in query.bbox)
    statement = sql.SQL("SELECT {} FROM incidents").format(_pg_copy.select_list(table, columns, geometry=True))
    if clauses:
        statement += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)
    # In the order written (as the GeoPackage reads a table): heap order is not that order, since
    # rows fill free space on earlier pages, and an export must come out the same on both backends.
    return columns, statement + sql.SQL(" ORDER BY fid"), params


class _Session(WriteSession):
    """State of one write transaction: its connection, the advisory locks and staging tables it
    holds, and the placement counts added to the batch at ``finish``."""

    def __init__(self, conn: psycopg.Connection, *, place: bool, snap_m: float | None = None) -> None:
        super().__init__()
        self.conn = conn
        self.place = place
        self.snap_m = snap_m
        self._locks: set[str] = set()
        self._staged: set[str] = set()
        self._timezone: str | None = None
        self._prefixes: dict[str, bool] = {}
        self.outside = self.swapped = self.near = 0

    def lock(self, name: str) -> None:
        """Hold the advisory lock ``areasafe:<name>`` until the transaction ends."""
        if name not in self._locks:
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"areasafe:{name}",))
            self._locks.add(name)

    def timezone(self) -> str:
        if self._timezone is None:
            self._timezone = _summary_timezone(self.conn)
        return self._timezone

    def stage(self, table: Table) -> str:
        """An empty staging table shaped like ``table`` (dropped at the end of the transaction)."""
        name = f"_stage_{table.name}"
        if name in self._staged:
            self.conn.execute(sql.SQL("TRUNCATE {}").format(_ident(name)))
            return name
        self.conn.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
                _ident(name), _idents(_pg_copy.copy_columns(table)), _ident(table.name)
            )
        )
        self._staged.add(name)
        return name

    def prefix_stored(self, prefix: str) -> bool:
        """Whether any incident key starting with ``prefix`` was stored when this transaction first asked."""
        if prefix not in self._prefixes:
            probe = "SELECT EXISTS (SELECT 1 FROM incidents WHERE dedupe_key >= %s AND dedupe_key < %s)"
            self._prefixes[prefix] = self.conn.execute(probe, (prefix, prefix + "\U0010ffff")).fetchone()[0]
        return self._prefixes[prefix]

    def stage_points(self, geoms) -> None:
        """Place a chunk's points into ``_stage_placed`` (codes and flags per row number, from 0).

        The points go to a narrow table with a spatial index; the containment join writes the placed
        table, and the swap and near-boundary steps update the few rows still outside.
        """
        points, placed = _ident(_STAGE_POINTS), _ident(_STAGE_PLACED)
        self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(placed, points))
        self.conn.execute(
            sql.SQL("CREATE TEMP TABLE {} (_rn bigint, geometry geometry(Point, {})) ON COMMIT DROP").format(
                points, sql.Literal(STORE_SRID)
            )
        )
        with self.conn.cursor().copy(sql.SQL("COPY {} (_rn, geometry) FROM STDIN").format(points)) as copy:
            copy.write(_pg_copy.encode_points(geoms))
        self.conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geometry)").format(points))
        inside, swapped, near = _placement_sql()
        self.conn.execute(inside)
        self.conn.execute(swapped)
        tolerance = snap_degrees(self.snap_m)  # metres to degrees as pipelines.place does
        if tolerance > 0:
            self.conn.execute(near, {"tolerance": tolerance})

    def stage_months(self) -> None:
        """The batch's month counts (summed over its chunks) in ``_stage_months``."""
        months = self.month_counts()
        first_day = months[COLUMNS.month].dt.start_time.dt.strftime("%Y-%m-%d")
        self.conn.execute(
            sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {}, incidents FROM {} WITH NO DATA").format(
                _ident(_STAGE_MONTHS), _idents(_SUMMARY_KEYS), _ident(_SUMMARY)
            )
        )
        statement = sql.SQL("COPY {} ({}, incidents) FROM STDIN").format(_ident(_STAGE_MONTHS), _idents(_SUMMARY_KEYS))
        with self.conn.cursor().copy(statement) as copy:
            for row in zip(
                months[COLUMNS.neighbourhood_code], first_day, months[COLUMNS.category], months[COLUMNS.source], months[COLUMNS.org],
                months[COLUMNS.incidents], strict=True,
            ):  # fmt: skip
                copy.write_row([None if pd.isna(v) else v for v in row])


def _summary_timezone(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT value FROM areasafe_settings WHERE key = 'incident_months_timezone'").fetchone()
    return row[0]


def _stored_keys(conn: psycopg.Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for offset in range(0, len(keys), _KEY_CHUNK):
        rows = conn.execute(
            "SELECT dedupe_key FROM incidents WHERE dedupe_key = ANY(%s)", (keys[offset : offset + _KEY_CHUNK],)
        )
        found.update(r[0] for r in rows)
    return found


@functools.cache
def _placement_sql() -> tuple[sql.Composed, sql.Composed, sql.Composed]:
    """The three placement steps of :func:`pipelines.place.place_points`, on the staged chunk's points."""
    stage = _ident(_STAGE_PLACED)
    kinds = list(CODE_COLUMN.items())
    outside = sql.SQL(" AND ").join(sql.SQL("{} IS NULL").format(_ident(c)) for _, c in kinds)
    assign = sql.SQL(", ").join(sql.SQL("{0} = h.{0}").format(_ident(c)) for _, c in kinds)

    # Wards are not placed when stored (schemas.PLACED_KINDS): only the kinds with a code column count.
    areas = sql.SQL("(SELECT kind, code, geometry FROM areas WHERE kind IN ({}))").format(
        sql.SQL(", ").join(sql.Literal(kind) for kind, _ in kinds)
    )
    # 1. Containment, boundary included: loop over the polygons, look their points up in the index.
    by_kind = sql.SQL(", ").join(
        sql.SQL("min(a.code) FILTER (WHERE a.kind = {}) AS {}").format(sql.Literal(kind), _ident(column))
        for kind, column in kinds
    )
    inside = sql.SQL(
        "CREATE TEMP TABLE {placed} ON COMMIT DROP AS WITH h AS ("
        " SELECT s._rn, {by_kind} FROM {areas} AS a"
        " CROSS JOIN LATERAL (SELECT i._rn FROM {points} AS i WHERE ST_Intersects(a.geometry, i.geometry) OFFSET 0) AS s"
        " GROUP BY s._rn"
        ") SELECT p._rn, p.geometry, {codes}, false AS _swapped, false AS _near"
        " FROM {points} AS p LEFT JOIN h USING (_rn)"
    ).format(
        placed=stage,
        areas=areas,
        by_kind=by_kind,
        points=_ident(_STAGE_POINTS),
        codes=sql.SQL(", ").join(_ident("h", c) for _, c in kinds),
    )
    # 2. Swapped coordinates: outside everything, but inside something with x and y exchanged.
    #    Steps 2 and 3 touch the few points still outside; joins, not per-point subqueries.
    swapped = sql.SQL(
        "WITH c AS ("
        " SELECT _rn, ST_FlipCoordinates(geometry) AS flipped FROM {placed}"
        " WHERE {outside} AND abs(ST_X(geometry)) <= 90 AND abs(ST_Y(geometry)) <= 180"
        "), h AS ("
        " SELECT c._rn, {by_kind} FROM c JOIN {areas} AS a ON ST_Intersects(a.geometry, c.flipped) GROUP BY c._rn"
        ") UPDATE {placed} AS i SET geometry = ST_FlipCoordinates(i.geometry), {assign}, _swapped = true"
        " FROM h WHERE i._rn = h._rn"
    ).format(placed=stage, areas=areas, outside=outside, by_kind=by_kind, assign=assign)
    # 3. Near a boundary: per kind, the nearest area within the tolerance (ties: the smallest code).
    near = sql.SQL(
        "WITH c AS (SELECT _rn, geometry FROM {placed} WHERE {outside} AND geometry IS NOT NULL),"
        " nearest AS ("
        " SELECT DISTINCT ON (c._rn, a.kind) c._rn, a.kind, a.code FROM c"
        " JOIN {areas} AS a ON ST_DWithin(a.geometry, c.geometry, %(tolerance)s)"
        " ORDER BY c._rn, a.kind, ST_Distance(a.geometry, c.geometry), a.code"
        "), h AS (SELECT a._rn, {by_kind} FROM nearest AS a GROUP BY a._rn)"
        " UPDATE {placed} AS i SET {assign}, _near = true FROM h WHERE i._rn = h._rn"
    ).format(placed=stage, areas=areas, outside=outside, by_kind=by_kind, assign=assign)
    return inside, swapped, near

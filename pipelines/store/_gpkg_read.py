"""The GeoPackage store's reads: the SELECT statements that answer a table or incident query, and the
rows turned back into frames with the dtypes both stores return.

Private to :mod:`pipelines.store.gpkg`. A frame read back has text as objects, ``Int64``, ``float64``,
``bool`` and tz-aware UTC ``datetime64[us]`` columns, and its geometry in EPSG:4326: what the PostGIS
store returns too (:mod:`pipelines.store._pg_copy`).
"""

from __future__ import annotations

import sqlite3

import geopandas as gpd
import pandas as pd

from pipelines.schemas import COLUMNS, GEOMETRY, STORE_CRS, Table
from pipelines.store import _gpkg_binary as gpb
from pipelines.store._gpkg_schema import SUMMARY, SUMMARY_TIMEZONE, rtree_name
from pipelines.store.base import MONTH_KEYS, IncidentQuery
from pipelines.store.frames import format_datetime


def select(conn: sqlite3.Connection, table: Table, columns: list[str], sql_where: str, params: list) -> pd.DataFrame:
    """``columns`` (and the geometry, for a feature table) of the rows of ``table`` that ``sql_where`` keeps."""
    names = [f'"{c}"' for c in columns]
    if table.geometry_type:
        names.append(f'"{GEOMETRY}"')
    rows = conn.execute(f'SELECT {", ".join(names)} FROM "{table.name}"{sql_where}', params).fetchall()
    data = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    frame = pd.DataFrame({c: _from_sql(table, c, data[i]) for i, c in enumerate(columns)})
    if not table.geometry_type:
        return frame
    return gpd.GeoDataFrame(frame, geometry=gpb.decode(data[-1]), crs=STORE_CRS)


def table_where(table: Table, where: dict[str, object] | None) -> tuple[str, list]:
    """The ``WHERE`` clause (or ``""``) and parameters of an equality filter on ``table``'s columns."""
    clauses, params = [], []
    for column, value in (where or {}).items():
        table.field(column)
        clauses.append(f'"{column}" = ?')
        params.append(value)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), params


def incidents_where(query: IncidentQuery) -> tuple[list[str], str, list]:
    """The columns, ``WHERE`` clause (or ``""``) and parameters that answer ``query``."""
    columns, clauses, params = query.read_columns(), [], []
    for column, value in query.equal_to():
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
            f"fid IN (SELECT id FROM {rtree_name('incidents')} WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"
        )
        params.extend([minx, maxx, miny, maxy])
    sql_where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return columns, sql_where, params


def summary_months(conn: sqlite3.Connection, timezone: str) -> pd.DataFrame | None:
    """Incidents per local month from the month summary (the shape of :meth:`Store.incident_months`), or
    ``None`` when the summary was kept in another time zone than ``timezone``."""
    stored = conn.execute(f"SELECT value FROM areasafe_meta WHERE key = '{SUMMARY_TIMEZONE}'").fetchone()
    if stored is None or stored[0] != timezone:
        return None
    keys = ", ".join(f'"{k}"' for k in MONTH_KEYS)
    rows = conn.execute(
        f"SELECT month, {keys}, SUM(incidents) FROM {SUMMARY} GROUP BY month, {keys} HAVING SUM(incidents) > 0"
    ).fetchall()
    frame = pd.DataFrame(rows, columns=[COLUMNS.month, *MONTH_KEYS, COLUMNS.incidents], dtype=object)
    frame[COLUMNS.month] = pd.to_datetime(frame[COLUMNS.month], format="%Y-%m").dt.to_period("M")  # vectorised parse
    # In the order of the counted default (pandas' groupby: missing keys last), so both compare equal.
    frame = frame.sort_values([COLUMNS.month, *MONTH_KEYS], na_position="last", ignore_index=True)
    return frame.astype({COLUMNS.incidents: "int64"})


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

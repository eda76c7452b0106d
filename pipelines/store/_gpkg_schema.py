"""The GeoPackage store's schema: the tables, indexes, R-tree triggers and metadata of a new file, and the
upgrade of a file written by an older AreaSafe.

Private to :mod:`pipelines.store.gpkg`, which opens the transactions these statements run in. The
tables come from :data:`pipelines.schemas.TABLES`; the ``gpkg_*`` tables, the R-tree extension and its
triggers follow the GeoPackage 1.4 specification, as GDAL writes them. The month summary
(``incident_months``) is a derived table the store keeps in step with every batch.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence

import pandas as pd

from pipelines import settings
from pipelines.schemas import COLUMNS, GEOMETRY, STORE_SRID, TABLES, Table
from pipelines.store.base import MONTH_KEYS, count_months
from pipelines.taxonomy import OTHER

SQL_TYPES = {
    "text": "TEXT",
    "int": "INTEGER",
    "float": "REAL",
    "bool": "BOOLEAN",
    "datetime": "DATETIME",
    "date": "DATE",
}
APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400  # GeoPackage 1.4.0
# 2: users, audit_log, meetings, actions, action_log, funding_sphere; 3: batch tombstones;
# 4: area-and-period indexes leave out rows without that area (partial indexes);
# 5: login_failures and the login salt (throttling of names without an account);
# 6: term_mappings, and incidents stored under the fallback category made sensitive (fail closed);
# 7: assets.sharing_consent (people's assets by consent);
# 8: area_aliases (station renames and merges) and batches.notes
# 9: boundary_versions (ward demarcations), wards as an area kind; sessions (kept across reloads)
# 10: source_rows (each incident's row as the file gave it, in compressed blocks; incidents.raw left empty)
SCHEMA_VERSION = "10"
_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
    'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
    'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)


def rtree_name(table: str) -> str:
    """The R-tree spatial index of a feature table."""
    return f"rtree_{table}_{GEOMETRY}"


def create(conn: sqlite3.Connection) -> None:
    """Every table, index, trigger and metadata row of a new store, inside the caller's transaction."""
    for statement in gpkg_core_ddl():
        conn.execute(statement)
    for table in TABLES.values():
        for statement in table_ddl(table):
            conn.execute(statement)
    conn.execute("CREATE TABLE areasafe_meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO areasafe_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    add_login_salt(conn)
    create_summary(conn)


def stored_version(conn: sqlite3.Connection) -> str | None:
    """The schema version recorded in the file."""
    row = conn.execute("SELECT value FROM areasafe_meta WHERE key = 'schema_version'").fetchone()
    return row[0] if row else None


def upgrade(conn: sqlite3.Connection, version: str | None) -> None:
    """Bring a store at schema ``version`` up to :data:`SCHEMA_VERSION`, inside the caller's transaction.

    Only additions happen here (new tables, new nullable columns, indexes rebuilt to their current
    definition), so an older file is upgraded in place the first time a newer AreaSafe opens it.
    """
    before = int(version) if version and version.isdigit() else 0
    for table in TABLES.values():
        present = [r[1] for r in conn.execute(f'PRAGMA table_info("{table.name}")')]
        if not present:
            for statement in table_ddl(table):
                conn.execute(statement)
            continue
        for f in table.fields:
            if f.name not in present:
                conn.execute(f'ALTER TABLE "{table.name}" ADD COLUMN "{f.name}" {SQL_TYPES[f.dtype]}')
        stored = dict(
            conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table.name,))
        )
        for name, statement in index_ddl(table).items():
            if stored.get(name) != statement:
                conn.execute(f'DROP INDEX IF EXISTS "{name}"')
                conn.execute(statement)
    add_login_salt(conn)
    if before < 6:
        # Unmapped terms were stored as 'other' and not sensitive; they are sensitive until mapped.
        conn.execute("UPDATE incidents SET sensitive = 1 WHERE category = ? AND NOT sensitive", (OTHER,))
    if before < 9:
        create_summary(conn)
        summarise(conn, None)
    conn.execute("UPDATE areasafe_meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))


def add_login_salt(conn: sqlite3.Connection) -> None:
    """The random salt of :func:`~pipelines.store.base.login_key`, made once per store."""
    conn.execute("INSERT OR IGNORE INTO areasafe_meta VALUES ('login_salt', ?)", (secrets.token_hex(32),))


#: The derived month summary behind :meth:`GeoPackageStore.incident_months` (as PostGIS keeps one): not one
#: of ``schemas.TABLES``. Rows are per batch, so erasing a batch deletes its rows in the same transaction.
SUMMARY = "incident_months"
SUMMARY_TIMEZONE = "incident_months_timezone"


def create_summary(conn: sqlite3.Connection) -> None:
    keys = ", ".join(f'"{k}" TEXT' for k in MONTH_KEYS)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {SUMMARY} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
        f"batch_id TEXT NOT NULL, month TEXT, {keys}, incidents INTEGER NOT NULL)"
    )
    conn.execute(f'CREATE INDEX IF NOT EXISTS "ix_{SUMMARY}_batch_id" ON {SUMMARY} (batch_id)')
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) VALUES "
        f"('{SUMMARY}', 'attributes', '{SUMMARY}', 'Derived: incidents per batch, local month, neighbourhood, "
        "category, source and org (kept in step with incidents).')"
    )
    conn.execute(
        f"INSERT OR REPLACE INTO areasafe_meta VALUES ('{SUMMARY_TIMEZONE}', ?)", (settings.SETTINGS.local_timezone,)
    )


def summarise(conn: sqlite3.Connection, batch_ids: Sequence[str] | None) -> None:
    """(Re)count the month summary rows of ``batch_ids`` (``None``: every batch) from the stored incidents,
    in the summary's time zone, inside the caller's transaction."""
    timezone = summary_timezone(conn)
    keys = ", ".join(f'"{k}"' for k in MONTH_KEYS)
    where, params = "", []
    if batch_ids is not None:
        if not batch_ids:
            return
        where = f" WHERE batch_id IN ({', '.join('?' for _ in batch_ids)})"
        params = list(batch_ids)
    conn.execute(f"DELETE FROM {SUMMARY}{where}", params)
    rows = conn.execute(f"SELECT batch_id, occurred_at, {keys} FROM incidents{where}", params).fetchall()
    if not rows:
        return
    columns = ["batch_id", "occurred_at", *MONTH_KEYS]
    incidents = pd.DataFrame(rows, columns=columns, dtype=object)
    incidents[COLUMNS.occurred_at] = pd.to_datetime(incidents[COLUMNS.occurred_at], utc=True, format="ISO8601")
    for batch_id, part in incidents.groupby(COLUMNS.batch_id, sort=False):
        insert_summary(conn, batch_id, count_months(part, timezone=timezone))


def summary_timezone(conn: sqlite3.Connection) -> str:
    """The time zone the month summary counts in (fixed when the store was made)."""
    return conn.execute(f"SELECT value FROM areasafe_meta WHERE key = '{SUMMARY_TIMEZONE}'").fetchone()[0]


def insert_summary(conn: sqlite3.Connection, batch_id: str, counted: pd.DataFrame) -> None:
    """Add one batch's month counts (the shape of :func:`pipelines.store.base.count_months`) to the summary."""
    keys = ", ".join(f'"{k}"' for k in MONTH_KEYS)
    months = counted[COLUMNS.month].astype(str).where(counted[COLUMNS.month].notna(), None)
    values = zip(
        [batch_id] * len(counted),
        months,
        *(counted[k] for k in MONTH_KEYS),
        counted[COLUMNS.incidents].astype(int).tolist(),
        strict=True,
    )
    conn.executemany(
        f"INSERT INTO {SUMMARY} (batch_id, month, {keys}, incidents) VALUES (?, ?, {', '.join('?' for _ in MONTH_KEYS)}, ?)",
        values,
    )


def gpkg_core_ddl() -> list[str]:
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


def table_ddl(table: Table) -> list[str]:
    cols = ["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
    for f in table.fields:
        cols.append(
            f'"{f.name}" {SQL_TYPES[f.dtype]}{"" if f.nullable else " NOT NULL"}'
            f"{' UNIQUE' if f.unique and table.name != 'incidents' else ''}"
        )
    if table.geometry_type:
        cols.append(f'"{GEOMETRY}" {table.geometry_type}')
    statements = [f'CREATE TABLE "{table.name}" ({", ".join(cols)})']
    for i, group in enumerate(table.unique_together):
        quoted = ", ".join(f'"{c}"' for c in group)
        statements.append(f'CREATE UNIQUE INDEX "ux_{table.name}_{i}" ON "{table.name}" ({quoted})')
    statements += index_ddl(table).values()
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
        rtree = rtree_name(table.name)
        statements += [
            f"INSERT INTO gpkg_geometry_columns VALUES ('{table.name}', '{GEOMETRY}', '{table.geometry_type}', {srs}, 0, 0)",
            f"INSERT INTO gpkg_extensions VALUES ('{table.name}', '{GEOMETRY}', 'gpkg_rtree_index', "
            "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            f'CREATE VIRTUAL TABLE "{rtree}" USING rtree(id, minx, maxx, miny, maxy)',
            *rtree_triggers(table.name).values(),
        ]
    return statements


def index_ddl(table: Table) -> dict[str, str]:
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


def rtree_triggers(table: str) -> dict[str, str]:
    """The R-tree maintenance triggers from the GeoPackage spec (F.3), as GDAL writes them."""
    r, g, t = rtree_name(table), GEOMETRY, table
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

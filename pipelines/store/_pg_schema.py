"""How the tables of :mod:`pipelines.schemas` look in PostgreSQL/PostGIS.

Place in the data flow: used by the PostGIS store (column types for reading and writing) and by the
people who write migrations. The migrations themselves never call :func:`table_ddl`: a migration
holds its DDL as literal SQL so that it does not change when ``schemas.py`` changes later. To write
the next migration, print the DDL of the changed tables and paste what is new::

    python -m pipelines.store._pg_schema incidents assets

``tests/pipelines/store/test_postgis.py`` compares a migrated database with :data:`pipelines.schemas.TABLES`
(tables, columns, types, nullability, indexes), so a schema change without a migration fails a test.
"""

from __future__ import annotations

import sys

from pipelines.schemas import GEOMETRY, STORE_SRID, TABLES, Table

#: Field dtype -> PostgreSQL column type. Text is compared bytewise (``COLLATE "C"``), as SQLite
#: does in the GeoPackage store, so both backends sort and compare codes and keys the same way
#: (the border tie-break "smallest code wins" depends on it) and prefix ranges on keys use the index.
PG_TYPES = {
    "text": 'text COLLATE "C"',
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "datetime": "timestamp with time zone",
    "date": "date",
}
#: GeoPackage geometry type name -> PostGIS typmod name.
GEOMETRY_TYPES = {"POINT": "Point", "MULTIPOLYGON": "MultiPolygon", "GEOMETRY": "Geometry"}
#: Every table has a surrogate key, as the GeoPackage feature tables have: rows come back in the
#: order they were written.
ROW_ID = "fid"


def geometry_type(table: Table) -> str:
    """``geometry(Point,4326)`` and the like."""
    return f"geometry({GEOMETRY_TYPES[table.geometry_type]},{STORE_SRID})"


def unique_columns(table: Table) -> list[str]:
    """Columns with a single-column UNIQUE constraint. ``incidents.incident_id`` has none, as in the
    GeoPackage store: it is a hash of ``dedupe_key``, which is unique."""
    return [f.name for f in table.fields if f.unique and table.name != "incidents"]


def index_names(table: Table) -> dict[str, tuple[str, ...]]:
    """Name -> columns of every index the schema asks for (besides the primary and UNIQUE keys)."""
    names = {f"ux_{table.name}_{i}": tuple(group) for i, group in enumerate(table.unique_together)}
    names.update({f"ix_{table.name}_{'_'.join(group)}": tuple(group) for group in table.indexes})
    if table.geometry_type:
        names[f"gx_{table.name}_{GEOMETRY}"] = (GEOMETRY,)
    return names


def table_ddl(table: Table) -> list[str]:
    """CREATE statements for ``table`` as the schema defines it now (for writing migrations)."""
    columns = [f'"{ROW_ID}" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY']
    for f in table.fields:
        columns.append(f'"{f.name}" {PG_TYPES[f.dtype]}{"" if f.nullable else " NOT NULL"}')
    if table.geometry_type:
        columns.append(f'"{GEOMETRY}" {geometry_type(table)}')
    columns += [f'CONSTRAINT "uq_{table.name}_{c}" UNIQUE ("{c}")' for c in unique_columns(table)]
    body = ",\n    ".join(columns)
    statements = [f'CREATE TABLE "{table.name}" (\n    {body}\n)']
    description = table.description.replace("'", "''")
    statements.append(f"COMMENT ON TABLE \"{table.name}\" IS '{description}'")
    for name, group in index_names(table).items():
        quoted = ", ".join(f'"{c}"' for c in group)
        if name.startswith("ux_"):
            # NULLS NOT DISTINCT: rows that differ only by an empty org are the same key, as the
            # GeoPackage store's replace-by-key treats them.
            statements.append(f'CREATE UNIQUE INDEX "{name}" ON "{table.name}" ({quoted}) NULLS NOT DISTINCT')
        elif name.startswith("gx_"):
            statements.append(f'CREATE INDEX "{name}" ON "{table.name}" USING gist ({quoted})')
        else:
            statements.append(f'CREATE INDEX "{name}" ON "{table.name}" ({quoted})')
    if table.append_only:
        statements.append(
            f'CREATE TRIGGER "{table.name}_append_only" BEFORE UPDATE OR DELETE ON "{table.name}" '
            "FOR EACH ROW EXECUTE FUNCTION areasafe_refuse_change()"
        )
        statements.append(
            f'CREATE TRIGGER "{table.name}_no_truncate" BEFORE TRUNCATE ON "{table.name}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION areasafe_refuse_change()"
        )
    return statements


def main(argv: list[str]) -> int:
    names = argv or list(TABLES)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        print(
            f"unknown {'table' if len(unknown) == 1 else 'tables'} {', '.join(unknown)}; tables are {', '.join(TABLES)}",
            file=sys.stderr,
        )
        return 2
    for name in names:
        for statement in table_ddl(TABLES[name]):
            print(statement + ";")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

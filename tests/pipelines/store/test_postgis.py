"""What only the PostGIS store has: Alembic migrations (and the drift check against schemas.py),
the refusal to open an unmigrated database, connection errors, indexes, the derived month summary,
and the connection pool. The interface tests (both backends) are in test_store.py."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pandas as pd
import psycopg
import pytest

from pipelines.schemas import GEOMETRY, TABLES
from pipelines.store import IncidentQuery, StoreError, _pg_migrate, _pg_schema, open_store
from pipelines.store.base import Store
from tests._helpers import load_areas, write_csv

DERIVED = {"incident_months", "areasafe_settings"}  # migration 0002; not in schemas.TABLES
NOT_OURS = {"alembic_version", "spatial_ref_sys"}  # Alembic's bookkeeping, PostGIS's own table


@pytest.fixture
def empty_url(pg_cluster):
    """A database with nothing in it (not even PostGIS)."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url.rsplit("/", 1)[1])


def _catalog(url: str) -> dict:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, udt_name, is_nullable, collation_name "
            "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ).fetchall()
        has_postgis = conn.execute("SELECT to_regclass('geometry_columns') IS NOT NULL").fetchone()[0]
        geometries = (
            conn.execute("SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns").fetchall()
            if has_postgis
            else []
        )
        indexes = conn.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        indexes = indexes.fetchall()
        triggers = conn.execute(
            "SELECT event_object_table, trigger_name FROM information_schema.triggers WHERE trigger_schema = 'public'"
        ).fetchall()
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    return {"columns": columns, "geometries": geometries, "indexes": indexes, "triggers": triggers, "tables": tables}


_DATA_TYPES = {
    "text": ("text", "text"),
    "int": ("bigint", "int8"),
    "float": ("double precision", "float8"),
    "bool": ("boolean", "bool"),
    "datetime": ("timestamp with time zone", "timestamptz"),
    "date": ("date", "date"),
}


def test_migrated_database_has_exactly_the_tables_of_schemas_py(pg_url):
    """Drift check: a change to schemas.py without a migration fails here."""
    catalog = _catalog(pg_url)
    assert catalog["tables"] - NOT_OURS - DERIVED == set(TABLES)
    by_table: dict[str, list[tuple]] = {}
    for table, column, data_type, udt, nullable, collation in catalog["columns"]:
        by_table.setdefault(table, []).append((column, data_type, udt, nullable, collation))
    geometries = {(t, c): (kind, srid) for t, c, kind, srid in catalog["geometries"]}
    for name, table in TABLES.items():
        expected = [(_pg_schema.ROW_ID, "bigint", "int8", "NO", None)]
        for f in table.fields:
            data_type, udt = _DATA_TYPES[f.dtype]
            expected.append((f.name, data_type, udt, "YES" if f.nullable else "NO", "C" if f.dtype == "text" else None))
        if table.geometry_type:
            expected.append((GEOMETRY, "USER-DEFINED", "geometry", "YES", None))
            kind = _pg_schema.GEOMETRY_TYPES[table.geometry_type].upper()
            assert geometries[(name, GEOMETRY)] == (kind, 4326), name
        # Same columns with the same types, nullability and collation; a column a later revision added
        # (ALTER TABLE ... ADD COLUMN) stands after the geometry, so the order is not compared.
        assert sorted(by_table[name]) == sorted(expected), name
        assert len(by_table[name]) == len(expected), name
        indexes = {i for t, i, _ in catalog["indexes"] if t == name}
        wanted = {f"{name}_pkey", *_pg_schema.index_names(table)}
        wanted |= {f"uq_{name}_{c}" for c in _pg_schema.unique_columns(table)}
        assert indexes == wanted, name
        definitions = {i: d for t, i, d in catalog["indexes"] if t == name}
        if table.geometry_type:
            assert "USING gist" in definitions[f"gx_{name}_{GEOMETRY}"]
        triggers = {t for t, _ in catalog["triggers"] if t == name}
        assert bool(triggers) == table.append_only, name


def test_revisions_match_the_alembic_scripts():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_pg_migrate.alembic_config(None))
    history = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert tuple(history) == _pg_migrate.REVISIONS
    assert scripts.get_current_head() == _pg_migrate.HEAD_REVISION


def test_upgrade_creates_downgrade_removes_and_upgrade_again(empty_url):
    with pytest.raises(StoreError, match=r"has no AreaSafe schema yet; run `areasafe db upgrade --store"):
        open_store(empty_url)
    _pg_migrate.upgrade(empty_url)
    _pg_migrate.upgrade(empty_url)  # at head: nothing to do
    assert _catalog(empty_url)["tables"] >= set(TABLES) | DERIVED
    _pg_migrate.downgrade(empty_url, revision="base")
    assert _catalog(empty_url)["tables"] - NOT_OURS == set()
    _pg_migrate.upgrade(empty_url)
    with open_store(empty_url) as store:
        assert store.is_empty()


def test_store_behind_or_ahead_of_this_version_is_refused(empty_url):
    _pg_migrate.upgrade(empty_url, revision="0001")
    head = _pg_migrate.REVISIONS[-1]
    with pytest.raises(StoreError, match=rf"schema revision 0001; this AreaSafe needs {head}\. Back it up"):
        open_store(empty_url)
    _pg_migrate.upgrade(empty_url)
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(StoreError, match="written by a newer AreaSafe, so upgrade AreaSafe"):
        open_store(empty_url)


def test_migration_0002_backfills_the_month_summary(empty_url, tmp_path):
    """Incidents stored under revision 0001 are counted when 0002 creates the summary."""
    _pg_migrate.upgrade(empty_url)
    with open_store(empty_url) as store:
        load_areas(store, tmp_path)
        csv = write_csv(tmp_path, "m.csv", "id,date,category,lat,lon\n1,2025-03-31 23:30,Robbery,-34.05,18.55\n")
        from pipelines.ingest.incidents import ingest_incidents

        ingest_incidents(store, csv, source="community", org="A")
        expected = store.incident_months()
    _pg_migrate.downgrade(empty_url, revision="0001")
    _pg_migrate.upgrade(empty_url)
    with open_store(empty_url) as store:
        pd.testing.assert_frame_equal(store.incident_months(), expected)
        assert str(expected["month"].iloc[0]) == "2025-03"  # local time, not UTC (21:30Z)


def test_two_upgrades_at_once_both_succeed(empty_url):
    command = [sys.executable, "-m", "pipelines.cli", "db", "upgrade", "--store", empty_url]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=120) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    messages = sorted(out.strip() for out, _ in outputs)
    head = _pg_migrate.REVISIONS[-1]
    assert messages[0].endswith(f"already at schema revision {head}")
    assert messages[1].endswith(f"applied schema revisions {', '.join(_pg_migrate.REVISIONS)}; now at {head}")


@pytest.mark.parametrize(
    ("url", "match"),
    [
        pytest.param("postgresql://ann:s3cret@127.0.0.1:1/areasafe", "cannot connect to PostgreSQL", id="no-server"),
        pytest.param(
            "postgresql://ann:s3cret@127.0.0.1:1/areasafe?sslmode=bogus",
            'invalid sslmode value: "bogus"',
            id="bad-option",
        ),
    ],
)
def test_unreachable_or_invalid_urls_say_what_to_check_without_the_password(url, match):
    with pytest.raises(StoreError, match=match) as error:
        open_store(url)
    assert "s3cret" not in str(error.value) and "ann:***@" in str(error.value)


def test_database_without_postgis_rights_fails_upgrade_cleanly(pg_cluster, empty_url):
    """A role that may not create the extension gets a message naming what to do; nothing is half-made."""
    name = empty_url.rsplit("/", 1)[1]
    with pg_cluster.admin() as conn:
        conn.execute("DROP ROLE IF EXISTS clerk")
        conn.execute("CREATE ROLE clerk LOGIN")
        conn.execute(f'GRANT ALL ON DATABASE "{name}" TO clerk')
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("GRANT ALL ON SCHEMA public TO clerk")
    clerk = empty_url.replace("postgres@", "clerk@")
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "db", "upgrade", "--store", clerk],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "permission denied to create extension" in result.stderr and "changed nothing" in result.stderr
    assert _catalog(empty_url)["tables"] == set()


def test_text_cannot_hold_nul_so_it_is_dropped(pg_url):
    """PostgreSQL text refuses the NUL character (the GeoPackage keeps it): it is dropped, not refused."""
    any_store = open_store(pg_url)
    any_store.save(
        audit_log=pd.DataFrame({"at": [pd.Timestamp("2025-06-01T10:00Z")], "event": ["edit"], "detail": ["a\x00b"]})
    )
    assert any_store.read_table("audit_log")["detail"].tolist() == ["ab"]
    any_store.close()


def _bulk_incidents(store, n: int, hoods: int) -> None:
    """``n`` incidents spread over ``hoods`` neighbourhood codes and two years, written in one batch."""
    import numpy as np
    import shapely

    from pipelines.store import Batch

    rng = np.random.default_rng(1)
    when = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 730 * 24 * 60, n), unit="min")
    keys = [f"municipal|M|id:{i}" for i in range(n)]
    incidents = pd.DataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "source": "municipal",
            "org": "M",
            "batch_id": "bulk",
            "external_id": [str(i) for i in range(n)],
            "occurred_at": when,
            "category": rng.choice(["robbery_common", "murder", "burglary_residential"], n),
            "raw_category": None,
            "description": None,
            "sensitive": False,
            "precinct_code": [f"P{i % 40}" for i in range(n)],
            "neighbourhood_code": [f"N{i % hoods}" for i in range(n)],
            "raw": None,
            "dedupe_key": keys,
        }
    )
    import geopandas as gpd

    incidents = gpd.GeoDataFrame(
        incidents, geometry=shapely.points(rng.uniform(18, 19, n), rng.uniform(-34, -33, n)), crs=4326
    )
    batch = Batch(
        "bulk", "incidents", "bulk.csv", "0" * 64, pd.Timestamp.now(tz="UTC").to_pydatetime(), rows_read=n, accepted=n
    )
    store.commit(batch, incidents=incidents)
    with store._pool.connection() as conn:
        conn.execute("ANALYZE incidents")


def test_map_queries_are_answered_from_indexes(pg_url):
    """One neighbourhood's incidents over a period come from the (neighbourhood, time) index, and a
    bounding box from the GiST index: no query reads the whole table."""
    import datetime as dt

    store = open_store(pg_url)
    _bulk_incidents(store, 60_000, hoods=300)
    one = IncidentQuery(
        neighbourhood="N7",
        start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        end=dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
        categories=["murder", "robbery_common"],
    )
    plan = store.explain_incidents(one)
    assert "ix_incidents_neighbourhood_code_occurred_at" in plan and "Seq Scan" not in plan, plan
    assert len(store.read_incidents(one)) > 0
    plan = store.explain_incidents(IncidentQuery(bbox=(18.1, -33.9, 18.12, -33.88)))
    assert "gx_incidents_geometry" in plan and "Seq Scan" not in plan, plan
    months = store.incident_months()
    assert months["incidents"].sum() == 60_000 and months["neighbourhood_code"].nunique() == 300
    store.close()


def test_month_summary_in_another_time_zone_is_not_trusted(pg_url, tmp_path):
    any_area_store = open_store(pg_url)
    load_areas(any_area_store, tmp_path)
    csv = write_csv(tmp_path, "tz.csv", "id,date,category,lat,lon\n1,2025-03-31T23:30:00+02:00,Robbery,-34.05,18.55\n")
    from pipelines.ingest.incidents import ingest_incidents

    ingest_incidents(any_area_store, csv, source="community", org="A")
    with any_area_store._pool.connection() as conn:
        conn.execute("UPDATE areasafe_settings SET value = 'UTC' WHERE key = 'incident_months_timezone'")
        conn.execute("UPDATE incident_months SET incidents = 99")  # a summary in another zone is not read
    months = any_area_store.incident_months()
    assert months["incidents"].tolist() == [1] and str(months["month"].iloc[0]) == "2025-03"
    pd.testing.assert_frame_equal(months, Store.incident_months(any_area_store))
    any_area_store.close()


def test_pool_keeps_a_few_connections_whatever_the_threads(pg_url, pg_cluster):
    store = open_store(pg_url)
    errors = []

    def read():
        try:
            for _ in range(15):
                store.count("batches")
                store.read_areas()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    name = pg_url.rsplit("/", 1)[1]

    def connections() -> int:
        # A closed connection's server process leaves pg_stat_activity a moment later: poll briefly.
        with pg_cluster.admin() as conn:
            query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = 'areasafe'"
            return conn.execute(query, (name,)).fetchone()[0]

    assert _eventually(lambda: 1 <= connections() <= 4), connections()
    store.close()
    assert _eventually(lambda: connections() == 0), connections()


def _eventually(check, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True

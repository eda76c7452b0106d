"""Nothing user-supplied reaches an SQL string: every value is a bound parameter.

A proxy around the GeoPackage store's connection records the text of every statement while hostile
values (quotes, comment markers, a unique marker) pass through every write and read path; the marker
must never appear in an SQL string. Table and column names come from ``pipelines.schemas`` only, and a
name that is not in the schema is refused before any SQL is built.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines import access, audit, auth, privacy
from pipelines.ingest.incidents import commit_incidents, ingest_incidents, prepare_incidents
from pipelines.schemas import TABLES
from pipelines.store import IncidentQuery, StoreError
from tests._helpers import write_csv

MARK = "zq9MARKq9z"
EVIL = f"x'); DROP TABLE incidents; -- \" {MARK}"


class RecordingConnection:
    """Delegates to a sqlite3 connection and records every SQL text it is given."""

    def __init__(self, conn, statements: list[str]) -> None:
        self._conn, self._statements = conn, statements

    def execute(self, sql, *args):
        self._statements.append(sql)
        return self._conn.execute(sql, *args)

    def executemany(self, sql, *args):
        self._statements.append(sql)
        return self._conn.executemany(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@pytest.fixture
def recorded(area_store):
    """The store with every connection it opens (any thread, e.g. the batch writer's) recorded."""
    statements: list[str] = []
    connect = area_store._connect
    area_store.close()
    area_store._connect = lambda: RecordingConnection(connect(), statements)
    return area_store, statements


def test_hostile_values_are_always_parameters(recorded, tmp_path):
    store, statements = recorded
    csv = write_csv(
        tmp_path,
        f"{MARK}.csv",
        "id,date,category,latitude,longitude,description\n"
        f'"{EVIL}",2025-03-04,"{EVIL.replace(chr(34), chr(34) * 2)}",-34.05,18.56,"{EVIL.replace(chr(34), chr(34) * 2)}"\n',
    )
    batch = commit_incidents(store, prepare_incidents(store, csv, source="community", org=EVIL, user=EVIL))
    assert batch.accepted == 1
    admin = privacy.operator(EVIL)
    auth.add_user(store, f"u{MARK}", role="cso", org=EVIL, password=EVIL, actor=admin)
    for attempt in (EVIL, "wrong"):
        with pytest.raises(auth.AuthError):
            auth.authenticate(store, f"u{MARK}", attempt + "x")
    audit.record(store, "export", user=EVIL, target=EVIL, detail={"q": EVIL})
    store.read_incidents(
        IncidentQuery(
            neighbourhood=EVIL,
            precinct=EVIL,
            categories=[EVIL],
            sources=[EVIL],
            orgs=[EVIL],
            batch_id=EVIL,
            start=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        )
    )
    privacy.read_incidents(store, privacy.Viewer("c", "cso", EVIL), IncidentQuery(orgs=[EVIL]))
    for table in TABLES:
        store.read_table(table, where={TABLES[table].columns[0]: EVIL})
    store.existing_dedupe_keys([EVIL])
    store.save(users=store.read_table("users").assign(org=EVIL))
    access.delete_batch(store, admin, batch.batch_id, reason=EVIL)
    store.delete_batch(EVIL)
    assert statements, "the proxy saw no SQL"
    leaked = [s for s in statements if MARK in s or "DROP TABLE" in s]
    assert not leaked, leaked[:3]
    assert store.count("incidents") == 0 and store.count("areas") == 3  # nothing was dropped or lost


@pytest.mark.parametrize("name", ['incidents"; DROP TABLE areas; --', "sqlite_master", "users "])
def test_unknown_table_names_are_refused_before_any_sql(recorded, name):
    store, statements = recorded
    before = len(statements)
    for call in (
        lambda: store.read_table(name),
        lambda: store.count(name),
        lambda: store.save(**{name: pd.DataFrame()}),
    ):
        with pytest.raises(StoreError, match="unknown table"):
            call()
    assert len(statements) == before


@pytest.mark.parametrize("column", ['code" = 1 OR 1=1 --', "no_such_column"])
def test_unknown_column_names_are_refused_before_any_sql(recorded, column):
    store, statements = recorded
    before = len(statements)
    with pytest.raises(KeyError, match="has no column"):
        store.read_table("areas", where={column: "x"})
    with pytest.raises(KeyError, match="has no column"):
        store.read_incidents(IncidentQuery(columns=[column]))
    assert len(statements) == before


def test_streamed_ingest_with_a_hostile_org_binds_it_too(recorded, tmp_path):
    store, statements = recorded
    csv = write_csv(tmp_path, "o.csv", "id,date,category,latitude,longitude\n1,2025-03-04,Robbery,-34.05,18.56\n")
    batch = ingest_incidents(store, csv, source="community", org=EVIL, user=EVIL)
    assert batch.accepted == 1
    assert store.read_incidents()["org"].tolist() == [EVIL]
    # the writer thread was recorded (a staged chunk's INSERT follows the CTE that counts its rows)
    assert any('INSERT INTO "incidents"' in s for s in statements)
    assert not [s for s in statements if MARK in s]

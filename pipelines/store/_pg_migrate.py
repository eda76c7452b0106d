"""Alembic, configured in code: ``areasafe db upgrade`` and the schema check on open.

Place in the data flow: operations, before any store is opened. The migration scripts live in
``pipelines/store/migrations`` (shipped with the package); no ``alembic.ini`` is needed.

Opening a PostGIS store never migrates it: several dashboard replicas starting at once would race,
and a schema change deserves a backup and an operator. :func:`check_revision` refuses a database
that is not at :data:`HEAD_REVISION` and says to run ``areasafe db upgrade``.
"""

from __future__ import annotations

import io
from pathlib import Path

import psycopg

from pipelines.store._pg_conn import redact
from pipelines.store.base import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Every revision, oldest first; the last is what this version of AreaSafe reads and writes.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010")
HEAD_REVISION = REVISIONS[-1]


def alembic_config(url: str | None, *, output: io.TextIOBase | None = None):
    """An Alembic :class:`~alembic.config.Config` for the store at ``url`` (``None`` for ``--sql`` output)."""
    from alembic.config import Config

    config = Config(output_buffer=output) if output is not None else Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade(url: str, *, revision: str = "head") -> list[str]:
    """Run ``alembic upgrade`` on ``url``; returns the revisions applied (none when already there)."""
    from alembic import command

    config = alembic_config(url)
    command.upgrade(config, revision)
    return list(config.attributes.get("applied", []))


def upgrade_sql(*, revision: str = "head") -> str:
    """The SQL ``upgrade`` would run on an empty database, for a DBA to review or run."""
    from alembic import command

    buffer = io.StringIO()
    command.upgrade(alembic_config(None, output=buffer), revision, sql=True)
    return buffer.getvalue()


def downgrade(url: str, *, revision: str) -> None:
    """Run ``alembic downgrade`` (``base`` drops every AreaSafe table; the data goes with them)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current_revision(conn: psycopg.Connection) -> str | None:
    """The revision the database is at, ``None`` when it was never migrated."""
    if conn.execute("SELECT to_regclass('alembic_version') IS NULL").fetchone()[0]:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def check_revision(conn: psycopg.Connection, url: str) -> None:
    """Raise a :class:`StoreError` unless the database is at :data:`HEAD_REVISION`."""
    revision = current_revision(conn)
    if revision == HEAD_REVISION:
        return
    where = redact(url)
    if revision is None:
        raise StoreError(
            f"{where} has no AreaSafe schema yet; run `areasafe db upgrade --store {where}` once "
            "(as a role that may create tables and, the first time, the postgis extension), then open it again."
        )
    if revision in REVISIONS:
        raise StoreError(
            f"{where} has schema revision {revision}; this AreaSafe needs {HEAD_REVISION}. Back it up "
            f"(pg_dump), then run `areasafe db upgrade --store {where}`."
        )
    raise StoreError(
        f"{where} has schema revision {revision}, which this AreaSafe does not know (newest known: "
        f"{HEAD_REVISION}); it was written by a newer AreaSafe, so upgrade AreaSafe on this machine."
    )

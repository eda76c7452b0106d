"""Alembic environment for the PostGIS store: connects through psycopg with the store URL as given.

The URL comes from ``config.attributes["url"]`` (set by :mod:`pipelines.store._pg_migrate`), so any
libpq URL works unchanged (``?sslmode=require``, ``host=/var/run/postgresql``, a password from
``~/.pgpass`` or ``PGPASSWORD``). Every upgrade runs in one transaction (PostgreSQL DDL is
transactional) under an advisory lock, so two replicas or operators upgrading at once run one after
the other and the second finds nothing to do.
"""

from __future__ import annotations

import psycopg
from alembic import context
from sqlalchemy import create_engine, pool, text

_MIGRATION_LOCK = "areasafe:migrate"


def _offline() -> None:
    """``--sql``: print the SQL for a DBA to review or run instead of running it."""
    context.configure(dialect_name="postgresql", literal_binds=True, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


def _online(url: str) -> None:
    applied = context.config.attributes.setdefault("applied", [])

    def record(*, ctx, step, heads, run_args) -> None:
        applied.append(step.up_revision_id if step.is_upgrade else step.down_revision_ids)

    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=False, on_version_apply=record)
        with context.begin_transaction():
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": _MIGRATION_LOCK})
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    _offline()
else:
    _online(context.config.attributes["url"])

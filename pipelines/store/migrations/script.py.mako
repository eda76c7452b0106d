"""${message}

Write the DDL as literal SQL (print the current shape with ``python -m pipelines.store._pg_schema TABLE``),
never generated at run time: a revision must not change when schemas.py changes later. The patterns every
table repeats (``create_table`` with its ``fid`` key, ``comment_on_table``, ``spatial_index``,
``append_only``) are in pipelines/store/migrations/ddl.py. Bump ``pipelines.store._pg_migrate.HEAD_REVISION``
to this revision.

Revision ${up_revision} (after ${down_revision | comma,n}), ${create_date}.
"""

from pipelines.store.migrations.ddl import run

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}

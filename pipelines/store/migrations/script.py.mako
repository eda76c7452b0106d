"""${message}

Write the DDL as literal SQL (print the current shape with ``python -m pipelines.store._pg_schema TABLE``),
never generated at run time: a revision must not change when schemas.py changes later. Bump
``pipelines.store._pg_migrate.HEAD_REVISION`` to this revision.

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}

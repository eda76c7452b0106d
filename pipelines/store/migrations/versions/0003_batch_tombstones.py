"""Batch tombstones: a withdrawn batch keeps its record with when, by whom and why its rows were erased.

The access-control work (issue 5) lets an admin erase a batch (``areasafe batches delete``); the
batch record stays so the history shows what was withdrawn. The GeoPackage store gained the same
columns in its schema version 3.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("withdrawn_at", "timestamp with time zone", "When an admin deleted the batch's rows (UTC); empty while live."),
    ("withdrawn_by", 'text COLLATE "C"', "The admin who deleted them."),
    ("withdrawn_reason", 'text COLLATE "C"', "Why, e.g. the CSO withdrew consent."),
)


def upgrade() -> None:
    for name, sql_type, comment in _COLUMNS:
        op.execute(f'ALTER TABLE "batches" ADD COLUMN "{name}" {sql_type}')
        op.execute(f'COMMENT ON COLUMN "batches"."{name}" IS \'{comment.replace(chr(39), chr(39) * 2)}\'')


def downgrade() -> None:
    for name, _, _ in _COLUMNS:
        op.execute(f'ALTER TABLE "batches" DROP COLUMN IF EXISTS "{name}"')

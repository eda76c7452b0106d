"""Batch tombstones: a withdrawn batch keeps its record with when, by whom and why its rows were erased.

The access-control work (issue 5) lets an admin erase a batch (``areasafe batches delete``); the
batch record stays so the history shows what was withdrawn. The GeoPackage store gained the same
columns in its schema version 3.

Revision 0003 (after 0002), 2026-11-21.
"""

from pipelines.store.migrations.ddl import comment_on_column, run

revision = "0003"
down_revision = "0002"

_COLUMNS = (
    ("withdrawn_at", "timestamp with time zone", "When an admin deleted the batch's rows (UTC); empty while live."),
    ("withdrawn_by", 'text COLLATE "C"', "The admin who deleted them."),
    ("withdrawn_reason", 'text COLLATE "C"', "Why, e.g. the CSO withdrew consent."),
)


def upgrade() -> None:
    for name, sql_type, comment in _COLUMNS:
        run([f'ALTER TABLE "batches" ADD COLUMN "{name}" {sql_type}', comment_on_column("batches", name, comment)])


def downgrade() -> None:
    run(f'ALTER TABLE "batches" DROP COLUMN IF EXISTS "{name}"' for name, _, _ in _COLUMNS)

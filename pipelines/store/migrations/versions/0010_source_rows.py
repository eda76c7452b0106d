"""Each accepted incident's row as the file gave it, kept in compressed blocks (``source_rows``), issue 19.

Until now every incident kept its row as a JSON object in ``incidents.raw``: a third of a large batch's
bytes, and of the time to store it. New batches leave ``raw`` empty and keep the rows in blocks of up
to ``Settings.chunk_rows`` incidents (:mod:`pipelines.store.source_rows`); rows stored before keep their
``raw``, and ``Store.read_source_rows`` reads both. The GeoPackage store gained the same in its schema
version 10.

Revision 0010 (after 0009), 2026-12-07.
"""

from pipelines.store.migrations.ddl import comment_on_table, create_table, run

revision = "0010"
down_revision = "0009"

_UPGRADE = [
    create_table(
        "source_rows",
        '"batch_id" text COLLATE "C" NOT NULL',
        '"block_rows" bigint NOT NULL',
        '"block_ids" text COLLATE "C" NOT NULL',
        '"block_csv" text COLLATE "C" NOT NULL',
    ),
    comment_on_table(
        "source_rows",
        "Each accepted incident's row as the file gave it (after PII redaction), in compressed blocks "
        "(pipelines.store.source_rows).",
    ),
    'CREATE INDEX "ix_source_rows_batch_id" ON "source_rows" ("batch_id")',
]

_DOWNGRADE = ['DROP TABLE IF EXISTS "source_rows"']


def upgrade() -> None:
    run(_UPGRADE)


def downgrade() -> None:
    run(_DOWNGRADE)

"""Mapped terms, and incidents of unmapped terms made sensitive (finding 3 of issue 15: fail closed).

A raw category that the taxonomy cannot place is stored under ``other``; it is now sensitive until an
analyst or admin maps the term (``areasafe taxonomy map``), which appends a row to ``term_mappings``
(append-only: the latest row of a term is its mapping) and re-classifies the stored incidents. Rows
stored before this revision under ``other`` were not sensitive; they are made so here. The
GeoPackage store gained the same in its schema version 6.

Revision 0005 (after 0004), 2026-12-06.
"""

from pipelines.store.migrations.ddl import append_only, comment_on_table, create_table, run

revision = "0005"
down_revision = "0004"

_UPGRADE = [
    create_table(
        "term_mappings",
        '"term" text COLLATE "C" NOT NULL',
        '"raw_term" text COLLATE "C"',
        '"category" text COLLATE "C" NOT NULL',
        '"mapped_at" timestamp with time zone NOT NULL',
        '"mapped_by" text COLLATE "C"',
        '"incidents" bigint',
    ),
    comment_on_table(
        "term_mappings",
        "Raw category terms mapped to a taxonomy category by an analyst or admin, oldest first; the latest row of "
        "a term is its mapping. Append-only.",
    ),
    'CREATE INDEX "ix_term_mappings_term" ON "term_mappings" ("term")',
    *append_only("term_mappings"),
    # Fail closed: what was stored under the fallback category is sensitive until its term is mapped.
    'UPDATE "incidents" SET "sensitive" = true WHERE "category" = \'other\' AND NOT "sensitive"',
]

_DOWNGRADE = [
    'DROP TABLE IF EXISTS "term_mappings"',
    # The sensitive flags set by the upgrade stay: clearing them would publish what may be sensitive.
]


def upgrade() -> None:
    run(_UPGRADE)


def downgrade() -> None:
    run(_DOWNGRADE)

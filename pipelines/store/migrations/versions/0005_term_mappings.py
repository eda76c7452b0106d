"""Mapped terms, and incidents of unmapped terms made sensitive (finding 3 of issue 15: fail closed).

A raw category that the taxonomy cannot place is stored under ``other``; it is now sensitive until an
analyst or admin maps the term (``areasafe taxonomy map``), which appends a row to ``term_mappings``
(append-only: the latest row of a term is its mapping) and re-classifies the stored incidents. Rows
stored before this revision under ``other`` were not sensitive; they are made so here. The
GeoPackage store gained the same in its schema version 6.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UPGRADE = [
    """CREATE TABLE "term_mappings" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "term" text COLLATE "C" NOT NULL,
    "raw_term" text COLLATE "C",
    "category" text COLLATE "C" NOT NULL,
    "mapped_at" timestamp with time zone NOT NULL,
    "mapped_by" text COLLATE "C",
    "incidents" bigint
)""",
    'COMMENT ON TABLE "term_mappings" IS \'Raw category terms mapped to a taxonomy category by an analyst or '
    "admin, oldest first; the latest row of a term is its mapping. Append-only.'",
    'CREATE INDEX "ix_term_mappings_term" ON "term_mappings" ("term")',
    'CREATE TRIGGER "term_mappings_append_only" BEFORE UPDATE OR DELETE ON "term_mappings" FOR EACH ROW '
    "EXECUTE FUNCTION areasafe_refuse_change()",
    'CREATE TRIGGER "term_mappings_no_truncate" BEFORE TRUNCATE ON "term_mappings" FOR EACH STATEMENT '
    "EXECUTE FUNCTION areasafe_refuse_change()",
    # Fail closed: what was stored under the fallback category is sensitive until its term is mapped.
    'UPDATE "incidents" SET "sensitive" = true WHERE "category" = \'other\' AND NOT "sensitive"',
]

_DOWNGRADE = [
    'DROP TABLE IF EXISTS "term_mappings"',
    # The sensitive flags set by the upgrade stay: clearing them would publish what may be sensitive.
]


def upgrade() -> None:
    for statement in _UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DOWNGRADE:
        op.execute(statement)

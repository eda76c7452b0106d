"""Other names of areas (``area_aliases``) and what an import did in words (``batches.notes``), issue 16.

Police stations are renamed and merged (Grahamstown became Makhanda; Phaudi reports under Matlala),
and files spell their names differently. ``area_aliases`` keeps the names an administrator added with
``areasafe areas alias`` (append-only: the latest row of an alias wins); the shipped list is
``data/area_aliases.yaml``. ``batches.notes`` holds the sentences an import reports besides its
counts (features merged under one code, names matched through an alias). The GeoPackage store gained
both in its schema version 8.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_UPGRADE = [
    """CREATE TABLE "area_aliases" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "kind" text COLLATE "C" NOT NULL,
    "alias" text COLLATE "C" NOT NULL,
    "alias_key" text COLLATE "C" NOT NULL,
    "area" text COLLATE "C" NOT NULL,
    "change" text COLLATE "C" NOT NULL,
    "note" text COLLATE "C",
    "added_at" timestamp with time zone NOT NULL,
    "added_by" text COLLATE "C"
)""",
    'COMMENT ON TABLE "area_aliases" IS \'Other names of areas (police station renames and merges, other '
    "spellings), so a file that uses one still matches; they add to the shipped list in "
    "data/area_aliases.yaml. The latest row of an alias wins. Append-only.'",
    'CREATE INDEX "ix_area_aliases_kind_alias_key" ON "area_aliases" ("kind", "alias_key")',
    'CREATE TRIGGER "area_aliases_append_only" BEFORE UPDATE OR DELETE ON "area_aliases" FOR EACH ROW '
    "EXECUTE FUNCTION areasafe_refuse_change()",
    'CREATE TRIGGER "area_aliases_no_truncate" BEFORE TRUNCATE ON "area_aliases" FOR EACH STATEMENT '
    "EXECUTE FUNCTION areasafe_refuse_change()",
    'ALTER TABLE "batches" ADD COLUMN "notes" text COLLATE "C"',
]

_DOWNGRADE = [
    'ALTER TABLE "batches" DROP COLUMN IF EXISTS "notes"',
    'DROP TABLE IF EXISTS "area_aliases"',
]


def upgrade() -> None:
    for statement in _UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DOWNGRADE:
        op.execute(statement)

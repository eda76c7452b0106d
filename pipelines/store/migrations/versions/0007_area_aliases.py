"""Other names of areas (``area_aliases``) and what an import did in words (``batches.notes``), issue 16.

Police stations are renamed and merged (Grahamstown became Makhanda; Phaudi reports under Matlala),
and files spell their names differently. ``area_aliases`` keeps the names an administrator added with
``areasafe areas alias`` (append-only: the latest row of an alias wins); the shipped list is
``data/area_aliases.yaml``. ``batches.notes`` holds the sentences an import reports besides its
counts (features merged under one code, names matched through an alias). The GeoPackage store gained
both in its schema version 8.

Revision 0007 (after 0006), 2026-12-06.
"""

from pipelines.store.migrations.ddl import append_only, comment_on_table, create_table, run

revision = "0007"
down_revision = "0006"

_UPGRADE = [
    create_table(
        "area_aliases",
        '"kind" text COLLATE "C" NOT NULL',
        '"alias" text COLLATE "C" NOT NULL',
        '"alias_key" text COLLATE "C" NOT NULL',
        '"area" text COLLATE "C" NOT NULL',
        '"change" text COLLATE "C" NOT NULL',
        '"note" text COLLATE "C"',
        '"added_at" timestamp with time zone NOT NULL',
        '"added_by" text COLLATE "C"',
    ),
    comment_on_table(
        "area_aliases",
        "Other names of areas (police station renames and merges, other spellings), so a file that uses one still "
        "matches; they add to the shipped list in data/area_aliases.yaml. The latest row of an alias wins. "
        "Append-only.",
    ),
    'CREATE INDEX "ix_area_aliases_kind_alias_key" ON "area_aliases" ("kind", "alias_key")',
    *append_only("area_aliases"),
    'ALTER TABLE "batches" ADD COLUMN "notes" text COLLATE "C"',
]

_DOWNGRADE = [
    'ALTER TABLE "batches" DROP COLUMN IF EXISTS "notes"',
    'DROP TABLE IF EXISTS "area_aliases"',
]


def upgrade() -> None:
    run(_UPGRADE)


def downgrade() -> None:
    run(_DOWNGRADE)

"""Ward demarcations (``boundary_versions``), issue 20.

Wards became a third area kind (``areas.kind`` and ``area_counts.area_kind`` are free text, so no column
changes); ``boundary_versions`` records which demarcation each boundary file is (CCT wards 2021, 2026 ...),
when and from which file it was loaded, so every figure on wards can say which version it used. The
GeoPackage store gained it in its schema version 9.

Revision 0008 (after 0007), 2026-12-06.
"""

from pipelines.store.migrations.ddl import comment_on_table, create_table, run

revision = "0008"
down_revision = "0007"

_UPGRADE = [
    create_table(
        "boundary_versions",
        '"batch_id" text COLLATE "C" NOT NULL',
        '"kind" text COLLATE "C" NOT NULL',
        '"version" text COLLATE "C" NOT NULL',
        '"year" bigint',
        '"file_name" text COLLATE "C" NOT NULL',
        '"sha256" text COLLATE "C" NOT NULL',
        '"loaded_at" timestamp with time zone NOT NULL',
        '"loaded_by" text COLLATE "C"',
        '"areas" bigint NOT NULL',
    ),
    comment_on_table(
        "boundary_versions",
        "Which demarcation each boundary file is (CCT wards 2021, 2026 ...): one row per boundary batch, so every "
        "figure on wards can say which version it used.",
    ),
]

_DOWNGRADE = ['DROP TABLE IF EXISTS "boundary_versions"']


def upgrade() -> None:
    run(_UPGRADE)


def downgrade() -> None:
    run(_DOWNGRADE)

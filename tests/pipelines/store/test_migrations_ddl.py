"""The statements the Alembic revisions share (pipelines/store/migrations/ddl.py) spell exactly what the
revisions wrote out literally before: a revision's SQL must never change once written."""

from __future__ import annotations

from pipelines.store import _pg_migrate
from pipelines.store.migrations.ddl import append_only, comment_on_table, create_table, spatial_index

# As revision 0008 wrote it by hand.
BOUNDARY_VERSIONS = """CREATE TABLE "boundary_versions" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "batch_id" text COLLATE "C" NOT NULL,
    "kind" text COLLATE "C" NOT NULL,
    "version" text COLLATE "C" NOT NULL,
    "year" bigint,
    "file_name" text COLLATE "C" NOT NULL,
    "sha256" text COLLATE "C" NOT NULL,
    "loaded_at" timestamp with time zone NOT NULL,
    "loaded_by" text COLLATE "C",
    "areas" bigint NOT NULL
)"""


def test_create_table_puts_the_fid_key_first_as_pg_schema_prints_it():
    columns = BOUNDARY_VERSIONS.splitlines()[2:-1]
    assert create_table("boundary_versions", *(c.strip().rstrip(",") for c in columns)) == BOUNDARY_VERSIONS


def test_comments_triggers_and_spatial_index_are_spelled_as_revision_0001_wrote_them():
    assert comment_on_table("action_log", "the register's full history") == (
        "COMMENT ON TABLE \"action_log\" IS 'the register''s full history'"
    )
    assert append_only("audit_log") == [
        'CREATE TRIGGER "audit_log_append_only" BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE '
        "FUNCTION areasafe_refuse_change()",
        'CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "audit_log" FOR EACH STATEMENT EXECUTE '
        "FUNCTION areasafe_refuse_change()",
    ]
    assert spatial_index("assets") == 'CREATE INDEX "gx_assets_geometry" ON "assets" USING gist ("geometry")'


def test_the_offline_upgrade_runs_the_revisions_statements_unchanged():
    sql = _pg_migrate.upgrade_sql()
    assert BOUNDARY_VERSIONS in sql
    assert sql.count('"action_id" text COLLATE "C" NOT NULL,\n    "neighbourhood_code" text COLLATE "C" NOT NULL') == 2
    assert sql.count("FUNCTION areasafe_refuse_change()") == 1 + 2 * 4  # defined once; audit, action, terms, aliases

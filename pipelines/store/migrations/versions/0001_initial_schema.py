"""Initial schema: the thirteen tables of schemas.TABLES as of this revision.

The DDL below is literal and frozen: it was printed by ``python -m pipelines.store._pg_schema`` when
this revision was written and must never be regenerated. Later schema changes get a new revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_FUNCTIONS = [
    # Append-only tables (audit_log, action_log) refuse UPDATE, DELETE and TRUNCATE in the database.
    """CREATE FUNCTION areasafe_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only', ERRCODE = 'restrict_violation';
END
$$""",
]

_TABLES = [
    """CREATE TABLE "areas" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "code" text COLLATE "C" NOT NULL,
    "name" text COLLATE "C" NOT NULL,
    "kind" text COLLATE "C" NOT NULL,
    "municipality" text COLLATE "C",
    "population" double precision,
    "batch_id" text COLLATE "C" NOT NULL,
    "geometry" geometry(MultiPolygon,4326)
)""",
    "COMMENT ON TABLE \"areas\" IS 'Police precincts and Safe Neighbourhood polygons.'",
    'CREATE UNIQUE INDEX "ux_areas_0" ON "areas" ("kind", "code") NULLS NOT DISTINCT',
    'CREATE INDEX "gx_areas_geometry" ON "areas" USING gist ("geometry")',
    """CREATE TABLE "incidents" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "incident_id" text COLLATE "C" NOT NULL,
    "source" text COLLATE "C" NOT NULL,
    "org" text COLLATE "C",
    "batch_id" text COLLATE "C" NOT NULL,
    "external_id" text COLLATE "C",
    "occurred_at" timestamp with time zone,
    "category" text COLLATE "C" NOT NULL,
    "raw_category" text COLLATE "C",
    "description" text COLLATE "C",
    "sensitive" boolean NOT NULL,
    "precinct_code" text COLLATE "C",
    "neighbourhood_code" text COLLATE "C",
    "raw" text COLLATE "C",
    "dedupe_key" text COLLATE "C" NOT NULL,
    "geometry" geometry(Point,4326)
)""",
    "COMMENT ON TABLE \"incidents\" IS 'Point incidents from municipal systems and community surveys.'",
    'CREATE UNIQUE INDEX "ux_incidents_0" ON "incidents" ("dedupe_key") NULLS NOT DISTINCT',
    'CREATE INDEX "ix_incidents_neighbourhood_code_occurred_at" ON "incidents" ("neighbourhood_code", "occurred_at")',
    'CREATE INDEX "ix_incidents_precinct_code_occurred_at" ON "incidents" ("precinct_code", "occurred_at")',
    'CREATE INDEX "ix_incidents_batch_id" ON "incidents" ("batch_id")',
    'CREATE INDEX "gx_incidents_geometry" ON "incidents" USING gist ("geometry")',
    """CREATE TABLE "area_counts" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "area_kind" text COLLATE "C" NOT NULL,
    "area_code" text COLLATE "C" NOT NULL,
    "area_name" text COLLATE "C",
    "category" text COLLATE "C" NOT NULL,
    "raw_category" text COLLATE "C",
    "period" text COLLATE "C" NOT NULL,
    "period_start" date,
    "period_end" date,
    "count" bigint NOT NULL,
    "source" text COLLATE "C" NOT NULL,
    "org" text COLLATE "C",
    "batch_id" text COLLATE "C" NOT NULL
)""",
    "COMMENT ON TABLE \"area_counts\" IS 'Counts per area, category and period for sources that publish counts rather than points.'",
    'CREATE UNIQUE INDEX "ux_area_counts_0" ON "area_counts" ("area_kind", "area_code", "category", "raw_category", "period", "source", "org") NULLS NOT DISTINCT',
    """CREATE TABLE "assets" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "asset_id" text COLLATE "C" NOT NULL,
    "name" text COLLATE "C" NOT NULL,
    "abcd_category" text COLLATE "C" NOT NULL,
    "type" text COLLATE "C",
    "custodian" text COLLATE "C",
    "external_id" text COLLATE "C",
    "precinct_code" text COLLATE "C",
    "neighbourhood_code" text COLLATE "C",
    "batch_id" text COLLATE "C" NOT NULL,
    "geometry" geometry(Point,4326),
    CONSTRAINT "uq_assets_asset_id" UNIQUE ("asset_id")
)""",
    "COMMENT ON TABLE \"assets\" IS 'Community assets in the sense of Asset-Based Community Development.'",
    'CREATE INDEX "gx_assets_geometry" ON "assets" USING gist ("geometry")',
    """CREATE TABLE "interventions" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "intervention_id" text COLLATE "C" NOT NULL,
    "name" text COLLATE "C" NOT NULL,
    "type" text COLLATE "C",
    "lead" text COLLATE "C",
    "partners" text COLLATE "C",
    "status" text COLLATE "C" NOT NULL,
    "budget_zar" double precision,
    "financial_year" text COLLATE "C",
    "funding_sphere" text COLLATE "C",
    "start" date,
    "end" date,
    "external_id" text COLLATE "C",
    "neighbourhood_code" text COLLATE "C",
    "batch_id" text COLLATE "C" NOT NULL,
    "geometry" geometry(Geometry,4326),
    CONSTRAINT "uq_interventions_intervention_id" UNIQUE ("intervention_id")
)""",
    "COMMENT ON TABLE \"interventions\" IS 'Violence-prevention interventions (lighting, walkways, active boxes, youth programmes).'",
    'CREATE INDEX "gx_interventions_geometry" ON "interventions" USING gist ("geometry")',
    """CREATE TABLE "intervention_log" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "intervention_id" text COLLATE "C" NOT NULL,
    "status" text COLLATE "C" NOT NULL,
    "changed_at" timestamp with time zone NOT NULL,
    "note" text COLLATE "C",
    "user" text COLLATE "C",
    "batch_id" text COLLATE "C" NOT NULL
)""",
    "COMMENT ON TABLE \"intervention_log\" IS 'Dated status history of interventions, so the ACT can see progress over time.'",
    'CREATE INDEX "ix_intervention_log_intervention_id" ON "intervention_log" ("intervention_id")',
    """CREATE TABLE "batches" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "batch_id" text COLLATE "C" NOT NULL,
    "kind" text COLLATE "C" NOT NULL,
    "file_name" text COLLATE "C" NOT NULL,
    "sha256" text COLLATE "C" NOT NULL,
    "source" text COLLATE "C",
    "org" text COLLATE "C",
    "user" text COLLATE "C",
    "created_at" timestamp with time zone NOT NULL,
    "format" text COLLATE "C",
    "rows_read" bigint NOT NULL,
    "accepted" bigint NOT NULL,
    "rejected" bigint NOT NULL,
    "duplicates" bigint NOT NULL,
    "outside_areas" bigint,
    "warnings" text COLLATE "C",
    "rejections" text COLLATE "C",
    CONSTRAINT "uq_batches_batch_id" UNIQUE ("batch_id")
)""",
    "COMMENT ON TABLE \"batches\" IS 'One row per ingest: what was read, from whom, and what became of each row.'",
    """CREATE TABLE "rejections" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "batch_id" text COLLATE "C" NOT NULL,
    "row_number" bigint NOT NULL,
    "reason" text COLLATE "C" NOT NULL,
    "message" text COLLATE "C" NOT NULL,
    "org" text COLLATE "C",
    "raw" text COLLATE "C"
)""",
    "COMMENT ON TABLE \"rejections\" IS 'Rows that could not be accepted, with the original (redacted) content so they can be fixed.'",
    'CREATE INDEX "ix_rejections_batch_id" ON "rejections" ("batch_id")',
    """CREATE TABLE "users" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "username" text COLLATE "C" NOT NULL,
    "role" text COLLATE "C" NOT NULL,
    "org" text COLLATE "C",
    "password_hash" text COLLATE "C",
    "disabled" boolean NOT NULL,
    "failed_logins" bigint,
    "last_failed_at" timestamp with time zone,
    "created_at" timestamp with time zone NOT NULL,
    "updated_at" timestamp with time zone,
    CONSTRAINT "uq_users_username" UNIQUE ("username")
)""",
    "COMMENT ON TABLE \"users\" IS 'Local accounts. Passwords are stored as argon2 hashes only.'",
    """CREATE TABLE "audit_log" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "at" timestamp with time zone NOT NULL,
    "user" text COLLATE "C",
    "role" text COLLATE "C",
    "event" text COLLATE "C" NOT NULL,
    "target" text COLLATE "C",
    "detail" text COLLATE "C"
)""",
    "COMMENT ON TABLE \"audit_log\" IS 'Who logged in, uploaded, edited, exported or viewed sensitive detail, and when. Append-only.'",
    'CREATE INDEX "ix_audit_log_at" ON "audit_log" ("at")',
    'CREATE TRIGGER "audit_log_append_only" BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION areasafe_refuse_change()',
    'CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "audit_log" FOR EACH STATEMENT EXECUTE FUNCTION areasafe_refuse_change()',
    """CREATE TABLE "meetings" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "meeting_id" text COLLATE "C" NOT NULL,
    "neighbourhood_code" text COLLATE "C" NOT NULL,
    "month" text COLLATE "C" NOT NULL,
    "held_on" date,
    "chair" text COLLATE "C",
    "notes" text COLLATE "C",
    CONSTRAINT "uq_meetings_meeting_id" UNIQUE ("meeting_id")
)""",
    "COMMENT ON TABLE \"meetings\" IS 'Area Coordinating Team meetings, one per neighbourhood and month.'",
    'CREATE UNIQUE INDEX "ux_meetings_0" ON "meetings" ("neighbourhood_code", "month") NULLS NOT DISTINCT',
    """CREATE TABLE "actions" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "action_id" text COLLATE "C" NOT NULL,
    "neighbourhood_code" text COLLATE "C" NOT NULL,
    "meeting_id" text COLLATE "C",
    "decision" text COLLATE "C" NOT NULL,
    "owner_org" text COLLATE "C" NOT NULL,
    "owner_person" text COLLATE "C",
    "due" date,
    "status" text COLLATE "C" NOT NULL,
    "blocked_by" text COLLATE "C",
    "unblocker" text COLLATE "C",
    "financial_year" text COLLATE "C",
    "funding_sphere" text COLLATE "C",
    "intervention_id" text COLLATE "C",
    "hotspot_cell" text COLLATE "C",
    "asset_id" text COLLATE "C",
    "updated_at" timestamp with time zone NOT NULL,
    "updated_by" text COLLATE "C",
    CONSTRAINT "uq_actions_action_id" UNIQUE ("action_id")
)""",
    "COMMENT ON TABLE \"actions\" IS 'The ACT actions register: the current version of each action.'",
    'CREATE INDEX "ix_actions_neighbourhood_code_status" ON "actions" ("neighbourhood_code", "status")',
    """CREATE TABLE "action_log" (
    "fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "action_id" text COLLATE "C" NOT NULL,
    "neighbourhood_code" text COLLATE "C" NOT NULL,
    "meeting_id" text COLLATE "C",
    "decision" text COLLATE "C" NOT NULL,
    "owner_org" text COLLATE "C" NOT NULL,
    "owner_person" text COLLATE "C",
    "due" date,
    "status" text COLLATE "C" NOT NULL,
    "blocked_by" text COLLATE "C",
    "unblocker" text COLLATE "C",
    "financial_year" text COLLATE "C",
    "funding_sphere" text COLLATE "C",
    "intervention_id" text COLLATE "C",
    "hotspot_cell" text COLLATE "C",
    "asset_id" text COLLATE "C",
    "updated_at" timestamp with time zone NOT NULL,
    "updated_by" text COLLATE "C",
    "note" text COLLATE "C"
)""",
    "COMMENT ON TABLE \"action_log\" IS 'Every version of every action, oldest first: the register''s full history. Append-only.'",
    'CREATE INDEX "ix_action_log_action_id" ON "action_log" ("action_id")',
    'CREATE TRIGGER "action_log_append_only" BEFORE UPDATE OR DELETE ON "action_log" FOR EACH ROW EXECUTE FUNCTION areasafe_refuse_change()',
    'CREATE TRIGGER "action_log_no_truncate" BEFORE TRUNCATE ON "action_log" FOR EACH STATEMENT EXECUTE FUNCTION areasafe_refuse_change()',
]

_DROP = [
    'DROP TABLE IF EXISTS "action_log" CASCADE',
    'DROP TABLE IF EXISTS "actions" CASCADE',
    'DROP TABLE IF EXISTS "meetings" CASCADE',
    'DROP TABLE IF EXISTS "audit_log" CASCADE',
    'DROP TABLE IF EXISTS "users" CASCADE',
    'DROP TABLE IF EXISTS "rejections" CASCADE',
    'DROP TABLE IF EXISTS "batches" CASCADE',
    'DROP TABLE IF EXISTS "intervention_log" CASCADE',
    'DROP TABLE IF EXISTS "interventions" CASCADE',
    'DROP TABLE IF EXISTS "assets" CASCADE',
    'DROP TABLE IF EXISTS "area_counts" CASCADE',
    'DROP TABLE IF EXISTS "incidents" CASCADE',
    'DROP TABLE IF EXISTS "areas" CASCADE',
    "DROP FUNCTION IF EXISTS areasafe_refuse_change()",
]


def upgrade() -> None:
    # Creating the extension needs a superuser (or a DBA who ran it beforehand: then this is a no-op).
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for statement in [*_FUNCTIONS, *_TABLES]:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP:
        op.execute(statement)

"""Initial schema: the thirteen tables of schemas.TABLES as of this revision.

The DDL below is frozen: it was printed by ``python -m pipelines.store._pg_schema`` when this revision was
written and must never be regenerated. The patterns every table repeats (the ``fid`` key, a quoted
comment, the spatial index, the append-only triggers) are spelled by :mod:`pipelines.store.migrations.ddl`,
and the actions register and its log share ``_ACTION_COLUMNS``; the SQL is the same, byte for byte.
Later schema changes get a new revision.

Revision 0001, 2026-11-21.
"""

from alembic import op

from pipelines.store.migrations.ddl import append_only, comment_on_table, create_table, run, spatial_index

revision = "0001"
down_revision = None

_FUNCTIONS = [
    # Append-only tables (audit_log, action_log) refuse UPDATE, DELETE and TRUNCATE in the database.
    """CREATE FUNCTION areasafe_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only', ERRCODE = 'restrict_violation';
END
$$""",
]

#: An action's columns: the register holds each action's current version, the log every version.
_ACTION_COLUMNS = (
    '"action_id" text COLLATE "C" NOT NULL',
    '"neighbourhood_code" text COLLATE "C" NOT NULL',
    '"meeting_id" text COLLATE "C"',
    '"decision" text COLLATE "C" NOT NULL',
    '"owner_org" text COLLATE "C" NOT NULL',
    '"owner_person" text COLLATE "C"',
    '"due" date',
    '"status" text COLLATE "C" NOT NULL',
    '"blocked_by" text COLLATE "C"',
    '"unblocker" text COLLATE "C"',
    '"financial_year" text COLLATE "C"',
    '"funding_sphere" text COLLATE "C"',
    '"intervention_id" text COLLATE "C"',
    '"hotspot_cell" text COLLATE "C"',
    '"asset_id" text COLLATE "C"',
    '"updated_at" timestamp with time zone NOT NULL',
    '"updated_by" text COLLATE "C"',
)

_TABLES = [
    create_table(
        "areas",
        '"code" text COLLATE "C" NOT NULL',
        '"name" text COLLATE "C" NOT NULL',
        '"kind" text COLLATE "C" NOT NULL',
        '"municipality" text COLLATE "C"',
        '"population" double precision',
        '"batch_id" text COLLATE "C" NOT NULL',
        '"geometry" geometry(MultiPolygon,4326)',
    ),
    comment_on_table("areas", "Police precincts and Safe Neighbourhood polygons."),
    'CREATE UNIQUE INDEX "ux_areas_0" ON "areas" ("kind", "code") NULLS NOT DISTINCT',
    spatial_index("areas"),
    create_table(
        "incidents",
        '"incident_id" text COLLATE "C" NOT NULL',
        '"source" text COLLATE "C" NOT NULL',
        '"org" text COLLATE "C"',
        '"batch_id" text COLLATE "C" NOT NULL',
        '"external_id" text COLLATE "C"',
        '"occurred_at" timestamp with time zone',
        '"category" text COLLATE "C" NOT NULL',
        '"raw_category" text COLLATE "C"',
        '"description" text COLLATE "C"',
        '"sensitive" boolean NOT NULL',
        '"precinct_code" text COLLATE "C"',
        '"neighbourhood_code" text COLLATE "C"',
        '"raw" text COLLATE "C"',
        '"dedupe_key" text COLLATE "C" NOT NULL',
        '"geometry" geometry(Point,4326)',
    ),
    comment_on_table("incidents", "Point incidents from municipal systems and community surveys."),
    'CREATE UNIQUE INDEX "ux_incidents_0" ON "incidents" ("dedupe_key") NULLS NOT DISTINCT',
    'CREATE INDEX "ix_incidents_neighbourhood_code_occurred_at" ON "incidents" ("neighbourhood_code", "occurred_at")',
    'CREATE INDEX "ix_incidents_precinct_code_occurred_at" ON "incidents" ("precinct_code", "occurred_at")',
    'CREATE INDEX "ix_incidents_batch_id" ON "incidents" ("batch_id")',
    spatial_index("incidents"),
    create_table(
        "area_counts",
        '"area_kind" text COLLATE "C" NOT NULL',
        '"area_code" text COLLATE "C" NOT NULL',
        '"area_name" text COLLATE "C"',
        '"category" text COLLATE "C" NOT NULL',
        '"raw_category" text COLLATE "C"',
        '"period" text COLLATE "C" NOT NULL',
        '"period_start" date',
        '"period_end" date',
        '"count" bigint NOT NULL',
        '"source" text COLLATE "C" NOT NULL',
        '"org" text COLLATE "C"',
        '"batch_id" text COLLATE "C" NOT NULL',
    ),
    comment_on_table(
        "area_counts",
        "Counts per area, category and period for sources that publish counts rather than points.",
    ),
    'CREATE UNIQUE INDEX "ux_area_counts_0" ON "area_counts" ("area_kind", "area_code", "category", "raw_category", "period", "source", "org") NULLS NOT DISTINCT',
    create_table(
        "assets",
        '"asset_id" text COLLATE "C" NOT NULL',
        '"name" text COLLATE "C" NOT NULL',
        '"abcd_category" text COLLATE "C" NOT NULL',
        '"type" text COLLATE "C"',
        '"custodian" text COLLATE "C"',
        '"external_id" text COLLATE "C"',
        '"precinct_code" text COLLATE "C"',
        '"neighbourhood_code" text COLLATE "C"',
        '"batch_id" text COLLATE "C" NOT NULL',
        '"geometry" geometry(Point,4326)',
        'CONSTRAINT "uq_assets_asset_id" UNIQUE ("asset_id")',
    ),
    comment_on_table("assets", "Community assets in the sense of Asset-Based Community Development."),
    spatial_index("assets"),
    create_table(
        "interventions",
        '"intervention_id" text COLLATE "C" NOT NULL',
        '"name" text COLLATE "C" NOT NULL',
        '"type" text COLLATE "C"',
        '"lead" text COLLATE "C"',
        '"partners" text COLLATE "C"',
        '"status" text COLLATE "C" NOT NULL',
        '"budget_zar" double precision',
        '"financial_year" text COLLATE "C"',
        '"funding_sphere" text COLLATE "C"',
        '"start" date',
        '"end" date',
        '"external_id" text COLLATE "C"',
        '"neighbourhood_code" text COLLATE "C"',
        '"batch_id" text COLLATE "C" NOT NULL',
        '"geometry" geometry(Geometry,4326)',
        'CONSTRAINT "uq_interventions_intervention_id" UNIQUE ("intervention_id")',
    ),
    comment_on_table(
        "interventions",
        "Violence-prevention interventions (lighting, walkways, active boxes, youth programmes).",
    ),
    spatial_index("interventions"),
    create_table(
        "intervention_log",
        '"intervention_id" text COLLATE "C" NOT NULL',
        '"status" text COLLATE "C" NOT NULL',
        '"changed_at" timestamp with time zone NOT NULL',
        '"note" text COLLATE "C"',
        '"user" text COLLATE "C"',
        '"batch_id" text COLLATE "C" NOT NULL',
    ),
    comment_on_table(
        "intervention_log",
        "Dated status history of interventions, so the ACT can see progress over time.",
    ),
    'CREATE INDEX "ix_intervention_log_intervention_id" ON "intervention_log" ("intervention_id")',
    create_table(
        "batches",
        '"batch_id" text COLLATE "C" NOT NULL',
        '"kind" text COLLATE "C" NOT NULL',
        '"file_name" text COLLATE "C" NOT NULL',
        '"sha256" text COLLATE "C" NOT NULL',
        '"source" text COLLATE "C"',
        '"org" text COLLATE "C"',
        '"user" text COLLATE "C"',
        '"created_at" timestamp with time zone NOT NULL',
        '"format" text COLLATE "C"',
        '"rows_read" bigint NOT NULL',
        '"accepted" bigint NOT NULL',
        '"rejected" bigint NOT NULL',
        '"duplicates" bigint NOT NULL',
        '"outside_areas" bigint',
        '"warnings" text COLLATE "C"',
        '"rejections" text COLLATE "C"',
        'CONSTRAINT "uq_batches_batch_id" UNIQUE ("batch_id")',
    ),
    comment_on_table("batches", "One row per ingest: what was read, from whom, and what became of each row."),
    create_table(
        "rejections",
        '"batch_id" text COLLATE "C" NOT NULL',
        '"row_number" bigint NOT NULL',
        '"reason" text COLLATE "C" NOT NULL',
        '"message" text COLLATE "C" NOT NULL',
        '"org" text COLLATE "C"',
        '"raw" text COLLATE "C"',
    ),
    comment_on_table(
        "rejections",
        "Rows that could not be accepted, with the original (redacted) content so they can be fixed.",
    ),
    'CREATE INDEX "ix_rejections_batch_id" ON "rejections" ("batch_id")',
    create_table(
        "users",
        '"username" text COLLATE "C" NOT NULL',
        '"role" text COLLATE "C" NOT NULL',
        '"org" text COLLATE "C"',
        '"password_hash" text COLLATE "C"',
        '"disabled" boolean NOT NULL',
        '"failed_logins" bigint',
        '"last_failed_at" timestamp with time zone',
        '"created_at" timestamp with time zone NOT NULL',
        '"updated_at" timestamp with time zone',
        'CONSTRAINT "uq_users_username" UNIQUE ("username")',
    ),
    comment_on_table("users", "Local accounts. Passwords are stored as argon2 hashes only."),
    create_table(
        "audit_log",
        '"at" timestamp with time zone NOT NULL',
        '"user" text COLLATE "C"',
        '"role" text COLLATE "C"',
        '"event" text COLLATE "C" NOT NULL',
        '"target" text COLLATE "C"',
        '"detail" text COLLATE "C"',
    ),
    comment_on_table(
        "audit_log",
        "Who logged in, uploaded, edited, exported or viewed sensitive detail, and when. Append-only.",
    ),
    'CREATE INDEX "ix_audit_log_at" ON "audit_log" ("at")',
    *append_only("audit_log"),
    create_table(
        "meetings",
        '"meeting_id" text COLLATE "C" NOT NULL',
        '"neighbourhood_code" text COLLATE "C" NOT NULL',
        '"month" text COLLATE "C" NOT NULL',
        '"held_on" date',
        '"chair" text COLLATE "C"',
        '"notes" text COLLATE "C"',
        'CONSTRAINT "uq_meetings_meeting_id" UNIQUE ("meeting_id")',
    ),
    comment_on_table("meetings", "Area Coordinating Team meetings, one per neighbourhood and month."),
    'CREATE UNIQUE INDEX "ux_meetings_0" ON "meetings" ("neighbourhood_code", "month") NULLS NOT DISTINCT',
    create_table("actions", *_ACTION_COLUMNS, 'CONSTRAINT "uq_actions_action_id" UNIQUE ("action_id")'),
    comment_on_table("actions", "The ACT actions register: the current version of each action."),
    'CREATE INDEX "ix_actions_neighbourhood_code_status" ON "actions" ("neighbourhood_code", "status")',
    create_table("action_log", *_ACTION_COLUMNS, '"note" text COLLATE "C"'),
    comment_on_table(
        "action_log",
        "Every version of every action, oldest first: the register's full history. Append-only.",
    ),
    'CREATE INDEX "ix_action_log_action_id" ON "action_log" ("action_id")',
    *append_only("action_log"),
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
    run([*_FUNCTIONS, *_TABLES])


def downgrade() -> None:
    run(_DROP)

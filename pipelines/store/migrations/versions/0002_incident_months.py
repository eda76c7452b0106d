"""Incident counts per local month, Safe Neighbourhood, category, source and org: what the dashboard's
filters and overviews read instead of scanning millions of incidents.

A derived table, not one of schemas.TABLES: the store keeps it in step inside every batch
transaction (``PostGISStore._finish`` adds a batch's counts, ``delete_batch`` subtracts them). The
months are local months in the time zone recorded in ``areasafe_settings``; when
``Settings.local_timezone`` differs from it the store computes months from the incidents instead.

Revision 0002 (after 0001), 2026-11-21.
"""

from pipelines.store.migrations.ddl import run

revision = "0002"
down_revision = "0001"

_UPGRADE = [
    """CREATE TABLE "areasafe_settings" (
    "key" text COLLATE "C" PRIMARY KEY,
    "value" text COLLATE "C" NOT NULL
)""",
    "COMMENT ON TABLE \"areasafe_settings\" IS 'Settings the stored data depends on (the time zone of incident_months).'",
    "INSERT INTO \"areasafe_settings\" VALUES ('incident_months_timezone', 'Africa/Johannesburg')",
    """CREATE TABLE "incident_months" (
    "neighbourhood_code" text COLLATE "C",
    "month" date,
    "category" text COLLATE "C" NOT NULL,
    "source" text COLLATE "C" NOT NULL,
    "org" text COLLATE "C",
    "incidents" bigint NOT NULL,
    CONSTRAINT "incident_months_key" UNIQUE NULLS NOT DISTINCT
        ("neighbourhood_code", "month", "category", "source", "org")
)""",
    "COMMENT ON TABLE \"incident_months\" IS 'Derived: incidents per local month, neighbourhood, category, source and org.'",
    """INSERT INTO "incident_months"
SELECT "neighbourhood_code",
       date_trunc('month', "occurred_at" AT TIME ZONE 'Africa/Johannesburg')::date,
       "category", "source", "org", count(*)
FROM "incidents"
GROUP BY 1, 2, 3, 4, 5""",
]

_DOWNGRADE = ['DROP TABLE IF EXISTS "incident_months"', 'DROP TABLE IF EXISTS "areasafe_settings"']


def upgrade() -> None:
    run(_UPGRADE)


def downgrade() -> None:
    run(_DOWNGRADE)

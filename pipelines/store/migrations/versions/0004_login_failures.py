"""Login throttling for names without an account, and the salt that keys them.

Failed logins for a name that has no account are counted as on an account (finding 9b of issue 15:
throttling must not reveal which usernames exist), in ``login_failures`` keyed by an HMAC of the
typed name with a random salt kept in ``areasafe_settings`` (``login_salt``), so the table never holds
what was typed. The GeoPackage store gained the same in its schema version 5.

Revision 0004 (after 0003), 2026-11-22.
"""

from pipelines.store.migrations.ddl import comment_on_table, create_table, run

revision = "0004"
down_revision = "0003"

_UPGRADE = [
    create_table(
        "login_failures",
        '"name_key" text COLLATE "C" NOT NULL',
        '"failed_logins" bigint',
        '"last_failed_at" timestamp with time zone',
        'CONSTRAINT "uq_login_failures_name_key" UNIQUE ("name_key")',
    ),
    comment_on_table(
        "login_failures",
        "Failed logins for names that have no account, counted as on an account (throttling); keyed by a salted "
        "hash of the typed name, never the text.",
    ),
    # gen_random_uuid() draws from the server's strong random source (PostgreSQL 13+): 244 random bits.
    "INSERT INTO \"areasafe_settings\" VALUES ('login_salt', "
    "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')) ON CONFLICT DO NOTHING",
]

_DOWNGRADE = [
    'DROP TABLE IF EXISTS "login_failures"',
    "DELETE FROM \"areasafe_settings\" WHERE key = 'login_salt'",
]


def upgrade() -> None:
    run(_UPGRADE)


def downgrade() -> None:
    run(_DOWNGRADE)

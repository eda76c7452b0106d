"""Dashboard sessions that survive a reload (``sessions``), issue 18.

A logged-in session is kept in the store, so a reload (F5) or another replica finds it again through
the browser's HttpOnly cookie; logging out, disabling the account or changing its role deletes it.
The table holds SHA-256 hashes of the cookie's token and of the one-time login ticket, never either
value. The GeoPackage store gained the same in its schema version 9.

Revision 0009 (after 0008), 2026-12-06.
"""

from pipelines.store.migrations.ddl import comment_on_table, create_table, run

revision = "0009"
down_revision = "0008"

_UPGRADE = [
    create_table(
        "sessions",
        '"session_id" text COLLATE "C" NOT NULL',
        '"token_hash" text COLLATE "C"',
        '"ticket_hash" text COLLATE "C"',
        '"ticket_expires_at" timestamp with time zone',
        '"username" text COLLATE "C" NOT NULL',
        '"role" text COLLATE "C" NOT NULL',
        '"org" text COLLATE "C"',
        '"via" text COLLATE "C" NOT NULL',
        '"created_at" timestamp with time zone NOT NULL',
        '"last_seen_at" timestamp with time zone NOT NULL',
        'CONSTRAINT "uq_sessions_session_id" UNIQUE ("session_id")',
        'CONSTRAINT "uq_sessions_token_hash" UNIQUE ("token_hash")',
        'CONSTRAINT "uq_sessions_ticket_hash" UNIQUE ("ticket_hash")',
    ),
    comment_on_table(
        "sessions",
        "Logged-in dashboard sessions (pipelines.auth). The browser holds the session token in an HttpOnly "
        "cookie; the store holds only its SHA-256 hash, and of the one-time login ticket likewise.",
    ),
    'CREATE INDEX "ix_sessions_username" ON "sessions" ("username")',
]

_DOWNGRADE = ['DROP TABLE IF EXISTS "sessions"']


def upgrade() -> None:
    run(_UPGRADE)


def downgrade() -> None:
    run(_DOWNGRADE)

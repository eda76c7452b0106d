"""People's assets by consent: ``assets.sharing_consent`` (finding 5 of issue 15).

An ABCD asset of the category ``individuals`` is a person. The public never sees one; a logged-in
role sees it only where the person's recorded consent covers that role (``none``, ``act`` or
``partners``; see ``pipelines.privacy.public``). Rows stored before this revision have no consent
recorded, which counts as ``none``. The GeoPackage store gained the column in its schema version 7.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COMMENT = (
    "For a person's asset (ABCD individuals): who the person agreed may see it: none (admins only), act "
    "(officials: ACT members, planners, analysts) or partners (also CSOs). Empty counts as none; never public."
)


def upgrade() -> None:
    op.execute('ALTER TABLE "assets" ADD COLUMN "sharing_consent" text COLLATE "C"')
    op.execute(f'COMMENT ON COLUMN "assets"."sharing_consent" IS \'{_COMMENT.replace(chr(39), chr(39) * 2)}\'')


def downgrade() -> None:
    op.execute('ALTER TABLE "assets" DROP COLUMN IF EXISTS "sharing_consent"')

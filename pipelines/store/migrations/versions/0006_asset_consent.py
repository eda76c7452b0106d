"""People's assets by consent: ``assets.sharing_consent`` (finding 5 of issue 15).

An ABCD asset of the category ``individuals`` is a person. The public never sees one; a logged-in
role sees it only where the person's recorded consent covers that role (``none``, ``act`` or
``partners``; see ``pipelines.privacy.public``). Rows stored before this revision have no consent
recorded, which counts as ``none``. The GeoPackage store gained the column in its schema version 7.

Revision 0006 (after 0005), 2026-12-06.
"""

from pipelines.store.migrations.ddl import comment_on_column, run

revision = "0006"
down_revision = "0005"

_COMMENT = (
    "For a person's asset (ABCD individuals): who the person agreed may see it: none (admins only), act "
    "(officials: ACT members, planners, analysts) or partners (also CSOs). Empty counts as none; never public."
)


def upgrade() -> None:
    run(
        [
            'ALTER TABLE "assets" ADD COLUMN "sharing_consent" text COLLATE "C"',
            comment_on_column("assets", "sharing_consent", _COMMENT),
        ]
    )


def downgrade() -> None:
    run(['ALTER TABLE "assets" DROP COLUMN IF EXISTS "sharing_consent"'])

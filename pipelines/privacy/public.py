"""The public-release rules for documents (the public meeting pack) and the rules for people's assets.

Place in the data flow: inside the disclosure core (:mod:`pipelines.privacy`). The agenda and the pack
call these functions when ``public=True``; the map, profile, registers and exports call
:func:`visible_assets`. Nothing else decides what the public may see of a document or an asset.

Rules:

1. **Aggregated cells only.** Incidents appear only as counts per H3 cell, per category or per month:
   never as points, coordinates or single records.
2. **Small numbers are suppressed** (:mod:`pipelines.privacy.suppress`). An incident count from 1 to 4
   (``Settings.min_published_count`` - 1) is shown as ``<5``, so a single event cannot be singled out; 0 is
   shown as 0. Statistics derived from counts (a baseline mean, a change) are suppressed with them, and a
   table whose rows add up to a shown total is suppressed against it.
3. **No free text about incidents.** Descriptions, reporters' organisations and the raw input are dropped;
   community reports become counts per category.
4. **No sensitive detail.** Categories flagged sensitive in the taxonomy (sexual offences, domestic
   violence, child abuse, ...) are merged into one row, :data:`SENSITIVE_LABEL`, before counting.
5. **No people.** Person names and free-text notes are dropped from actions (``owner_person``,
   ``blocked_by``, ``unblocker``, ``updated_by``), meetings (``chair``, ``notes``) and the intervention status
   log (``note``, ``user``); organisations, decisions, dates and statuses stay, because accountability is
   the point of a public pack.
6. **People's assets by consent.** An ABCD asset of the category ``individuals`` is a person (a retired
   nurse, a volunteer). The public never sees one, on any surface. A logged-in role sees it only where
   the person's recorded consent (``assets.sharing_consent``) covers that role (:data:`CONSENT_ROLES`);
   no consent recorded means only admins, who keep the register, see it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

import pandas as pd

from pipelines.privacy.suppress import published_order, suppress_counts
from pipelines.privacy.viewer import Viewer
from pipelines.schemas import ASSET_CONSENT, COLUMNS

#: A meeting context (:class:`pipelines.act.agenda.MeetingContext`): not imported, since the agenda reads
#: through this package and the privacy rules stand below everything that uses them.
MeetingContext = TypeVar("MeetingContext")

SENSITIVE_LABEL = "Sensitive categories (combined)"
SENSITIVE_CODE = "sensitive_combined"
PERSONAL_ASSETS = "individuals"  # the ABCD category whose assets are people
#: Columns withheld from sensitive rows below ``analyst`` (free text, the category as the reporter wrote it,
#: and links back to the source record).
WITHHELD_COLUMNS = (COLUMNS.description, COLUMNS.raw, COLUMNS.raw_category, COLUMNS.external_id)
#: Columns blanked in the public variant, per table.
PERSONAL_COLUMNS = {
    "actions": ("owner_person", "blocked_by", "unblocker", "updated_by"),
    "meetings": ("chair", "notes"),
    "intervention_log": ("note", "user"),
    "incidents": (*WITHHELD_COLUMNS, "org"),  # a sensitive row's withheld text, for every row, and who reported
}
#: ``assets.sharing_consent`` -> the roles that may see that person's asset (admins always do).
CONSENT_ROLES: dict[str, tuple[str, ...]] = {
    "none": ("admin",),
    "act": ("admin", "analyst", "planner", "act_member"),
    "partners": ("admin", "analyst", "planner", "act_member", "cso"),
}
CONSENT_COLUMN = "sharing_consent"
assert tuple(CONSENT_ROLES) == ASSET_CONSENT, "one rule per recorded consent"


def public_context(context: MeetingContext) -> MeetingContext:
    """The meeting context with rules 3-5 applied to its frames (rules 1-2 apply when formatting)."""
    incidents = context.incidents.copy()
    sensitive = incidents[COLUMNS.sensitive].fillna(False).astype(bool)
    incidents[COLUMNS.category] = incidents[COLUMNS.category].where(~sensitive, SENSITIVE_CODE)
    incidents = _blank(incidents, "incidents")
    return replace(
        context,
        incidents=incidents,
        actions=_blank(context.actions, "actions"),
        assets=visible_assets(context.assets, Viewer()),
        meetings=_blank(context.meetings, "meetings"),
        intervention_log=_blank(context.intervention_log, "intervention_log"),
    )


def report_counts(reports: pd.DataFrame) -> pd.DataFrame:
    """Community reports as counts per category (rule 3), suppressed (rule 2), largest shown first (the
    suppressed ones after them by name: an order by the true counts would rank the hidden ones)."""
    if not len(reports):
        return pd.DataFrame(columns=[COLUMNS.category, "reports"])
    table = reports.groupby(COLUMNS.category).size().rename("reports").reset_index()
    return published_order(suppress_counts(table, ["reports"]), "reports", "category").reset_index(drop=True)


def _blank(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    columns = [c for c in PERSONAL_COLUMNS[table] if c in frame.columns]
    return frame.assign(**dict.fromkeys(columns)) if columns else frame


def visible_assets(assets: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """The assets ``viewer`` may see: every asset but people's (ABCD ``individuals``), which only the roles
    their recorded consent names may see (rule 6), and the public never."""
    if not len(assets) or COLUMNS.abcd_category not in assets:
        return assets
    person = assets[COLUMNS.abcd_category].astype(str).eq(PERSONAL_ASSETS).to_numpy()
    if not person.any():
        return assets
    consent = assets[CONSENT_COLUMN] if CONSENT_COLUMN in assets else pd.Series(None, index=assets.index)
    allowed = consent.map(lambda c: viewer.role is not None and viewer.role in CONSENT_ROLES.get(c, ("admin",)))
    keep = ~person | allowed.to_numpy(dtype=bool)
    return assets[keep].reset_index(drop=True)

"""The public-release rules for ACT outputs (the public meeting pack), stated once and applied here.

Place in the data flow: show. The agenda and the pack call these functions when ``public=True``; nothing
else decides what the public may see. The general role rules (logins, roles) live in the access-control
module; these are the rules of a document released to anyone, and that module can route its "public"
role through :func:`public_context` and :func:`format_count`.

Rules:

1. **Aggregated cells only.** Incidents appear only as counts per H3 cell, per category or per month:
   never as points, coordinates or single records.
2. **Small numbers are suppressed.** An incident count from 1 to :data:`MIN_COUNT` - 1 (1-4 with the
   default ``Settings.min_published_count``) is shown as ``<5``, so a single event cannot be singled out; 0 is shown as 0. Statistics derived from counts (a
   baseline mean, a change) are suppressed with them.
3. **No free text about incidents.** Descriptions, reporters' organisations and the raw input are dropped;
   community reports become counts per category.
4. **No sensitive detail.** Categories flagged sensitive in the taxonomy (sexual offences, domestic
   violence, child abuse, ...) are merged into one row, :data:`SENSITIVE_LABEL`, before counting.
5. **No people.** Person names and free-text notes are dropped from actions (``owner_person``,
   ``blocked_by``, ``unblocker``, ``updated_by``), meetings (``chair``, ``notes``) and the intervention status
   log (``note``, ``user``), and assets of the ABCD category ``individuals`` (a volunteer is a person) are
   left off; organisations, decisions, dates and statuses stay, because accountability is the point of a
   public pack.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipelines.settings import SETTINGS

if TYPE_CHECKING:
    from pipelines.act.agenda import MeetingContext

#: The one small-count threshold, shared with the dashboard's published counts (``pipelines.generalise``).
MIN_COUNT = SETTINGS.min_published_count
SUPPRESSED = f"<{MIN_COUNT}"
SENSITIVE_LABEL = "Sensitive categories (combined)"
SENSITIVE_CODE = "sensitive_combined"
PERSONAL_ASSETS = "individuals"  # the ABCD category whose assets are people
#: Columns blanked in the public variant, per table.
PERSONAL_COLUMNS = {
    "actions": ("owner_person", "blocked_by", "unblocker", "updated_by"),
    "meetings": ("chair", "notes"),
    "intervention_log": ("note", "user"),
    "incidents": ("description", "org", "raw", "external_id"),
}


def format_count(value: object, *, public: bool) -> str:
    """An incident count for display: ``<5`` for 1-4 when ``public``; missing values as an empty string."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    number = float(value)
    if public and 0 < number < MIN_COUNT:
        return SUPPRESSED
    return f"{number:,.1f}".removesuffix(".0") if number != int(number) else f"{int(number):,}"


def suppress_counts(
    table: pd.DataFrame, columns: list[str] | tuple[str, ...], *, derived: list[str] | tuple[str, ...] = ()
) -> pd.DataFrame:
    """``table`` with the incident-count ``columns`` as text and 1-4 shown as ``<5``.

    A row with any suppressed count also has its ``derived`` columns and its other numeric columns (a
    mean, a change, a p-value) blanked, since they would let the hidden count be worked out.
    """
    out = table.copy()
    hidden = np.zeros(len(out), dtype=bool)
    for column in columns:
        values = pd.to_numeric(out[column], errors="coerce")
        hidden |= ((values > 0) & (values < MIN_COUNT)).fillna(False).to_numpy()
        out[column] = [format_count(v, public=True) for v in values]
    for column in out.columns:
        if column in derived or (column not in columns and pd.api.types.is_numeric_dtype(table[column])):
            out[column] = out[column].astype(object).where(~hidden, "")
    return out


def public_context(context: MeetingContext) -> MeetingContext:
    """The meeting context with rules 3-5 applied to its frames (rules 1-2 apply when formatting)."""
    incidents = context.incidents.copy()
    sensitive = incidents["sensitive"].fillna(False).astype(bool)
    incidents["category"] = incidents["category"].where(~sensitive, SENSITIVE_CODE)
    incidents = _blank(incidents, "incidents")
    return replace(
        context,
        incidents=incidents,
        actions=_blank(context.actions, "actions"),
        assets=context.assets[context.assets["abcd_category"] != PERSONAL_ASSETS].reset_index(drop=True),
        meetings=_blank(context.meetings, "meetings"),
        intervention_log=_blank(context.intervention_log, "intervention_log"),
    )


def report_counts(reports: pd.DataFrame) -> pd.DataFrame:
    """Community reports as counts per category (rule 3), suppressed (rule 2), largest first."""
    if not len(reports):
        return pd.DataFrame(columns=["category", "reports"])
    table = reports.groupby("category").size().rename("reports").sort_values(ascending=False).reset_index()
    return suppress_counts(table, ["reports"])


def _blank(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    columns = [c for c in PERSONAL_COLUMNS[table] if c in frame.columns]
    return frame.assign(**dict.fromkeys(columns)) if columns else frame

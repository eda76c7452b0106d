"""Agenda item 5: community reports since the last meeting.

Place in the data flow: analyse. :func:`community_reports` is pure; :func:`reports_item` puts the reports in
words, and the public agenda counts them by category instead of listing their text.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipelines import hexes
from pipelines.act.agenda.context import AgendaItem, MeetingContext
from pipelines.act.agenda.wording import Counts, category_names
from pipelines.periods import local_days, to_local
from pipelines.plural import counted
from pipelines.privacy import public as rules
from pipelines.schemas import COLUMNS

REPORT_COLUMNS = ("date", "category", "org", "in_hotspot", "description", "sensitive")


def community_reports(
    incidents: pd.DataFrame,
    *,
    since: dt.date,
    as_of: dt.date,
    hotspot_cells: dict[str, str] | None = None,
    resolution: int = 10,
) -> pd.DataFrame:
    """Community reports dated after ``since`` up to ``as_of`` (local days), newest first.

    ``in_hotspot`` names the hot spot (H1...) whose cells contain the report, given ``hotspot_cells``
    (cell id -> label) at ``resolution``.
    """
    if not len(incidents):
        return pd.DataFrame(columns=list(REPORT_COLUMNS))
    day = local_days(incidents[COLUMNS.occurred_at])
    rows = incidents[(incidents[COLUMNS.source] == "community") & (day > since) & (day <= as_of)]
    rows = rows.sort_values(COLUMNS.occurred_at, ascending=False)
    labels = category_names()
    where = [""] * len(rows)
    if hotspot_cells:
        points = rows.geometry.to_numpy()
        placed = ~(shapely.is_missing(points) | shapely.is_empty(points))
        cells = hexes.point_cells(shapely.get_x(points[placed]), shapely.get_y(points[placed]), resolution)
        where = np.full(len(rows), "", dtype=object)
        where[placed] = [hotspot_cells.get(cell, "") for cell in cells]
        where = where.tolist()
    return pd.DataFrame(
        {
            "date": to_local(rows[COLUMNS.occurred_at]).dt.strftime("%Y-%m-%d").to_numpy(),
            COLUMNS.category: rows[COLUMNS.category].map(labels).fillna(rows[COLUMNS.category]).to_numpy(),
            COLUMNS.org: rows[COLUMNS.org].to_numpy(),
            "in_hotspot": where,
            COLUMNS.description: rows[COLUMNS.description].to_numpy(),
            COLUMNS.sensitive: rows[COLUMNS.sensitive].astype(bool).to_numpy(),
        }
    )


def reports_item(context: MeetingContext, groups: gpd.GeoDataFrame, fmt: Counts) -> AgendaItem:
    """Item 5: :func:`community_reports` since the last meeting, each placed in the hot spot of ``groups``
    it falls in, with a summary (how many, how many in hot spots, the commonest categories)."""
    cells = {c: label for label, group in zip(groups["label"], groups["cells"], strict=True) for c in group}
    table = community_reports(
        context.incidents,
        since=context.since,
        as_of=context.as_of,
        hotspot_cells=cells,
        resolution=int(context.hotspots.grid.spec.resolution),
    )
    previous = context.previous_meeting
    after = f"the meeting of {context.since:%d %b %Y}" if previous is not None else f"1 {context.month:%b %Y}"
    summary = f"{counted(fmt(len(table)), 'community report')} since {after}"
    in_hot = table["in_hotspot"] != ""
    summary += f", {fmt(int(in_hot.sum()))} inside the hot spots above." if in_hot.any() else "."
    if len(table):
        top = table[COLUMNS.category].value_counts().head(3)
        summary += " Most often: " + ", ".join(f"{c} ({fmt(n)})" for c, n in top.items()) + "."
    caveats = ()
    if fmt.public:
        table = rules.report_counts(table)
        caveats = ("Public pack: reports are counted by category; their text is not published.",)
    return AgendaItem("reports", "reports", "Community reports since last meeting", summary, table, caveats)

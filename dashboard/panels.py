"""Parts of pages, drawn: what two or more pages share, and the profile's long drawing sequences.

Place in the data flow: show. Each function draws what a pipelines call returned (or makes that call through
``dashboard.common``'s cached loaders) and computes nothing: the tables come ready from :mod:`pipelines.views`.
The map, the ACT review and the ward page draw their own parts in ``dashboard/map_panels.py``,
``dashboard/review_panels.py`` and ``dashboard/ward_panels.py``.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import common, loaders
from pipelines import mapview, periods, privacy, views
from pipelines.schemas import COLUMNS

RATE_HELP = "Smoothed: a neighbourhood with few residents is pulled towards the rate of all neighbourhoods. "


# --------------------------------------------------------------------------------------------------
# Shared by the map, the profile and the ACT review
# --------------------------------------------------------------------------------------------------
def period_hotspots(filters: loaders.Filters) -> loaders.HotspotCells:
    """The chosen neighbourhood's hot spots over the sidebar's months (the last 12 when none are stored)."""
    months = filters.months
    span = dict(months=periods.month_span(*months), until=months[1]) if months else {}
    return loaders.hotspots(filters.neighbourhood, **span, include_partial=filters.include_partial)


def rate_metric(rate: str, *, where=None, **metric) -> None:
    """The neighbourhood's smoothed rate per 1,000 residents, with where its residents come from."""
    (where or st).metric(
        "Per 1,000 residents", rate, help=RATE_HELP + loaders.population_source("neighbourhood"), **metric
    )


def hotspot_statistics(hot: loaders.HotspotCells, viewer: privacy.Viewer, *, n: int = 10, where=None) -> None:
    """For a viewer who may read statistics: each hot hexagon's figures, one click away."""
    if viewer.may("statistics"):
        with (where or st).expander("How we know: each hexagon's statistics"):
            st.caption(mapview.hotspot_caption(hot.months, hot.resolution, statistics=True))
            st.dataframe(views.top_hotspots(hot.cells, n=n, statistics=True), hide_index=True, width="stretch")


def projector_table(frame, *, key: str, height: int | str = "content") -> None:
    """A static table for the projector, in a container of ``key``: the columns of one short word each
    (dates, numbers, statuses: :func:`pipelines.views.unbroken_positions`) stay on one line; the others
    wrap at their spaces."""
    with st.container(key=key):
        if positions := views.unbroken_positions(frame):
            # the cell and the text inside it (Streamlit's markdown sets its own wrapping)
            cells = ", ".join(
                f".st-key-{key} tbody tr > :nth-child({p}) {inner}" for p in positions for inner in ("", "*")
            )
            st.html(f"<style>{cells} {{white-space: nowrap !important;}}</style>")
        st.table(frame, height=height, hide_index=not views.has_row_names(frame))


def register_table(frame, *, where=None) -> None:
    """Assets or interventions, as :func:`pipelines.views.register_rows` words them."""
    (where or st).dataframe(frame, hide_index=True, width="stretch")


# --------------------------------------------------------------------------------------------------
# The Safe Neighbourhood profile
# --------------------------------------------------------------------------------------------------
def profile_numbers(stats: privacy.ProfileStats, *, month, population: float | None) -> None:
    """The month's four numbers, what the change and the rate mean, and the trend by category."""
    cols = st.columns(4)
    cols[0].metric(f"Incidents in {periods.month_words(month)}", stats.incidents, **common.change_delta(stats.change))
    rate_metric(stats.rate_per_1000, where=cols[1])
    cols[2].metric("Community share of reports", stats.community_share)
    cols[3].metric("Residents", "n/a" if population is None else f"{population:,.0f}")
    meaning = st.columns(2)
    if term := common.change_term(stats.change):
        common.explain(term, where=meaning[0])
    common.explain("Smoothed rate (per 1,000 residents)", where=meaning[1])
    if stats.suppressed:
        st.caption(
            "Counts below 5 are shown as <5 and left out of the chart; rates and changes that would reveal them are "
            "withheld."
        )
    st.plotly_chart(
        px.line(
            stats.trend, x=COLUMNS.month, y=COLUMNS.count, color=COLUMNS.category, markers=True,
            hover_data={"shown": True, "count": False}, title="Incidents per month by category",
            labels={COLUMNS.month: "Month", COLUMNS.count: "Incidents", COLUMNS.category: "Category", "shown": "Incidents"},
        ),
        width="stretch",
    )  # fmt: skip


def profile_hotspots(
    hot: loaders.HotspotCells, stats: privacy.ProfileStats, *, filters: loaders.Filters, viewer: privacy.Viewer, where
) -> None:
    """The neighbourhood's hot spots over the period, in the map's classes."""
    where.subheader("Hot spots this period")
    common.explain("Hot spot", where=where)
    if filters.hotspot_note:
        where.info(filters.hotspot_note)
    for message in hot.messages:
        where.caption(message)
    if stats.unmapped:
        where.caption(stats.unmapped)
    where.caption("Small hexagons compared with those around them; the same classes as the map.")
    where.table(views.first_column_as_index(views.hotspot_summary(hot.cells)))  # a table: the meanings wrap
    hotspot_statistics(hot, viewer, where=where)

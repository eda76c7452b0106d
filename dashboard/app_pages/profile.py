"""Safe Neighbourhood profile: KPIs, monthly trend, hotspots, assets and interventions.

Every number comes from ``pipelines.privacy.profile_stats`` / ``published_hotspots``: the public and CSOs
see counts below 5 as <5 (and no rate or change that would give one back).
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import common
from pipelines import downloads, mapview, views

viewer = common.require("profile")
filters = common.sidebar()
names = common.areas().set_index("code")["name"]
st.title(
    f"Safe Neighbourhood profile: {names[filters.neighbourhood]}"
    if filters.neighbourhood
    else "Safe Neighbourhood profile"
)
if filters.neighbourhood is None:
    st.info("Choose a Safe Neighbourhood in the sidebar.")
    st.stop()
if not filters.months:
    st.warning("No incidents are stored yet.")
    st.stop()
month = filters.months[1]
stats = common.profile_stats(filters, month)

cols = st.columns(4)
cols[0].metric(f"Incidents in {month}", stats.incidents, **common.change_delta(stats.change))
cols[1].metric(
    "Per 1,000 residents",
    stats.rate_per_1000,
    help="Smoothed: a neighbourhood with few residents is pulled towards the rate of all neighbourhoods. "
    + common.population_source("neighbourhood"),
)
cols[2].metric("Community share of reports", stats.community_share)
cols[3].metric("Residents", "n/a" if filters.population is None else f"{filters.population:,.0f}")
meaning = st.columns(2)
if term := common.change_term(stats.change):
    common.explain(term, where=meaning[0])
common.explain("Smoothed rate (per 1,000 residents)", where=meaning[1])
if stats.suppressed:
    st.caption(
        "Counts below 5 are shown as <5 and left out of the chart; rates and changes that would reveal them are withheld."
    )

st.plotly_chart(
    px.line(
        stats.trend,
        x="month",
        y="count",
        color="category",
        markers=True,
        hover_data={"shown": True, "count": False},
        title="Incidents per month by category",
        labels={"month": "Month", "count": "Incidents", "category": "Category", "shown": "Incidents"},
    ),
    width="stretch",
)

left, right = st.columns(2)
left.subheader("Hot spots this period")
span = (filters.months[1] - filters.months[0]).n + 1
hot = common.hotspots(filters.neighbourhood, months=span, until=month, include_partial=filters.include_partial)
common.explain("Hot spot", where=left)
if filters.hotspot_note:
    left.info(filters.hotspot_note)
for message in hot.messages:
    left.caption(message)
if stats.unmapped:
    left.caption(stats.unmapped)
left.caption("Small hexagons compared with those around them; the same classes as the map.")
left.table(views.hotspot_summary(hot.cells).set_index("Hot spot"))  # a table: the meanings wrap
if viewer.may("statistics"):
    with left.expander("How we know: each hexagon's statistics"):
        st.caption(mapview.hotspot_caption(hot.months, hot.resolution, statistics=True))
        st.dataframe(views.top_hotspots(hot.cells, statistics=True), hide_index=True, width="stretch")
right.subheader("Assets")
assets = common.table("assets", viewer)
right.dataframe(
    views.register_rows(assets[assets["neighbourhood_code"] == filters.neighbourhood], views.ASSET_FIELDS),
    hide_index=True,
    width="stretch",
)
st.subheader("Interventions")
interventions = common.table("interventions", viewer)
st.dataframe(
    views.register_rows(
        interventions[interventions["neighbourhood_code"] == filters.neighbourhood], views.INTERVENTION_FIELDS
    ),
    hide_index=True,
    width="stretch",
)
common.offer_downloads(
    downloads.profile_view(
        stats, hot.cells, areas=common.areas(), assets=assets, interventions=interventions,
        code=filters.neighbourhood, period=common.period_words(filters), statistics=viewer.may("statistics"),
    ),
    key="p_download",
)  # fmt: skip

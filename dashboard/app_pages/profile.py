"""Safe Neighbourhood profile: KPIs, monthly trend, hotspots, assets and interventions.

Every number comes from ``pipelines.privacy.profile_stats`` / ``published_hotspots``: the public and CSOs
see counts below 5 as <5 (and no rate or change that would give one back).
"""

from __future__ import annotations

import streamlit as st

from dashboard import common, loaders, panels, sidebar
from pipelines import downloads, views

viewer = common.require("profile")
filters = sidebar.filters()
name = views.area_name(loaders.areas(), filters.neighbourhood)
st.title(f"Safe Neighbourhood profile: {name}" if filters.neighbourhood else "Safe Neighbourhood profile")
if filters.neighbourhood is None:
    st.info("Choose a Safe Neighbourhood in the sidebar.")
    st.stop()
if not filters.months:
    st.warning("No incidents are stored yet.")
    st.stop()
month = filters.months[1]
stats = loaders.profile_stats(filters, month)
panels.profile_numbers(stats, month=month, population=filters.population)

left, right = st.columns(2)
hot = panels.period_hotspots(filters)
panels.profile_hotspots(hot, stats, filters=filters, viewer=viewer, where=left)
right.subheader("Assets")
assets = loaders.table("assets", viewer)
panels.register_table(views.neighbourhood_rows(assets, filters.neighbourhood, views.ASSET_FIELDS), where=right)
st.subheader("Interventions")
interventions = loaders.table("interventions", viewer)
panels.register_table(views.neighbourhood_rows(interventions, filters.neighbourhood, views.INTERVENTION_FIELDS))
common.offer_downloads(
    downloads.profile_view(
        stats, hot.cells, areas=loaders.areas(), assets=assets, interventions=interventions,
        code=filters.neighbourhood, period=sidebar.period_words(filters), statistics=viewer.may("statistics"),
    ),
    key="p_download",
    scope="for the Safe Neighbourhood and months chosen in the sidebar",
)  # fmt: skip

"""Safe Neighbourhood profile: KPIs, monthly trend, hotspots, assets and interventions."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboard import common
from pipelines import views

filters = common.sidebar()
st.title("Safe Neighbourhood profile")
incidents, months = common.neighbourhood_incidents(filters)
month = filters.months[1] if filters.months else months[0]
kpis = views.profile_kpis(incidents, month=month, population=filters.population)

cols = st.columns(4)
cols[0].metric(
    f"Incidents in {month}", f"{kpis.incidents:,}", delta=f"{kpis.change:+,} vs {month - 1}", delta_color="inverse"
)
cols[1].metric("Per 1,000 residents", "n/a" if kpis.rate_per_1000 is None else f"{kpis.rate_per_1000:.2f}")
cols[2].metric("Community share of reports", "n/a" if kpis.community_share is None else f"{kpis.community_share:.0%}")
cols[3].metric("Residents", "n/a" if filters.population is None else f"{filters.population:,.0f}")

in_period = common.incidents(filters.query())
trend = views.monthly_trend(in_period)
st.plotly_chart(
    px.line(trend, x="month", y="count", color="category", markers=True, title="Incidents per month by category"),
    use_container_width=True,
)

left, right = st.columns(2)
left.subheader("Hot spots (Gi*, this period)")
span = (filters.months[1] - filters.months[0]).n + 1 if filters.months else 12
hot = common.hotspots(filters.neighbourhood, months=span, until=month)
for message in hot.messages:
    left.caption(message)
left.dataframe(views.top_hotspots(hot.cells), hide_index=True, use_container_width=True)
right.subheader("Assets")
assets = common.table("assets")
right.dataframe(
    assets[assets["neighbourhood_code"] == filters.neighbourhood].drop(columns="geometry"),
    hide_index=True,
    use_container_width=True,
)
st.subheader("Interventions")
interventions = common.table("interventions")
st.dataframe(
    interventions[interventions["neighbourhood_code"] == filters.neighbourhood].drop(columns="geometry"),
    hide_index=True,
    use_container_width=True,
)

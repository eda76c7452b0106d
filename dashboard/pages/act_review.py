"""ACT meeting review: one neighbourhood, one month, large type for the projector."""

from __future__ import annotations

import streamlit as st

from dashboard import common
from pipelines import views

# Projector mode: larger type and high-contrast tables; nothing else on the page.
st.markdown(
    "<style>html, body, [class*='st-'] {font-size: 1.25rem;} [data-testid='stMetricValue'] {font-size: 3rem;}"
    " h1 {font-size: 2.6rem;} [data-testid='stTable'] td, [data-testid='stTable'] th {font-size: 1.2rem;"
    " color: #000;}</style>",
    unsafe_allow_html=True,
)
filters = common.sidebar()
if filters.neighbourhood is None:
    st.info("Choose a Safe Neighbourhood in the sidebar.")
    st.stop()
incidents = common.incidents(filters.query(whole_period=True))
months = views.available_months(incidents)
if not months:
    st.warning("No incidents match these filters.")
    st.stop()
month = st.selectbox("Meeting month", months, key="act_month", format_func=str)
name = common.areas().set_index("code")["name"].get(filters.neighbourhood)
st.title(f"ACT review: {name}, {month}")

change = views.category_change(incidents, month=month)
kpis = views.profile_kpis(incidents, month=month, population=filters.population)
cols = st.columns(3)
cols[0].metric("Incidents", f"{kpis.incidents:,}", delta=f"{kpis.change:+,} vs {month - 1}", delta_color="inverse")
cols[1].metric("Per 1,000 residents", "n/a" if kpis.rate_per_1000 is None else f"{kpis.rate_per_1000:.2f}")
reports = views.new_community_reports(incidents, month=month)
cols[2].metric("New community reports", f"{len(reports):,}")

st.header("By category")
st.table(change.head(10).set_index("category"))
st.header("Hotspots (H3 cells)")
st.table(views.hotspot_persistence(incidents, month=month, n=5).set_index("cell"))
st.header("Interventions needing attention")
review = views.intervention_review(
    common.table("interventions").query("neighbourhood_code == @filters.neighbourhood"),
    common.table("intervention_log"),
    month=month,
)
if len(review):
    st.table(review.set_index("name"))
else:
    st.success("No intervention changed status, is overdue or stalled.")
st.header("Community reports this month")
st.table(reports.head(15)) if len(reports) else st.caption("None this month.")
